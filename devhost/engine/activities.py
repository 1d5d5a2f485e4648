"""Run one activity work item and turn its outcome into the completion message (§1.5, §4.6)."""

from __future__ import annotations

import json
import logging
import traceback
from datetime import datetime
from typing import Any

import aiohttp

from .. import worker
from ..loader import ActivityFunction
from ..store.base import ActivityWorkItem, Message
from . import history as h
from .scheduling import HTTP_ACTIVITY

log = logging.getLogger("devhost.activity")


async def execute_activity(
    item: ActivityWorkItem, activities: dict[str, ActivityFunction], now: Any
) -> Message:
    """Invoke the activity; the message carries ``TaskCompleted`` or ``TaskFailed``."""
    try:
        if item.name == HTTP_ACTIVITY:
            result = await _http_activity(json.loads(item.input or "{}"))
        else:
            function = activities[item.name.lower()]
            value = worker.decode_activity_input(item.input)
            returned = await worker.call(function.fn, **{function.param: value})
            result = worker.encode_activity_output(returned)
        event = h.task_completed(now(), item.task_id, result)
    except Exception as exc:
        stack = "".join(traceback.format_exception(exc))
        reason, details = h.activity_failure(item.name, exc, stack)
        log.warning(
            "activity %s failed (instance %s, task %d, attempt %d): %s: %s",
            item.name, item.instance_id, item.task_id, item.dequeue_count, type(exc).__name__, exc,
        )
        event = h.task_failed(now(), item.task_id, reason, details)
    return Message(f"{item.message_id}:result", item.instance_id, event, execution_id=item.execution_id)


async def _http_activity(request: dict[str, Any]) -> str:
    """``call_http``: one request, the first response (no 202 polling)."""
    timeout = aiohttp.ClientTimeout(total=100)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.request(
        request.get("method", "GET"),
        request["uri"],
        data=request.get("content"),
        headers=request.get("headers") or None,
    ) as response:
        body = await response.text()
        headers: dict[str, Any] = {}
        for key, value in response.headers.items():
            headers[key] = [*headers[key], value] if isinstance(headers.get(key), list) else (
                [headers[key], value] if key in headers else value
            )
        return json.dumps({"statusCode": response.status, "headers": headers, "content": body})


def utc_now_factory(clock: Any) -> Any:
    """A zero-argument ``now`` for :func:`execute_activity` bound to ``clock``."""

    def now() -> datetime:
        return clock.now()

    return now
