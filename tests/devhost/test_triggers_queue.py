"""Queue triggers on Azurite: the SDK's QueueMessage, outputs, binding expressions, poison queue.

Behaviour matched: the WebJobs storage queues extension (base64 message encoding by default,
``<queue>-poison`` after ``maxDequeueCount`` attempts, invalid base64 poisoned at once) and the
Python worker's conversion of the trigger metadata into ``func.QueueMessage``.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from devhost.host import DevHost, unique_hub_name
from tests.devhost.triggers_kit import TRIGGERS_APP, TriggerStorage, wait_until

pytestmark = pytest.mark.azurite


async def test_queue_trigger_hands_the_sdk_queue_message_and_writes_outputs(trigger_storage: TriggerStorage):
    s = trigger_storage
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()):
        sent_id = await s.send("IN_QUEUE", "hello")
        [text] = await s.receive(s.names["OUT_QUEUE"])
        copies = await wait_until(lambda: s.blob_names("OUT_CONTAINER", "queue/hello-"))
        assert await s.read("OUT_CONTAINER", copies[0]) == "HELLO"
        await wait_until(lambda: _is_empty(s, s.names["IN_QUEUE"]), what="(message deleted after success)")
    described = json.loads(text)
    assert described["type"] == "QueueMessage"
    assert described["id"] == sent_id
    assert described["body"] == "hello"
    assert described["dequeue_count"] == 1
    assert described["insertion_time"] and described["expiration_time"] > described["insertion_time"]
    assert described["has_pop_receipt"] is True
    assert len(copies) == 1 and uuid.UUID(copies[0].removeprefix("queue/hello-").removesuffix(".txt"))


async def test_failing_message_is_retried_then_moved_to_the_poison_queue(
    trigger_storage: TriggerStorage, caplog: pytest.LogCaptureFixture
):
    s = trigger_storage
    caplog.set_level(logging.WARNING, logger="devhost.triggers.queue")
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        await s.send("IN_QUEUE", "fail-1")
        [poisoned] = await s.receive(s.names["IN_QUEUE"] + "-poison")
        assert await s.peek(s.names["IN_QUEUE"]) == []
        listener = host.triggers.listeners["on_message"]
        assert listener.poisoned == 1 and listener.processed == 0
    assert poisoned == "fail-1"  # the message is moved unchanged
    retried = [r for r in caplog.records if "will be retried" in r.getMessage()]
    assert len(retried) == 2  # maxDequeueCount 3 in host.json: two retries, then poison
    assert any("MaxDequeueCount of 3" in r.getMessage() for r in caplog.records)


async def test_message_that_is_not_base64_is_poisoned_without_running(trigger_storage: TriggerStorage):
    s = trigger_storage
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        await s.send("IN_QUEUE", "not base64 at all!", encode=False)
        queue = s.queues.get_queue_client(s.names["IN_QUEUE"] + "-poison")
        poisoned = await wait_until(lambda: _peek_raw(queue))
        assert host.triggers.listeners["on_message"].processed == 0
    assert poisoned == ["not base64 at all!"]


async def test_queue_triggered_function_starts_an_orchestration(trigger_storage: TriggerStorage):
    s = trigger_storage
    instance_id = f"q-{uuid.uuid4().hex[:8]}"
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        await s.send("IN_QUEUE", f"start:{instance_id}")
        status = await host.wait_for_instance(instance_id)
        [text] = await s.receive(s.names["OUT_QUEUE"])
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"from": "queue"}
    assert json.loads(text)["instance_id"] == instance_id


async def test_json_properties_bind_the_blob_input_and_a_returned_list_is_many_messages(
    trigger_storage: TriggerStorage,
):
    s = trigger_storage
    await s.upload("IN_CONTAINER", "doc.txt", "the document")
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()):
        await s.send("JSON_QUEUE", json.dumps({"file": "doc.txt"}))
        first = await s.receive(s.names["OUT_QUEUE"], count=2)
        await s.send("JSON_QUEUE", json.dumps({"file": "missing.txt"}))
        second = await s.receive(s.names["OUT_QUEUE"], count=2)
    assert sorted(first) == sorted([json.dumps({"msg_type": "str", "doc": "the document"}), "second"])
    assert json.dumps({"msg_type": "str", "doc": None}) in second


async def test_startup_banner_lists_triggers_and_what_is_not_served(trigger_storage: TriggerStorage):
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        banner = host.describe()
    assert f"on_event: eventGridTrigger: {host.url}/runtime/webhooks/eventgrid?functionName=on_event" in banner
    names = trigger_storage.names
    assert f"on_message: queueTrigger (queue '{names['IN_QUEUE']}')" in banner
    assert f"on_blob: blobTrigger (path '{names['IN_CONTAINER']}/docs/{{name}}.txt', source EventGrid" in banner
    assert "on_service_bus (serviceBusTrigger): not served by devhost" in banner


async def _is_empty(s: TriggerStorage, queue_name: str) -> bool:
    return await s.peek(queue_name) == []


async def _peek_raw(queue) -> list[str]:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return [m.content for m in await queue.peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


async def test_a_trigger_whose_connection_is_not_set_is_listed_as_not_served(
    trigger_storage: TriggerStorage, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("AzureWebJobsStorage")
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        banner = host.describe()
        assert "on_message" not in host.triggers.listeners
    assert "on_message: queueTrigger: not served by devhost: connection 'AzureWebJobsStorage'" in banner


async def test_an_output_queue_deleted_while_the_host_runs_is_created_again(trigger_storage: TriggerStorage):
    s = trigger_storage
    async with DevHost.start(TRIGGERS_APP, store="memory", hub_name=unique_hub_name()) as host:
        await s.send("IN_QUEUE", "one")
        await s.receive(s.names["OUT_QUEUE"])
        await s.queues.delete_queue(s.names["OUT_QUEUE"])
        await s.send("IN_QUEUE", "two")
        [text] = await s.receive(s.names["OUT_QUEUE"])
        assert host.triggers.listeners["on_message"].processed == 2
    assert json.loads(text)["body"] == "two"
