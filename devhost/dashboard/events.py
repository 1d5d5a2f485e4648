"""The history table: one row per history event, with completions joined to what they complete."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.history import EventType, HistoryEvent, parse_timestamp
from .svg import duration_text

_ORIGINS = (EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated, EventType.TimerCreated)
_COMPLETES = {
    EventType.TaskCompleted: "TaskScheduledId",
    EventType.TaskFailed: "TaskScheduledId",
    EventType.SubOrchestrationInstanceCompleted: "TaskScheduledId",
    EventType.SubOrchestrationInstanceFailed: "TaskScheduledId",
    EventType.TimerFired: "TimerId",
}
_FAILURES = {EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed, EventType.ExecutionFailed}
_STATUS_NAMES = {0: "Running", 1: "Completed", 2: "ContinuedAsNew", 3: "Failed", 4: "Canceled",
                 5: "Terminated", 6: "Pending", 7: "Suspended"}


@dataclass(frozen=True)
class HistoryRow:
    position: int
    event_type: str
    name: str
    task_id: int | None
    timestamp: str  # ISO, as stored
    scheduled: str
    duration: str
    result: str
    failure: str
    failure_details: str
    replay_marker: bool  # OrchestratorStarted / OrchestratorCompleted
    instance_id: str | None = None  # a sub-orchestration's


def history_rows(history: list[HistoryEvent]) -> list[HistoryRow]:
    """Rows oldest first; durations are from scheduling to completion."""
    origins = {e.get("EventId"): e for e in history if e["EventType"] in _ORIGINS and e.get("EventId", -1) >= 0}
    rows: list[HistoryRow] = []
    for position, event in enumerate(history):
        kind = EventType(event["EventType"])
        origin = origins.get(event.get(_COMPLETES[kind])) if kind in _COMPLETES else None
        task_id = event.get(_COMPLETES[kind]) if kind in _COMPLETES else event.get("EventId")
        source = origin or event
        duration = ""
        scheduled = ""
        if origin is not None:
            scheduled = str(origin.get("Timestamp", ""))
            ended = event.get("FireAt") if kind == EventType.TimerFired else None  # not when it was queued
            seconds = (parse_timestamp(ended or event["Timestamp"]) - parse_timestamp(scheduled)).total_seconds()
            duration = duration_text(seconds)
        rows.append(HistoryRow(
            position=position,
            event_type=kind.name,
            name=_name(kind, event, source),
            task_id=task_id if isinstance(task_id, int) and task_id >= 0 else None,
            timestamp=str(event.get("Timestamp", "")),
            scheduled=scheduled,
            duration=duration,
            result=_result(kind, event),
            failure=_failure(kind, event),
            failure_details=_failure_details(kind, event),
            replay_marker=kind in (EventType.OrchestratorStarted, EventType.OrchestratorCompleted),
            instance_id=source.get("InstanceId") if source.get("EventType") == EventType.SubOrchestrationInstanceCreated
            else None,
        ))
    return rows


def _name(kind: EventType, event: HistoryEvent, source: HistoryEvent) -> str:
    if kind in (EventType.TimerCreated, EventType.TimerFired):
        return f"fire at {event.get('FireAt') or source.get('FireAt') or '?'}"
    if kind == EventType.ExecutionCompleted:
        code = event.get("OrchestrationStatus")
        return _STATUS_NAMES.get(code, str(code)) if isinstance(code, int) else str(code or "")
    if kind == EventType.EventSent:
        return f"{event.get('Name') or ''} → {event.get('InstanceId') or ''}"
    return str(source.get("Name") or "")


def _result(kind: EventType, event: HistoryEvent) -> str:
    if kind in _FAILURES:
        return ""
    if kind == EventType.ExecutionCompleted and event.get("OrchestrationStatus") == 3:
        return ""
    for key in ("Result", "Input", "Reason"):
        value = event.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def _failure(kind: EventType, event: HistoryEvent) -> str:
    if kind in _FAILURES or (kind == EventType.ExecutionCompleted and event.get("OrchestrationStatus") == 3):
        return str(event.get("Reason") or event.get("Result") or "failed").strip().partition("\n")[0]
    return ""


def _failure_details(kind: EventType, event: HistoryEvent) -> str:
    """What follows the failure's first line: the activity's ``Details``, or the rest of the text."""
    if kind in _FAILURES and event.get("Details"):
        return str(event["Details"])
    if kind in _FAILURES or (kind == EventType.ExecutionCompleted and event.get("OrchestrationStatus") == 3):
        return str(event.get("Reason") or event.get("Result") or "").strip().partition("\n")[2].strip()
    return ""
