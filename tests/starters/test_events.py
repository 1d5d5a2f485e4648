"""baton started by events, end to end on devhost + Azurite: a blob in ``inbox``, a message on
``workflow-requests``; and the lifecycle event every ending publishes to ``workflow-events``."""

from __future__ import annotations

import json
import uuid

import pytest

from devhost.server.status import status_payload
from devhost.store.base import RuntimeStatus
from devhost.testing import DevHost, unique_hub_name
from events.inbox import instance_id_for
from tests.starters.conftest import REQUESTS, Storage
from tests.workflows.conftest import friendly_status, start

pytestmark = pytest.mark.azurite
TEXT = "Our quarterly numbers beat expectations. Revenue grew and customers renewed their contracts."


async def test_a_blob_in_the_inbox_runs_its_workflow_and_publishes_the_lifecycle_event(devhost, devhost_http,
                                                                                        storage: Storage):
    name = f"sequential/{uuid.uuid4().hex}.txt"
    etag = await storage.upload(name, TEXT)
    instance_id = instance_id_for("sequential", name, etag)

    status = await devhost.wait_for_instance(instance_id, timeout=60)
    assert status["runtimeStatus"] == "Completed", status
    output = (await friendly_status(devhost_http, instance_id))["output"]
    assert output["outcome"] == "succeeded" and output["data"]["document"]["title"] == name

    event = await storage.event_of(instance_id)
    assert (event["workflow"], event["outcome"], event["runtime_status"]) == ("sequential", "succeeded", "Completed")
    assert event["saved_as"] == output["saved_as"] == f"{storage.env['BATON_RESULTS_CONTAINER']}/sequential/" \
                                                      f"{instance_id}.json"
    assert {"created", "ended", "published", "started", "finished"} <= set(event["timestamps"])


async def test_any_other_name_starts_the_default_workflow_and_binary_folders_start_nothing(devhost, storage):
    name = f"{uuid.uuid4().hex}/notes.bin"
    etag = await storage.upload(name, TEXT)
    status = await devhost.wait_for_instance(instance_id_for("sequential", name, etag), timeout=60)
    assert status["runtimeStatus"] == "Completed" and status["name"] == "sequential"

    skipped = f"parallel/{uuid.uuid4().hex}.png"
    skipped_etag = await storage.upload(skipped, TEXT)
    marker = f"sequential/{uuid.uuid4().hex}.md"  # uploaded after: once it ran, the .png was scanned too
    await devhost.wait_for_instance(instance_id_for("sequential", marker, await storage.upload(marker, TEXT)), 60)
    for workflow in ("parallel", "sequential"):
        assert await devhost.store.get_instance(instance_id_for(workflow, skipped, skipped_etag)) is None


async def test_one_upload_starts_one_workflow_also_when_delivered_again(devhost_app_dir, storage: Storage,
                                                                        monkeypatch: pytest.MonkeyPatch):
    """A second delivery of the same version (here: a host with other blob receipts, on the same
    task hub, as after an Event Grid redelivery) finds its instance; a new version starts anew."""
    hub = unique_hub_name("inbox")
    name = f"sequential/{uuid.uuid4().hex}.txt"
    etag = await storage.upload(name, TEXT)
    first = instance_id_for("sequential", name, etag)
    monkeypatch.setenv("AzureFunctionsWebHost__hostid", f"events-{uuid.uuid4().hex[:8]}")
    async with DevHost.start(devhost_app_dir, store="azurite", hub_name=hub) as host:
        created = (await host.wait_for_instance(first, timeout=60))["createdTime"]
    monkeypatch.setenv("AzureFunctionsWebHost__hostid", f"events-{uuid.uuid4().hex[:8]}")
    async with DevHost.start(devhost_app_dir, store="azurite", hub_name=hub) as host:
        second = instance_id_for("sequential", name, await storage.upload(name, TEXT + " Again."))
        assert second != first
        await host.wait_for_instance(second, timeout=60)
        again = await host.store.get_instance(first)
        assert again is not None and _created(again) == created, "the same version started a second run"
        await host.store.destroy()


def _created(instance) -> str:
    return status_payload(instance)["createdTime"]


async def test_a_queue_message_starts_its_workflow(devhost, devhost_http, storage: Storage):
    instance_id = f"q-{uuid.uuid4().hex[:12]}"
    await storage.send(REQUESTS, json.dumps({"workflow": "sequential", "text": TEXT, "instance_id": instance_id}))
    status = await devhost.wait_for_instance(instance_id, timeout=60)
    assert status["runtimeStatus"] == "Completed" and status["name"] == "sequential"
    event = await storage.event_of(instance_id)
    assert event["outcome"] == "succeeded"


@pytest.mark.parametrize("body", [
    '{"workflow": "sequential", "text": "MARK" ',                       # malformed JSON
    '{"workflow": "nope", "text": "MARK"}',                            # unknown workflow
    '{"workflow": "sequential", "title": "MARK"}',                     # no text, documents or blobs
    '{"workflow": "sequential", "text": "MARK", "taxonomy": ["one"]}',  # the HTTP contract's own rule
    '["sequential", "MARK"]',                                          # not an object
])
async def test_a_malformed_message_goes_to_the_poison_queue_with_its_reason_logged(devhost, storage, body, caplog):
    marker = uuid.uuid4().hex
    text = body.replace("MARK", marker)
    await storage.send(REQUESTS, text)
    assert await storage.poisoned(marker) == [text]  # the message itself, unchanged: nothing is lost
    reasons = [r.getMessage() for r in caplog.records if "workflow-requests-poison" in r.getMessage()]
    assert reasons and all('"error"' in r for r in reasons)


async def test_a_terminated_instance_publishes_its_event(devhost, devhost_http, storage: Storage):
    instance_id = await start(devhost_http, "approval", {"text": TEXT, "approval_timeout_hours": 720})
    await devhost.wait_for_instance(instance_id, timeout=60, until=frozenset({RuntimeStatus.RUNNING}))
    async with devhost_http.post(f"/api/workflows/{instance_id}/terminate", json={"reason": "not needed"}) as r:
        assert r.status == 202, await r.text()
    event = await storage.event_of(instance_id)
    assert (event["workflow"], event["outcome"], event["runtime_status"]) == ("approval", "terminated", "Terminated")
    assert event["saved_as"] is None and "not needed" in event["error"]
    await storage.drain_events()
    assert len(storage.events[instance_id]) == 1  # published once, not on every tick
