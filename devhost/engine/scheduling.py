"""Turn the replay's new tasks into history events, work items, timers and messages (§4.4)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from ..store.base import ActivityWorkItem, Message, OrchestrationInstance, RuntimeStatus
from . import history as h
from .replay import NewTask, TaskKind


@dataclass
class Functions:
    """What an episode needs to know about the app's functions (names are case-insensitive)."""

    orchestrators: dict[str, str]
    activities: dict[str, str]


HTTP_ACTIVITY = "BuiltIn::HttpActivity"


@dataclass
class Scheduled:
    events: list[h.HistoryEvent] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    activities: list[ActivityWorkItem] = field(default_factory=list)
    started: list[tuple[OrchestrationInstance, Message]] = field(default_factory=list)


def schedule_new_tasks(
    instance: OrchestrationInstance, tasks: tuple[NewTask, ...], now: datetime, functions: Functions
) -> Scheduled:
    """Scheduling events (in id order) and the work they start.

    Work item and message ids are derived from instance, execution and sequence id, so
    committing the same episode twice (after a crash) enqueues nothing twice.
    """
    out = Scheduled()
    base = f"{instance.instance_id}:{instance.execution_id}"
    for task in sorted(tasks, key=lambda t: t.task_id):
        ident = f"{base}:{task.task_id}"
        if task.kind is TaskKind.ACTIVITY:
            name = HTTP_ACTIVITY if task.http_request is not None else functions.activities[(task.name or "").lower()]
            payload = json.dumps(task.http_request) if task.http_request is not None else task.input
            out.events.append(h.event(
                h.EventType.TaskScheduled, now, task.task_id, Name=name, Version="", Input=None
            ))
            out.activities.append(ActivityWorkItem(
                message_id=ident, instance_id=instance.instance_id, execution_id=instance.execution_id,
                task_id=task.task_id, name=name, input=payload,
            ))
        elif task.kind is TaskKind.TIMER:
            fire_at = h.format_timestamp(task.fire_at or now)
            out.events.append(h.event(h.EventType.TimerCreated, now, task.task_id, FireAt=fire_at))
            if not task.canceled:
                fired = h.timer_fired(now, task.task_id, fire_at)
                out.messages.append(Message(
                    f"{ident}:timer", instance.instance_id, fired, instance.execution_id, visible_at=task.fire_at
                ))
        elif task.kind is TaskKind.SUB_ORCHESTRATION:
            out.events.append(h.event(
                h.EventType.SubOrchestrationInstanceCreated, now, task.task_id,
                Name=task.name, Version=task.version or "", InstanceId=task.instance_id, Input=None,
            ))
            out.started.append(_child(instance, task, now, functions))
        else:
            out.events.append(_event_sent(instance, task, now, out))
    return out


def _child(
    parent: OrchestrationInstance, task: NewTask, now: datetime, functions: Functions
) -> tuple[OrchestrationInstance, Message]:
    name = functions.orchestrators[(task.name or "").lower()]
    child_id = task.instance_id or f"{parent.execution_id}:{task.task_id}"
    execution_id = h.new_execution_id()
    stored_input = json.dumps(task.input) if task.input is not None else None
    start = h.execution_started(
        now, instance_id=child_id, execution_id=execution_id, name=name, input=stored_input,
        version=task.version or "",
        parent=h.parent_instance(parent.name, parent.instance_id, parent.execution_id, task.task_id),
    )
    child = OrchestrationInstance(
        instance_id=child_id, name=name, execution_id=execution_id, runtime_status=RuntimeStatus.PENDING,
        created_time=now, last_updated_time=now, input=stored_input,
        parent_instance_id=parent.instance_id, version=task.version or "",
    )
    message_id = f"{parent.instance_id}:{parent.execution_id}:{task.task_id}:start"
    return child, Message(message_id, child_id, start, execution_id)


def _event_sent(instance: OrchestrationInstance, task: NewTask, now: datetime, out: Scheduled) -> h.HistoryEvent:
    """Entity signal or call: an ``EventSent`` plus the operation message to the entity."""
    request_id = f"{instance.execution_id[:8]}-{task.task_id:04d}-4000-8000-{instance.execution_id[-12:]}"
    request = {
        "op": task.name,
        "input": task.input,
        "id": request_id,
        "parent": instance.instance_id,
        "parentExecution": instance.execution_id,
    }
    if task.kind is TaskKind.ENTITY_SIGNAL:
        request["signal"] = True
    body = json.dumps(request)
    target = task.instance_id or ""
    raised = h.event_raised(now, "op", body)
    out.messages.append(Message(f"{instance.instance_id}:{instance.execution_id}:{task.task_id}:op", target, raised))
    return h.event(h.EventType.EventSent, now, task.task_id, InstanceId=target, Name="op", Input=body)
