"""Event Grid trigger: ``/runtime/webhooks/eventgrid?functionName=NAME``, as Core Tools serves it.

Matches the Event Grid extension's request processor: the ``aeg-event-type`` header decides.
``SubscriptionValidation`` answers ``{"validationResponse": code}`` (Event Grid schema: an
array; CloudEvents schema: one object whose ``data`` may be JSON text); ``Notification``
invokes the function once per event (an array, or one object) and answers 202, or 500 when an
invocation failed so that Event Grid retries; ``Unsubscribe`` answers 202; anything else 400.
``OPTIONS`` with ``WebHook-Request-Origin`` is the CloudEvents abuse-protection handshake.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from azure.functions import meta

from ..loader import TriggerFunction
from .bindings import Invocation

log = logging.getLogger("devhost.triggers.eventgrid")

WEBHOOK_PATH = "/runtime/webhooks/eventgrid"
EXPECTED_EVENT_TYPES = "expected SubscriptionValidation, Notification or Unsubscribe"

Invoke = Callable[[Invocation], Awaitable[Any]]


class EventGridWebhook:
    """The webhook for every ``eventGridTrigger`` function of one app."""

    def __init__(self, functions: list[TriggerFunction], invoke: Invoke) -> None:
        self.functions = {f.name.lower(): f for f in functions if f.kind == "eventGridTrigger"}
        self.invoke = invoke

    def setup(self, app: web.Application) -> None:
        app.router.add_route("OPTIONS", WEBHOOK_PATH, self.handshake)
        app.router.add_post(WEBHOOK_PATH, self.handle)

    async def handshake(self, request: web.Request) -> web.Response:
        origin = request.headers.get("WebHook-Request-Origin")
        if not origin:
            return error_response(400, "OPTIONS requests must carry a WebHook-Request-Origin header")
        return web.Response(status=200, headers={"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"})

    async def handle(self, request: web.Request) -> web.Response:
        name = request.query.get("functionName", "")
        if not name:
            return error_response(400, "the functionName query parameter is required")
        function = self.functions.get(name.lower())
        if function is None:
            return error_response(404, f"no Event Grid-triggered function named '{name}'")
        kind = request.headers.get("aeg-event-type", "")
        if kind.lower() == "unsubscribe":
            return web.Response(status=202)
        if kind.lower() not in ("subscriptionvalidation", "notification"):
            return error_response(400, f"unknown aeg-event-type '{kind}': {EXPECTED_EVENT_TYPES}")
        try:
            body = json.loads(await request.text())
        except ValueError as exc:
            return error_response(400, f"the body is not JSON: {exc}")
        if kind.lower() == "subscriptionvalidation":
            code = validation_code(body)
            if code is None:
                return error_response(400, "the validation event carries no data.validationCode")
            log.info("perform handshake with eventGrid for function: %s", function.name)
            return web.json_response({"validationResponse": code})
        events = body if isinstance(body, list) else [body]
        if not events or not all(isinstance(e, dict) for e in events):
            return error_response(400, "the body must be an event object or a non-empty array of event objects")
        failed = 0
        for event in events:
            try:
                await self.invoke(Invocation(function, meta.Datum(json.dumps(event), "json"), {}, dict(event)))
            except Exception:
                failed += 1
        if failed:
            return error_response(500, f"{failed} of {len(events)} events failed in Functions.{function.name}")
        return web.Response(status=202)


def validation_code(body: Any) -> str | None:
    """The ``validationCode`` of a validation event (an Event Grid array, or one CloudEvent)."""
    event = body[0] if isinstance(body, list) and body else body
    if not isinstance(event, dict):
        return None
    data = event.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    code = data.get("validationCode") if isinstance(data, dict) else None
    return str(code) if code is not None else None


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
