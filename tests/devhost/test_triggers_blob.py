"""Blob triggers on Azurite: the SDK's InputStream, once per blob version (also across a
restart, through receipts in ``azure-webjobs-hosts``), and the poison report.

Behaviour matched: the WebJobs blobs extension (receipts per function and ETag, a version that
keeps failing reported on ``webjobs-blobtrigger-poison`` after ``maxDequeueCount`` attempts)
and the Python worker's conversion into ``func.InputStream`` (name, uri, length).
"""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from devhost.host import DevHost, unique_hub_name
from devhost.triggers import blob as blob_module
from tests.devhost.triggers_kit import TRIGGERS_APP, TriggerStorage, wait_until

pytestmark = pytest.mark.azurite


async def _scans_after(host: DevHost, n: int = 2) -> None:
    """Wait until the blob listener completed ``n`` more full scans of its container."""
    listener = host.triggers.listeners["on_blob"]
    target = listener.scans + n

    async def done() -> bool:
        return listener.scans >= target

    await wait_until(done, what="(blob scans)")


async def test_blob_trigger_hands_the_sdk_input_stream_and_a_durable_client(trigger_storage: TriggerStorage):
    s = trigger_storage
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        await s.upload("IN_CONTAINER", "docs/report.txt", "quarterly")
        [out] = await wait_until(lambda: s.blob_names("OUT_CONTAINER", "report/"))
        described = json.loads(await s.read("OUT_CONTAINER", out))
        status = await host.wait_for_instance(described["instance_id"])  # a durable client beside the trigger
    assert status["output"] == {"blob": f"{s.names['IN_CONTAINER']}/docs/report.txt"}
    assert described["type"] == "InputStream"
    assert described["name"] == f"{s.names['IN_CONTAINER']}/docs/report.txt"
    assert described["uri"].endswith(f"/{s.names['IN_CONTAINER']}/docs/report.txt")
    assert described["length"] == len("quarterly")
    assert described["text"] == "quarterly"


async def test_each_blob_version_is_processed_once_also_across_a_restart(trigger_storage: TriggerStorage):
    s = trigger_storage
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        await s.upload("IN_CONTAINER", "docs/a.txt", "v1")
        await s.upload("IN_CONTAINER", "docs/ignored.md", "not matched by docs/{name}.txt")
        await wait_until(lambda: s.blob_names("OUT_CONTAINER", "a/"))
        await _scans_after(host)
        assert len(await s.blob_names("OUT_CONTAINER", "a/")) == 1
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        await _scans_after(host)
        assert len(await s.blob_names("OUT_CONTAINER", "a/")) == 1  # the receipt survived the restart
        await s.upload("IN_CONTAINER", "docs/a.txt", "v2, changed")  # a new version (new ETag)
        outputs = await wait_until(lambda: _at_least(s, "a/", 2))
        await _scans_after(host)
        assert len(await s.blob_names("OUT_CONTAINER", "a/")) == 2
    texts = sorted([json.loads(await s.read("OUT_CONTAINER", name))["text"] for name in outputs])
    assert texts == ["v1", "v2, changed"]
    assert await s.blob_names("OUT_CONTAINER", "ignored/") == []


async def test_blob_that_keeps_failing_is_reported_on_the_poison_queue(trigger_storage: TriggerStorage):
    s = trigger_storage
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        listener = host.triggers.listeners["on_blob"]
        await s.upload("IN_CONTAINER", "docs/bad.txt", "fail, always")

        async def poisoned() -> bool:
            return listener.poisoned == 1

        await wait_until(poisoned, what="(blob poisoned)")
        await _scans_after(host)
        assert listener.poisoned == 1  # not retried after the report
        receipts = s.blobs.get_container_client("azure-webjobs-hosts")
        [receipt] = [b async for b in receipts.list_blobs(
            name_starts_with=f"blobreceipts/{listener.host_id}/Host.Functions.on_blob/", include=["metadata"])]
    assert receipt.name.endswith(f"/{s.names['IN_CONTAINER']}/docs/bad.txt")
    assert receipt.metadata == {"Completed": "true", "Failures": "3"}  # maxDequeueCount 3 in host.json
    report = await wait_until(lambda: _poison_report(s, s.names["IN_CONTAINER"]))
    assert report["BlobName"] == "docs/bad.txt" and report["FunctionId"] == "Host.Functions.on_blob"
    assert await s.blob_names("OUT_CONTAINER") == []


async def _at_least(s: TriggerStorage, prefix: str, n: int) -> list[str]:
    names = await s.blob_names("OUT_CONTAINER", prefix)
    return names if len(names) >= n else []


async def test_blob_created_event_on_the_blobs_webhook_runs_the_trigger_once(
    trigger_storage: TriggerStorage, monkeypatch: pytest.MonkeyPatch
):
    """Azure's delivery for source="EventGrid": Event Grid posts BlobCreated to the blobs extension."""
    s = trigger_storage
    monkeypatch.setattr(blob_module, "SCAN_INTERVAL", 3600)  # only the start-up scan: the event must do it
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        listener = host.triggers.listeners["on_blob"]

        async def scanned_once() -> bool:
            return listener.scans == 1

        await wait_until(scanned_once)
        await s.upload("IN_CONTAINER", "docs/evented.txt", "by event")
        url = s.blobs.get_container_client(s.names["IN_CONTAINER"]).get_blob_client("docs/evented.txt").url
        event = {"id": "1", "eventType": "Microsoft.Storage.BlobCreated", "subject": "s", "data": {"url": url},
                 "eventTime": "2026-01-01T12:00:00Z", "dataVersion": "1"}
        webhook = "/runtime/webhooks/blobs"
        function = {"functionName": "Host.Functions.on_blob"}
        async with aiohttp.ClientSession(host.url) as http:
            validation = [{"id": "v", "data": {"validationCode": "c0de"}}]
            async with http.post(webhook, params=function, json=validation,
                                 headers={"aeg-event-type": "SubscriptionValidation"}) as r:
                assert r.status == 200 and await r.json() == {"validationResponse": "c0de"}
            for _ in range(2):  # a redelivered event does not run the function again
                async with http.post(webhook, params=function, json=[event],
                                     headers={"aeg-event-type": "Notification"}) as r:
                    assert r.status == 202
            async with http.post(webhook, params={"functionName": "Host.Functions.on_message"}, json=[event],
                                 headers={"aeg-event-type": "Notification"}) as r:
                assert r.status == 404 and "error" in await r.json()
        assert listener.processed == 1 and listener.scans == 1
    [out] = await s.blob_names("OUT_CONTAINER", "evented/")
    assert json.loads(await s.read("OUT_CONTAINER", out))["text"] == "by event"


async def _poison_report(s: TriggerStorage, container: str) -> dict | None:
    """This test's report on the shared poison queue (others' messages are left alone)."""
    queue = s.queues.get_queue_client("webjobs-blobtrigger-poison")
    async for message in queue.receive_messages(max_messages=32, visibility_timeout=1):
        try:
            report = json.loads(base64.b64decode(message.content))
        except ValueError:
            continue
        if isinstance(report, dict) and report.get("ContainerName") == container:
            await queue.delete_message(message)
            return report
    return None
