"""Instance status payloads as the Durable HTTP API shapes them (``durable-protocol.md`` §6.1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson

from .. import jsontext
from ..engine.history import EventType, HistoryEvent
from ..store.base import OrchestrationInstance, RuntimeStatus

_STATUS_NAMES = {status.history_code: status.value for status in RuntimeStatus}
_COMPLETIONS = {
    EventType.TaskCompleted, EventType.TaskFailed,
    EventType.SubOrchestrationInstanceCompleted, EventType.SubOrchestrationInstanceFailed,
}
_SCHEDULED = {EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated}


def format_time(moment: datetime | None) -> str | None:
    """``2024-05-01T10:00:04Z``: UTC, no fraction, as the status API writes times."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stored(text: str | None) -> Any:
    """A stored payload as the API returns it: JSON value, or the raw text if not JSON."""
    if text is None or text == "":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def status_payload(
    instance: OrchestrationInstance,
    *,
    history: list[HistoryEvent] | None = None,
    show_input: bool = True,
    show_history_output: bool = False,
) -> dict[str, Any]:
    """The ``GET instances/{id}`` body; ``historyEvents`` only when ``history`` is given."""
    payload: dict[str, Any] = {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.runtime_status.value,
        "input": parse_stored(instance.input) if show_input else None,
        "customStatus": parse_stored(instance.custom_status),
        "output": parse_stored(instance.output),
        "createdTime": format_time(instance.created_time),
        "lastUpdatedTime": format_time(instance.last_updated_time),
    }
    if history is not None:
        payload["historyEvents"] = shape_history(history, show_input=show_input, show_output=show_history_output)
    return payload


class _NotStrict(Exception):
    """A stored text that Python's ``json`` reads but orjson does not (``NaN``, lone surrogates)."""


def _embedded(text: str | None) -> Any:
    """:func:`parse_stored`'s answer, with JSON text kept as text to embed verbatim."""
    if text is None or text == "":
        return text
    fragment = jsontext.strict_fragment(text)
    if fragment is not None:
        return fragment
    try:
        json.loads(text)
    except ValueError:
        return text
    raise _NotStrict


def status_body(instance: OrchestrationInstance, *, show_input: bool = True) -> bytes:
    """``json.dumps(status_payload(instance))`` as UTF-8, without decoding and re-encoding
    the stored input, custom status and output (the same JSON value, built by orjson)."""
    try:
        return orjson.dumps({
            "name": instance.name,
            "instanceId": instance.instance_id,
            "runtimeStatus": instance.runtime_status.value,
            "input": _embedded(instance.input) if show_input else None,
            "customStatus": _embedded(instance.custom_status),
            "output": _embedded(instance.output),
            "createdTime": format_time(instance.created_time),
            "lastUpdatedTime": format_time(instance.last_updated_time),
        })
    except (_NotStrict, orjson.JSONEncodeError):
        return json.dumps(status_payload(instance, show_input=show_input)).encode()


def shape_history(events: list[HistoryEvent], *, show_input: bool, show_output: bool) -> list[dict[str, Any]]:
    """History for humans: names instead of numbers, scheduling merged into completions."""
    scheduled = {
        e["EventId"]: e for e in events if e["EventType"] in _SCHEDULED and e.get("EventId", -1) >= 0
    }
    merged = {
        e.get("TaskScheduledId") for e in events if e["EventType"] in _COMPLETIONS
    }
    shaped: list[dict[str, Any]] = []
    for event in events:
        etype = EventType(event["EventType"])
        if etype in (EventType.OrchestratorStarted, EventType.OrchestratorCompleted):
            continue
        if etype in _SCHEDULED and event.get("EventId") in merged:
            continue
        item = {k: v for k, v in event.items() if k not in ("EventId", "IsPlayed", "EventType")}
        item = {"EventType": etype.name, **item}
        if etype == EventType.ExecutionStarted:
            item["FunctionName"] = item.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                item.pop(key, None)
        elif etype in _COMPLETIONS:
            origin = scheduled.get(item.pop("TaskScheduledId", None))
            if origin is not None:
                item["FunctionName"] = origin.get("Name")
                item["ScheduledTime"] = origin.get("Timestamp")
                if show_input and origin.get("Input") is not None:
                    item["Input"] = origin.get("Input")
        elif etype == EventType.ExecutionCompleted:
            code = item.get("OrchestrationStatus")
            item["OrchestrationStatus"] = _STATUS_NAMES.get(code, code)
        elif etype == EventType.TimerFired:
            item.pop("TimerId", None)
        if "Result" in item:
            if show_output:
                item["Result"] = parse_stored(item["Result"])
            else:
                item.pop("Result")
        if not show_input:
            item.pop("Input", None)
        shaped.append(item)
    return shaped
