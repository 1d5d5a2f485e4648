"""``save_workflow_result`` and the app's other uploads cost one Blob round trip each.

The activity runs in process here (as the worker would call it) against Azurite through a
recording proxy, so the tests check what the storage service received: one ``PUT`` per save
over one reused connection, the container created only when the service reported it missing
(also when it is deleted later), and the same JSON as before.
"""

from __future__ import annotations

import json

import pytest
from azure.storage.blob.aio import BlobServiceClient

from agents.bundles import offload
from agents.logs import agent_logger
from agents.models import Bundle, Document
from agents.settings import Settings
from agents.storage import close_shared
from orchestrators.results import save_workflow_result

from .blob_recorder import BlobRecorder

pytestmark = pytest.mark.azurite


@pytest.fixture
async def recorder(workflow_env: dict[str, str], agent_env: pytest.MonkeyPatch):
    async with BlobRecorder.start(workflow_env["AzureWebJobsStorage"]) as recorder:
        agent_env.setenv("AzureWebJobsStorage", recorder.connection_string)
        yield recorder
        await close_shared()


def record(instance_id: str, outcome: str = "succeeded") -> dict:
    state = {"workflow": "parallel", "instance_id": instance_id, "outcome": outcome, "data": {"note": "café"}}
    return {"workflow": "parallel", "instance_id": instance_id, "state": state}


async def stored(connection_string: str, container: str, name: str) -> dict:
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        return json.loads(await (await service.get_blob_client(container, name).download_blob()).readall())


async def test_each_save_is_one_put_over_one_connection(recorder: BlobRecorder, workflow_env: dict[str, str]):
    container = workflow_env["BATON_RESULTS_CONTAINER"]
    saved = [await save_workflow_result(record(f"i-{n}")) for n in range(3)]

    assert saved == [f"{container}/parallel/i-{n}.json" for n in range(3)]
    first, *rest = recorder.requests
    assert (first.method, first.status) == ("PUT", 404)  # the container did not exist yet ...
    assert [r.creates_container for r in rest[:2]] == [True, False]  # ... so it was created, the PUT repeated
    assert [(r.method, r.status, r.creates_container) for r in rest[2:]] == [("PUT", 201, False)] * 2
    assert len(recorder.requests) == 5
    assert len({r.client_port for r in recorder.requests}) == 1  # one long-lived client, one connection
    saved_state = await stored(workflow_env["AzureWebJobsStorage"], container, "parallel/i-2.json")
    assert saved_state == record("i-2")["state"]


async def test_a_container_deleted_later_is_created_again(recorder: BlobRecorder, workflow_env: dict[str, str]):
    container = workflow_env["BATON_RESULTS_CONTAINER"]
    await save_workflow_result(record("before"))
    async with BlobServiceClient.from_connection_string(workflow_env["AzureWebJobsStorage"]) as service:
        await service.delete_container(container)
    recorder.requests.clear()

    assert await save_workflow_result(record("after", "degraded")) == f"{container}/parallel/after.json"
    assert [r.creates_container for r in recorder.requests] == [False, True, False]
    after = await stored(workflow_env["AzureWebJobsStorage"], container, "parallel/after.json")
    assert after["outcome"] == "degraded"


async def test_a_large_bundle_is_one_put_once_its_container_exists(recorder: BlobRecorder):
    settings = Settings.from_env()
    text = "Revenue grew in every region this quarter. " * 1200  # ~50 KB: over the 32 KB inline limit
    log = agent_logger(__name__)
    for n in range(2):
        bundle = Bundle(title=f"big {n}", documents=[Document(title="d", text=f"{text} ({n})")], chars=0, words=0)
        ref = await offload(bundle, settings, log)
        assert ref.ref == f"{settings.bundle_container}/{ref.sha256}.json"
    assert [r.creates_container for r in recorder.requests] == [False, True, False, False]
    assert [r.status for r in recorder.requests] == [404, 201, 201, 201]
