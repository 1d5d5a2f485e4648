"""The blobs extension's webhook, ``POST /runtime/webhooks/blobs?functionName=Host.Functions.NAME``.

In Azure, a blob trigger with ``source="EventGrid"`` is driven by an Event Grid subscription
that delivers the storage account's ``BlobCreated`` events to this endpoint.  devhost also scans
the container, but serves the endpoint the same way so the delivery can be exercised locally:
the ``SubscriptionValidation`` handshake, then one run per ``BlobCreated`` event whose ``url``
lies in the trigger's container and matches its path (receipts keep it to once per version,
whichever of the scan and the event comes first).  Answers 202.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from .blob import BlobListener
from .eventgrid import EXPECTED_EVENT_TYPES, error_response, validation_code

log = logging.getLogger("devhost.triggers.blob")

WEBHOOK_PATH = "/runtime/webhooks/blobs"
BLOB_CREATED = "Microsoft.Storage.BlobCreated"


class BlobWebhook:
    """Event Grid delivery for the app's ``source="EventGrid"`` blob triggers."""

    def __init__(self, listeners: list[BlobListener]) -> None:
        self.listeners = {
            listener.function.name.lower(): listener
            for listener in listeners
            if str(listener.function.trigger.get("source", "")).lower() == "eventgrid"
        }

    def setup(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        name = request.query.get("functionName", "")
        listener = self.listeners.get(name.removeprefix("Host.Functions.").lower())
        if listener is None:
            return error_response(404, f"no blob trigger with source EventGrid named '{name}' "
                                       "(use functionName=Host.Functions.<name>)")
        kind = request.headers.get("aeg-event-type", "").lower()
        try:
            body = json.loads(await request.text())
        except ValueError as exc:
            return error_response(400, f"the body is not JSON: {exc}")
        if kind == "subscriptionvalidation":
            code = validation_code(body)
            if code is None:
                return error_response(400, "the validation event carries no data.validationCode")
            return web.json_response({"validationResponse": code})
        if kind != "notification":
            return error_response(400, f"unknown aeg-event-type '{kind}': {EXPECTED_EVENT_TYPES}")
        events = body if isinstance(body, list) else [body]
        if not all(isinstance(e, dict) for e in events):
            return error_response(400, "the body must be an event object or an array of event objects")
        for event in events:
            event_type = event.get("eventType") or event.get("type")
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            blob_name = listener.blob_name_of(str(data.get("url", "")))
            if event_type != BLOB_CREATED or blob_name is None:
                log.info("Functions.%s: ignored event %s (%s)", listener.function.name, event.get("id"), event_type)
                continue
            await listener.process_blob(blob_name)
        return web.Response(status=202)
