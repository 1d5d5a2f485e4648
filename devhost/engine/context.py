"""The orchestration context JSON the host hands the SDK (``durable-protocol.md`` §2.1)."""

from __future__ import annotations

import json
from typing import Any

from .. import jsontext
from ..store.base import OrchestrationInstance
from .history import EventType, HistoryEvent

MAXIMUM_SHORT_TIMER = "6.00:00:00"
LONG_TIMER_INTERVAL = "3.00:00:00"


def encode_events(events: list[HistoryEvent]) -> list[str]:
    """Each event as JSON text; kept between episodes so only new events are encoded."""
    return [jsontext.dumps(event) for event in events]


def build_context(
    instance: OrchestrationInstance, history: list[HistoryEvent], encoded: list[str] | None = None
) -> str:
    """Context JSON for one replay of ``history`` (the whole current execution).

    ``encoded`` is ``history`` already encoded event by event (see :func:`encode_events`).
    """
    started_at = next((i for i, e in enumerate(history) if e["EventType"] == EventType.ExecutionStarted), None)
    if started_at is None:
        raise ValueError(f"history of {instance.instance_id} has no ExecutionStarted event")
    last_episode = next(
        (i for i in range(len(history) - 1, -1, -1) if history[i]["EventType"] == EventType.OrchestratorStarted), 0
    )
    started = history[started_at]
    parent = started.get("ParentInstance") or {}
    context: dict[str, Any] = {
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
    return "".join((
        '{"history":[', ",".join(events), '],"input":', _input_json(started.get("Input")), ",",
        jsontext.dumps(context)[1:],
    ))


def _input_json(stored: str | None) -> str:
    """The stored input decoded once, as the extension's ``GetInputAsJson`` does, as JSON text.

    Strict JSON text is that value already, so it is used as it is.
    """
    if stored is None:
        return "null"
    if jsontext.strict_fragment(stored) is not None:
        return stored
    try:
        return json.dumps(json.loads(stored))
    except ValueError:
        return json.dumps(stored)
