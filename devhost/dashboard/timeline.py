"""The timeline of one execution: every activity, sub-orchestration, timer, entity call and
external-event wait as a bar across time, derived from history alone (pure, no I/O).

History records when a task was scheduled and when its result arrived, so those bars are
exact.  It does not record when an orchestrator *began* waiting for an external event, only
when the event arrived; such a bar starts at the earliest moment the wait can have begun (the
execution's start, or the arrival of the previous event of that name) and says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..engine.history import EventType, HistoryEvent, parse_timestamp

KINDS = ("activity", "suborchestration", "timer", "entity", "event")
_DONE = {
    EventType.TaskCompleted: "completed",
    EventType.TaskFailed: "failed",
    EventType.SubOrchestrationInstanceCompleted: "completed",
    EventType.SubOrchestrationInstanceFailed: "failed",
}


@dataclass(frozen=True)
class Bar:
    """One task across time; ``end`` is ``None`` while it is still open."""

    kind: str
    label: str
    start: datetime
    end: datetime | None
    outcome: str  # completed | failed | pending | fired | canceled | received | waiting
    task_id: int | None = None
    instance_id: str | None = None  # the sub-orchestration's (for a link)
    detail: str = ""


@dataclass(frozen=True)
class Timeline:
    """Bars oldest first, on an axis from ``start`` to ``end``."""

    bars: list[Bar]
    start: datetime
    end: datetime

    def position(self, moment: datetime) -> float:
        """Where ``moment`` falls on the axis, 0.0 to 1.0 (clipped)."""
        span = (self.end - self.start).total_seconds()
        if span <= 0:
            return 0.0
        return min(1.0, max(0.0, (moment - self.start).total_seconds() / span))


def build_timeline(history: list[HistoryEvent], now: datetime, *, running: bool) -> Timeline | None:
    """The timeline of ``history``; ``now`` closes open bars of a running instance."""
    if not history:
        return None
    times = [parse_timestamp(e["Timestamp"]) for e in history]
    start = times[0]
    finished = _finished_at(history, times)
    axis_end = max([*times, now]) if running and finished is None else max(times)
    bars: list[Bar] = []
    opened: dict[int, tuple[EventType, HistoryEvent, datetime]] = {}
    entity_calls: dict[str, tuple[HistoryEvent, datetime]] = {}
    last_arrival: dict[str, datetime] = {}
    for event, moment in zip(history, times, strict=True):
        kind = EventType(event["EventType"])
        if kind in (EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated, EventType.TimerCreated):
            opened[event.get("EventId", -1)] = (kind, event, moment)
        elif kind == EventType.EventSent and str(event.get("InstanceId", "")).startswith("@"):
            request_id = _request_id(event)
            if request_id:
                entity_calls[request_id] = (event, moment)
        elif kind in _DONE and event.get("TaskScheduledId") in opened:
            origin_kind, origin, began = opened.pop(event["TaskScheduledId"])
            bars.append(_task_bar(origin_kind, origin, began, moment, _DONE[kind], _failure(event)))
        elif kind == EventType.TimerFired and event.get("TimerId") in opened:
            _, origin, began = opened.pop(event["TimerId"])
            fired = parse_timestamp(event["FireAt"]) if event.get("FireAt") else moment  # not when queued
            bars.append(Bar("timer", _timer_label(origin), began, max(began, fired), "fired", origin.get("EventId")))
        elif kind == EventType.EventRaised:
            name = str(event.get("Name") or "")
            if name in entity_calls:
                sent, began = entity_calls.pop(name)
                bars.append(Bar("entity", _entity_label(sent), began, moment, "completed", sent.get("EventId")))
                continue
            began = last_arrival.get(name, start)
            last_arrival[name] = moment
            detail = "waited at most this long (history records the arrival only)"
            bars.append(Bar("event", f"event {name}", began, moment, "received", detail=detail))
    open_outcome = "pending" if running and finished is None else "canceled"
    for origin_kind, origin, began in opened.values():
        end = None if open_outcome == "pending" else finished
        bars.append(_task_bar(origin_kind, origin, began, end, open_outcome, ""))
    for sent, began in entity_calls.values():
        end = None if open_outcome == "pending" else finished
        bars.append(Bar("entity", _entity_label(sent), began, end, open_outcome, sent.get("EventId")))
    if running and finished is None and not any(b.end is None and b.kind != "timer" for b in bars):
        began = max([start, *last_arrival.values()])
        bars.append(Bar("event", "awaiting an external event", began, None, "waiting",
                        detail="nothing else is open: the orchestrator waits for an event (or is idle)"))
    bars.sort(key=lambda b: (b.start, b.task_id if b.task_id is not None else 1 << 30))
    return Timeline(bars, start, axis_end)


def _finished_at(history: list[HistoryEvent], times: list[datetime]) -> datetime | None:
    for event, moment in zip(history, times, strict=True):
        if event["EventType"] in (EventType.ExecutionCompleted, EventType.ExecutionTerminated,
                                  EventType.ExecutionFailed, EventType.ContinueAsNew):
            return moment
    return None


def _task_bar(
    kind: EventType, origin: HistoryEvent, began: datetime, end: datetime | None, outcome: str, detail: str
) -> Bar:
    task_id = origin.get("EventId")
    if kind == EventType.TimerCreated:
        fire_at = origin.get("FireAt")
        if end is None and fire_at:
            detail = f"fires at {fire_at}"
        return Bar("timer", _timer_label(origin), began, end, outcome, task_id, detail=detail)
    if kind == EventType.SubOrchestrationInstanceCreated:
        return Bar("suborchestration", str(origin.get("Name") or "?"), began, end, outcome, task_id,
                   instance_id=origin.get("InstanceId"), detail=detail)
    return Bar("activity", str(origin.get("Name") or "?"), began, end, outcome, task_id, detail=detail)


def _timer_label(origin: HistoryEvent) -> str:
    fire_at = str(origin.get("FireAt") or "")
    return f"timer until {fire_at[11:19]}" if len(fire_at) >= 19 else "timer"


def _entity_label(sent: HistoryEvent) -> str:
    target = str(sent.get("InstanceId", ""))
    request = _json(sent.get("Input"))
    operation = request.get("op", "?") if isinstance(request, dict) else "?"
    return f"entity {target} {operation}"


def _request_id(sent: HistoryEvent) -> str | None:
    request = _json(sent.get("Input"))
    if isinstance(request, dict) and not request.get("signal"):
        return str(request.get("id") or "") or None
    return None


def _failure(event: HistoryEvent) -> str:
    return str(event.get("Reason") or "") if event.get("EventType") in (
        EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed) else ""


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None
