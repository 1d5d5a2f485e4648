"""The orchestration context JSON the host hands the SDK (``durable-protocol.md`` §2.1)."""

from __future__ import annotations

import json
from typing import Any

from ..store.base import OrchestrationInstance
from .history import EventType, HistoryEvent

MAXIMUM_SHORT_TIMER = "6.00:00:00"
LONG_TIMER_INTERVAL = "3.00:00:00"


def encode_events(events: list[HistoryEvent]) -> list[str]:
    """Each event as JSON text; kept between episodes so only new events are encoded."""
    return [json.dumps(event) for event in events]


def build_context(
    instance: OrchestrationInstance, history: list[HistoryEvent], encoded: list[str] | None = None
) -> str:
    """Context JSON for one replay of ``history`` (the whole current execution).

    ``encoded`` is ``history`` already encoded event by event (see :func:`encode_events`).
    """
    started: HistoryEvent | None = None
    started_at = last_episode = 0
    for index, event in enumerate(history):
        etype = event["EventType"]
        if etype == EventType.ExecutionStarted and started is None:
            started, started_at = event, index
        elif etype == EventType.OrchestratorStarted:
            last_episode = index
    if started is None:
        raise ValueError(f"history of {instance.instance_id} has no ExecutionStarted event")
    parent = started.get("ParentInstance") or {}
    context: dict[str, Any] = {
        "input": _decode_once(started.get("Input")),
        "instanceId": instance.instance_id,
        "isReplaying": started_at < last_episode,
        "parentInstanceId": (parent.get("OrchestrationInstance") or {}).get("InstanceId"),
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
        "longRunningTimerIntervalDuration": LONG_TIMER_INTERVAL,
        "maximumShortTimerDuration": MAXIMUM_SHORT_TIMER,
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    }
    events = encoded if encoded is not None else encode_events(history)
    return '{"history": [' + ", ".join(events) + "], " + json.dumps(context)[1:]


def _decode_once(stored: str | None) -> Any:
    """The stored input decoded once, as the extension's ``GetInputAsJson`` does."""
    if stored is None:
        return None
    try:
        return json.loads(stored)
    except ValueError:
        return stored
