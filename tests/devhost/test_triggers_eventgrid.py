"""Event Grid triggers at ``/runtime/webhooks/eventgrid``, as Core Tools serves them.

Behaviour matched: the Event Grid extension's ``HttpRequestProcessor`` (the ``aeg-event-type``
header decides: SubscriptionValidation -> ``{"validationResponse": code}`` for both schemas,
Notification -> one invocation per event, Unsubscribe -> 202, anything else -> 400) and the
CloudEvents abuse-protection ``OPTIONS`` handshake.  The app's storage points at Azurite
because the same app also has queue and blob triggers.
"""

from __future__ import annotations

import json
import uuid

import aiohttp
import pytest

from devhost.host import DevHost, unique_hub_name
from tests.devhost.triggers_kit import TRIGGERS_APP, TriggerStorage

pytestmark = pytest.mark.azurite
WEBHOOK = "/runtime/webhooks/eventgrid"


@pytest.fixture
async def grid(trigger_storage: TriggerStorage):
    async with (
        DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host,
        aiohttp.ClientSession(host.url) as http,
    ):
        yield host, http


def _event(event_type: str = "Microsoft.Storage.BlobCreated") -> dict:
    return {
        "id": f"eg-{uuid.uuid4().hex[:8]}", "topic": "/subscriptions/x/resourceGroups/y", "subject": "/blobs/a.txt",
        "eventType": event_type, "eventTime": "2026-01-01T12:00:00Z", "data": {"url": "http://a/b"},
        "dataVersion": "1",
    }


async def test_subscription_validation_answers_the_code_for_both_schemas(grid):
    _, http = grid
    headers = {"aeg-event-type": "SubscriptionValidation"}
    validation = [{**_event("Microsoft.EventGrid.SubscriptionValidationEvent"), "data": {"validationCode": "abc"}}]
    async with http.post(WEBHOOK, params={"functionName": "on_event"}, json=validation, headers=headers) as r:
        assert r.status == 200 and await r.json() == {"validationResponse": "abc"}
    cloud = {"specversion": "1.0", "id": "1", "source": "s", "type": "Microsoft.EventGrid.SubscriptionValidationEvent",
             "data": json.dumps({"validationCode": "xyz"})}  # CloudEvents: data is JSON text
    async with http.post(WEBHOOK, params={"functionName": "on_cloud_event"}, json=cloud, headers=headers) as r:
        assert r.status == 200 and await r.json() == {"validationResponse": "xyz"}


async def test_cloudevents_options_handshake_echoes_the_origin(grid):
    _, http = grid
    origin = {"WebHook-Request-Origin": "eventgrid.azure.net"}
    async with http.options(WEBHOOK, params={"functionName": "on_cloud_event"}, headers=origin) as r:
        assert r.status == 200
        assert r.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
        assert r.headers["WebHook-Allowed-Rate"] == "*"
    async with http.options(WEBHOOK, params={"functionName": "on_cloud_event"}) as r:
        assert r.status == 400 and "error" in await r.json()


async def test_notification_runs_the_function_once_per_event_with_a_durable_client(grid):
    host, http = grid
    events = [_event(), _event()]
    async with http.post(WEBHOOK, params={"functionName": "on_event"}, json=events,
                         headers={"aeg-event-type": "Notification"}) as r:
        assert r.status == 202
    for event in events:
        status = await host.wait_for_instance(event["id"])
        assert status["output"] == {"type": "EventGridEvent", "subject": "/blobs/a.txt",
                                    "event_type": "Microsoft.Storage.BlobCreated", "data": {"url": "http://a/b"}}


async def test_cloudevents_notification_hands_a_cloud_event(grid):
    host, http = grid
    event = {"specversion": "1.0", "id": f"ce-{uuid.uuid4().hex[:8]}", "source": "/storage/acct",
             "type": "Microsoft.Storage.BlobCreated", "time": "2026-01-01T12:00:00Z", "data": {"url": "u"}}
    async with http.post(WEBHOOK, params={"functionName": "on_cloud_event"}, data=json.dumps(event),
                         headers={"aeg-event-type": "Notification",
                                  "Content-Type": "application/cloudevents+json"}) as r:
        assert r.status == 202
    status = await host.wait_for_instance(event["id"])
    assert status["output"] == {"type": "CloudEvent", "source": "/storage/acct",
                                "event_type": "Microsoft.Storage.BlobCreated", "data": {"url": "u"}}


@pytest.mark.parametrize(
    ("params", "headers", "body", "status"),
    [
        ({}, {"aeg-event-type": "Notification"}, "[]", 400),
        ({"functionName": "nope"}, {"aeg-event-type": "Notification"}, "[]", 404),
        ({"functionName": "on_message"}, {"aeg-event-type": "Notification"}, "[]", 404),
        ({"functionName": "on_event"}, {}, "[]", 400),
        ({"functionName": "on_event"}, {"aeg-event-type": "Notification"}, "{not json", 400),
        ({"functionName": "on_event"}, {"aeg-event-type": "Notification"}, "[1, 2]", 400),
        ({"functionName": "on_event"}, {"aeg-event-type": "SubscriptionValidation"}, "[{}]", 400),
    ],
)
async def test_bad_requests_get_a_4xx_with_a_json_message(grid, params, headers, body, status):
    _, http = grid
    async with http.post(WEBHOOK, params=params, data=body, headers=headers) as r:
        assert r.status == status
        assert "error" in await r.json()


async def test_unsubscribe_is_accepted_and_a_failing_event_is_a_500_for_retries(grid):
    _, http = grid
    async with http.post(WEBHOOK, params={"functionName": "on_event"}, data="[]",
                         headers={"aeg-event-type": "Unsubscribe"}) as r:
        assert r.status == 202
    async with http.post(WEBHOOK, params={"functionName": "on_event"}, json=[_event("fail")],
                         headers={"aeg-event-type": "Notification"}) as r:
        assert r.status == 500
        assert "1 of 1 events failed" in (await r.json())["error"]
