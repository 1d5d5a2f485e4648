"""Queue message bodies, shaped like DurableTask.AzureStorage's ``MessageData``.

A control-queue message carries one history event for an instance; a work-item message
carries a ``TaskScheduled`` event for an activity.  devhost adds ``VisibleAt`` (a durable
timer's due time on the *engine's* clock; the queue's own visibility delay is not used for
it, so virtual time works).  ``ActivityId`` holds devhost's message id, which makes
redelivered and resent messages recognisable, and ``SequenceNumber`` (nanoseconds since the
epoch, strictly increasing per process) keeps the send order of messages put concurrently
or received again after a crash.  A body over 45 KiB is uploaded to
``{hub}-largemessages`` and the queue holds a stub naming it in ``CompressedBlobName``.

:class:`Send` is one message ready to be put: its body already small enough, its large
payload already uploaded, so a crash-recovery resend can put the same body again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..base import ActivityWorkItem, Message
from . import names
from .codec import event_type_name
from .payloads import QUEUE_MESSAGE_LIMIT, LargePayloads

MESSAGE_DATA = "DurableTask.AzureStorage.MessageData"
TASK_MESSAGE = "DurableTask.Core.TaskMessage"
CONTROL = "control"
WORK_ITEM = "workitem"
_sequence = 0


def next_sequence() -> int:
    """A number above every one this process handed out before, close to wall-clock nanoseconds."""
    global _sequence
    _sequence = max(_sequence + 1, time.time_ns())
    return _sequence


@dataclass(frozen=True)
class Send:
    """A message ready to put: ``kind`` is ``control`` (to ``instance_id``'s partition) or
    ``workitem``; ``task_id`` names the activity of a work item (to skip it on resend once
    its completion is known)."""

    kind: str
    message_id: str
    instance_id: str
    execution_id: str | None
    body: str
    task_id: int | None = None
    sequence: int = 0

    def to_json(self) -> list[Any]:
        return [self.kind, self.message_id, self.instance_id, self.execution_id, self.body, self.task_id,
                self.sequence]

    @classmethod
    def from_json(cls, data: list[Any]) -> Send:
        return cls(*data)


def message_body(message: Message) -> dict[str, Any]:
    return _envelope(
        message.message_id, message.instance_id, message.execution_id, message.event,
        visible_at=message.visible_at,
    )


def work_item_body(item: ActivityWorkItem) -> dict[str, Any]:
    event = {"EventType": 4, "EventId": item.task_id, "IsPlayed": False, "Name": item.name, "Version": "",
             "Input": item.input}
    return _envelope(item.message_id, item.instance_id, item.execution_id, event)


async def prepare_message(message: Message, payloads: LargePayloads) -> Send:
    envelope = message_body(message)
    body = await _fit(envelope, message.instance_id, payloads)
    return Send(CONTROL, message.message_id, message.instance_id, message.execution_id, body,
                sequence=envelope["SequenceNumber"])


async def prepare_work_item(item: ActivityWorkItem, payloads: LargePayloads) -> Send:
    body = await _fit(work_item_body(item), item.instance_id, payloads)
    return Send(WORK_ITEM, item.message_id, item.instance_id, item.execution_id, body, item.task_id)


async def read_body(text: str, payloads: LargePayloads) -> dict[str, Any]:
    """The full envelope of a queue message (downloading it when it went to a blob)."""
    data = json.loads(text)
    blob = data.get("CompressedBlobName")
    if blob:
        data = json.loads(await payloads.download(blob))
    return data


def sequence_of(data: dict[str, Any]) -> int:
    value = data.get("SequenceNumber")
    return value if isinstance(value, int) and value > 0 else next_sequence()


def to_message(data: dict[str, Any]) -> Message:
    task = data["TaskMessage"]
    ids = task["OrchestrationInstance"]
    visible_at = data.get("VisibleAt")
    return Message(
        message_id=data["ActivityId"],
        instance_id=ids["InstanceId"],
        event=task["Event"],
        execution_id=ids.get("ExecutionId"),
        visible_at=datetime.fromisoformat(visible_at) if visible_at else None,
    )


def is_completion(data: dict[str, Any]) -> bool:
    """A work-item queue message that holds its activity's completion instead (kept there
    until an episode consumed it: :meth:`~.activities.WorkItems.complete`)."""
    return data["TaskMessage"]["Event"].get("EventType") != 4  # not TaskScheduled


def to_work_item(data: dict[str, Any], dequeue_count: int) -> ActivityWorkItem:
    task = data["TaskMessage"]
    ids = task["OrchestrationInstance"]
    event = task["Event"]
    return ActivityWorkItem(
        message_id=data["ActivityId"],
        instance_id=ids["InstanceId"],
        execution_id=ids.get("ExecutionId") or "",
        task_id=event["EventId"],
        name=event["Name"],
        input=event.get("Input"),
        dequeue_count=dequeue_count,
    )


def _envelope(
    message_id: str, instance_id: str, execution_id: str | None, event: dict[str, Any],
    *, visible_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "$type": MESSAGE_DATA,
        "ActivityId": message_id,
        "TaskMessage": {
            "$type": TASK_MESSAGE,
            "Event": event,
            "OrchestrationInstance": {"InstanceId": instance_id, "ExecutionId": execution_id},
        },
        "CompressedBlobName": None,
        "SequenceNumber": next_sequence(),
        "VisibleAt": visible_at.isoformat() if visible_at else None,
    }


async def _fit(envelope: dict[str, Any], instance_id: str, payloads: LargePayloads) -> str:
    """The body to put: the envelope itself, or a stub naming the blob that holds it."""
    text = json.dumps(envelope, separators=(",", ":"))  # ASCII only: safe in the queue's XML
    if len(text) <= QUEUE_MESSAGE_LIMIT:
        return text
    event_type = event_type_name(envelope["TaskMessage"]["Event"])
    name = names.message_blob_name(instance_id, envelope["ActivityId"], event_type)
    await payloads.upload(name, text)
    stub = {"$type": MESSAGE_DATA, "ActivityId": envelope["ActivityId"], "CompressedBlobName": name,
            "SequenceNumber": envelope["SequenceNumber"], "VisibleAt": envelope["VisibleAt"]}
    return json.dumps(stub, separators=(",", ":"))
