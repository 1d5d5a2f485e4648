"""Durable entities: run a batch of operations through the SDK's entity handle (§4.7).

An entity is an instance whose id is ``@<name lower-case>@<key>``.  Operation messages are
``EventRaised`` events named ``op`` carrying a RequestMessage; the entity's state (JSON text)
is kept in the instance row's ``input`` column, as the real host keeps it in its input.
Calls (not signals) are answered with an ``EventRaised`` named after the request id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from ..store.base import EpisodeCommit, Message, OrchestrationInstance, OrchestrationWorkItem, RuntimeStatus
from . import history as h

log = logging.getLogger("devhost.entity")

InvokeEntity = Callable[[str, str], Awaitable[str]]
"""``(entity name, context JSON) -> entity result JSON``."""


def entity_instance_id(name: str, key: str) -> str:
    return f"@{name.lower()}@{key}"


def parse_entity_id(instance_id: str) -> tuple[str, str]:
    """``@counter@c1`` -> ``("counter", "c1")``."""
    _, name, key = instance_id.split("@", 2)
    return name, key


async def run_entity_batch(
    item: OrchestrationWorkItem, now: datetime, entities: dict[str, str], invoke: InvokeEntity
) -> EpisodeCommit:
    """Process every operation message of the work item in one batch."""
    name, key = parse_entity_id(item.instance_id)
    instance = item.instance or OrchestrationInstance(
        instance_id=item.instance_id, name=name, execution_id="", runtime_status=RuntimeStatus.RUNNING,
        created_time=now, last_updated_time=now,
    )
    consumed = [m.message_id for m in item.messages]
    requests = [_request(m) for m in item.messages]
    requests = [r for r in requests if r is not None]
    if not requests:
        return EpisodeCommit(instance, consumed=consumed)
    if name not in entities:
        log.warning("operations for unknown entity '%s' dropped", name)
        return EpisodeCommit(instance, consumed=consumed)
    batch = [
        {"name": r.get("op"), "input": json.dumps(r.get("input")), "isSignal": bool(r.get("signal"))}
        for r in requests
    ]
    context = {
        "self": {"name": name, "key": key},
        "exists": instance.input is not None,
        "state": instance.input,
        "batch": batch,
    }
    result = json.loads(await invoke(entities[name], json.dumps(context)))
    instance.input = result.get("entityState") if result.get("entityExists") else None
    instance.last_updated_time = now
    instance.custom_status = json.dumps({"entityExists": bool(result.get("entityExists"))})
    messages = [
        _response(request, outcome, now)
        for request, outcome in zip(requests, result.get("results") or [], strict=False)
        if not request.get("signal") and request.get("parent")
    ]
    return EpisodeCommit(instance, consumed=consumed, messages=messages)


def _request(message: Message) -> dict[str, Any] | None:
    event = message.event
    if event.get("EventType") != h.EventType.EventRaised or event.get("Name") != "op":
        return None
    try:
        request = json.loads(event.get("Input") or "")
    except ValueError:
        return None
    return request if isinstance(request, dict) else None


def _response(request: dict[str, Any], outcome: dict[str, Any], now: datetime) -> Message:
    body: dict[str, Any] = {"result": outcome.get("result")}
    if outcome.get("isError"):
        body["exceptionType"] = "Exception"
    event = h.event_raised(now, request["id"], json.dumps(body))
    return Message(
        f"{request['id']}:response", request["parent"], event, execution_id=request.get("parentExecution")
    )
