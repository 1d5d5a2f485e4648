"""History events as the SDK reads them: factories, event types and timestamps.

Events are plain dicts with PascalCase keys and an integer ``EventType``, exactly the JSON
the Durable extension sends to the Python worker (``durable-protocol.md`` §2.3).
"""

from __future__ import annotations

import enum
import functools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

HistoryEvent = dict[str, Any]


class EventType(enum.IntEnum):
    """DTFx history event types (integer values as serialized)."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20


@functools.lru_cache(maxsize=256)  # an episode stamps all its events with one moment
def format_timestamp(moment: datetime) -> str:
    """``2024-05-01T10:00:00.1234560Z``: UTC, seven fraction digits, like .NET writes them."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def parse_timestamp(text: str) -> datetime:
    """Parse the ISO-8601 UTC timestamps found in history (``Z`` suffix, 0-7 fraction digits)."""
    from .fastdates import parse_utc

    return parse_utc(text)


def new_execution_id() -> str:
    return uuid.uuid4().hex


def event(event_type: EventType, moment: datetime, event_id: int = -1, **fields: Any) -> HistoryEvent:
    """A history event dict with the four keys the SDK requires plus ``fields``."""
    return {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_timestamp(moment),
        **fields,
    }


def execution_started(
    moment: datetime,
    *,
    instance_id: str,
    execution_id: str,
    name: str,
    input: str | None,
    version: str = "",
    parent: dict[str, Any] | None = None,
    generation: int = 0,
) -> HistoryEvent:
    """``ExecutionStarted``; ``input`` is the stored JSON text (``None`` -> ``"null"``)."""
    return event(
        EventType.ExecutionStarted,
        moment,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=parent,
        Name=name,
        Version=version or "",
        Input=input if input is not None else "null",
        Tags=None,
        Correlation=None,
        ScheduledStartTime=None,
        Generation=generation,
    )


def parent_instance(name: str, instance_id: str, execution_id: str, task_id: int) -> dict[str, Any]:
    """The ``ParentInstance`` of a sub-orchestration's ``ExecutionStarted``."""
    return {
        "Name": name,
        "Version": "",
        "TaskScheduleId": task_id,
        "OrchestrationInstance": {"InstanceId": instance_id, "ExecutionId": execution_id},
    }


def event_raised(moment: datetime, name: str, input: str | None) -> HistoryEvent:
    """An external event; ``input`` is JSON text as received (``None`` -> ``null``)."""
    return event(EventType.EventRaised, moment, Name=name, Input=input)


def execution_terminated(moment: datetime, reason: str | None) -> HistoryEvent:
    return event(EventType.ExecutionTerminated, moment, Input=reason or "")


def execution_suspended(moment: datetime, reason: str | None) -> HistoryEvent:
    return event(EventType.ExecutionSuspended, moment, Reason=reason or "")


def execution_resumed(moment: datetime, reason: str | None) -> HistoryEvent:
    return event(EventType.ExecutionResumed, moment, Reason=reason or "")


def task_completed(moment: datetime, task_id: int, result: str | None) -> HistoryEvent:
    return event(EventType.TaskCompleted, moment, TaskScheduledId=task_id, Result=result)


def task_failed(moment: datetime, task_id: int, reason: str, details: str | None) -> HistoryEvent:
    return event(EventType.TaskFailed, moment, TaskScheduledId=task_id, Reason=reason, Details=details)


def activity_failure(name: str, exc: BaseException, stack: str) -> tuple[str, str]:
    """``(Reason, Details)`` for a failed activity, shaped like the real host's."""
    friendly = f" {type(exc).__name__}: {exc}"
    reason = f"Activity function '{name}' failed: {friendly}"
    details = json.dumps({"Message": friendly, "StackTrace": stack})
    return reason, details


def timer_fired(moment: datetime, timer_id: int, fire_at: str) -> HistoryEvent:
    return event(EventType.TimerFired, moment, TimerId=timer_id, FireAt=fire_at)


def orchestrator_started(moment: datetime) -> HistoryEvent:
    return event(EventType.OrchestratorStarted, moment)


def orchestrator_completed(moment: datetime) -> HistoryEvent:
    return event(EventType.OrchestratorCompleted, moment)


def type_name(evt: HistoryEvent) -> str:
    """The event type's name (``"TaskCompleted"``)."""
    return EventType(evt["EventType"]).name
