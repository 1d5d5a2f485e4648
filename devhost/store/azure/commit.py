"""Turn an :class:`~devhost.store.base.EpisodeCommit` into one checkpoint, ready to write.

Preparing does every upload first (large history fields, payload columns, message bodies,
a large outbox), so what follows is: one conditional table transaction (history rows +
sentinel: the commit point), the instance row, the outbox, the deletion of consumed
messages.  Nothing here writes a table or a queue.

A checkpoint is written *open* (``IsCheckpointComplete = false``) while anything after it must
still happen: sends (:mod:`.deferred`), and a row whose status changes.  The extension's
tracking store writes the row after the history too, and deletes the consumed queue messages
only after the row, so a crash in between brings them back and the row is written then; a
completion handed over here has no queue copy, so it is the open checkpoint that the next
owner's recovery finds (:mod:`.recovery`) and finishes.  Once the row is out, housekeeping
marks it complete.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..base import ActivityWorkItem, EpisodeCommit, HistoryEvent, Message, OrchestrationInstance
from . import codec, envelopes, names
from .checkpoint import Outbox, Sentinel
from .deferred import Carried
from .envelopes import Send
from .hub import Hub
from .payloads import TABLE_PROPERTY_LIMIT
from .state import InstanceState, offload_event, row_columns


@dataclass
class Prepared:
    """A checkpoint ready to write, and what the store keeps once it is written."""

    rows: list[tuple[int, dict[str, Any]]]
    history: list[HistoryEvent]
    row: dict[str, Any]
    sentinel: Sentinel
    outbox: Outbox
    originals: dict[str, Message | ActivityWorkItem] = field(default_factory=dict)


async def prepare(
    hub: Hub, state: InstanceState, commit: EpisodeCommit, when: datetime, carried: Carried | None = None
) -> Prepared:
    """``carried``: sends of earlier checkpoints still open (:mod:`.deferred`); the sentinel names
    them too, but they are not sent again.  The checkpoint is open while they, its outbox, or a
    status change of its row are not out."""
    instance = commit.instance
    assert instance is not None
    carried = carried or Carried()
    restart = commit.new_execution or state.fresh
    base = 0 if restart else len(state.history)
    history = [*([] if restart else state.history), *commit.history]
    checkpoint = state.checkpoint + 1
    execution = {"ExecutionId": instance.execution_id}
    rows_task = asyncio.gather(*(
        offload_event(hub, instance.instance_id, base + i, {**codec.encode_event(event), **execution})
        for i, event in enumerate(commit.history)
    ))
    row_task = row_columns(hub, state, instance, checkpoint)
    outbox_task = prepare_outbox(hub, commit.messages, commit.activities, commit.started)
    encoded, row, (outbox, originals) = await asyncio.gather(rows_task, row_task, outbox_task)
    status_changes = (state.row_columns or {}).get("RuntimeStatus") != row.get("RuntimeStatus")
    sentinel = Sentinel(
        instance_id=instance.instance_id,
        execution_id=instance.execution_id,
        checkpoint=checkpoint,
        generation=instance.generation,
        history_length=len(history),
        complete=not (outbox or carried or status_changes),
        consumed=state.consumed.add(list(commit.consumed), int(when.timestamp()),
                                    hub.options.consumed_retention_seconds),
        carried_blobs=carried.blobs,
        snapshot=row,
    )
    named = outbox + Outbox(carried.sends)
    if named:
        text = named.encode()
        if len(text) * 2 > TABLE_PROPERTY_LIMIT:
            blob = names.outbox_blob_name(instance.instance_id, checkpoint)
            sentinel.outbox_blob = await hub.payloads.upload(blob, text)
        else:
            sentinel.outbox_text = text
    rows = [(base + i, columns) for i, columns in enumerate(encoded)]
    return Prepared(rows, history, row, sentinel, outbox, originals)


async def prepare_outbox(
    hub: Hub,
    messages: Sequence[Message],
    activities: Sequence[ActivityWorkItem] = (),
    started: Sequence[tuple[OrchestrationInstance, Message]] = (),
) -> tuple[Outbox, dict[str, Message | ActivityWorkItem]]:
    """Message bodies (uploaded when large) for everything a commit sends."""
    originals: dict[str, Message | ActivityWorkItem] = {}
    for message in messages:
        originals[message.message_id] = message
    for item in activities:
        originals[item.message_id] = item
    for _child, start in started:
        originals[start.message_id] = start
    sends = await asyncio.gather(
        *(envelopes.prepare_message(m, hub.payloads) for m in messages),
        *(envelopes.prepare_work_item(a, hub.payloads) for a in activities),
    )
    children = await asyncio.gather(*(_prepare_child(hub, child, start) for child, start in started))
    return Outbox(tuple(sends), tuple(children)), originals


async def _prepare_child(
    hub: Hub, child: OrchestrationInstance, start: Message
) -> tuple[str, dict[str, Any], Send]:
    scratch = InstanceState(child.instance_id, hub.names.partition(child.instance_id), None)
    columns = await row_columns(hub, scratch, child, 0)
    return child.instance_id, columns, await envelopes.prepare_message(start, hub.payloads)
