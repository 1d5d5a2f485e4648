"""Workflow definitions and live graphs, and reusing a finished instance id (every workflow)."""

from __future__ import annotations

import json

import pytest
from azure.storage.blob.aio import BlobServiceClient

from orchestrators.registry import WORKFLOWS
from tests.workflows.conftest import friendly_status, start, wait_for_stage

TEXT = {"text": "Revenue rose 12% in the quarter. Customers praised the new store, but delivery was slow."}


async def decide_when_waiting(devhost, http, instance_id: str, workflow: str) -> None:
    """The approval workflow waits for a person: approve it, as the CLI would."""
    if workflow == "approval":
        await wait_for_stage(http, instance_id, "awaiting_approval")
        async with http.post(f"/api/workflows/{instance_id}/events/approval", json={"approved": True}) as r:
            assert r.status == 202, await r.text()
    status = await devhost.wait_for_instance(instance_id, timeout=60)
    assert status["runtimeStatus"] == "Completed", status


async def test_definitions_list_every_workflow_with_schema_and_graph(devhost_http):
    async with devhost_http.get("/api/definitions") as response:
        assert response.status == 200
        found = await response.json()
    assert [w["name"] for w in found["workflows"]] == list(WORKFLOWS) == ["approval", "parallel", "pipeline",
                                                                          "sequential"]
    by_name = {w["name"]: w for w in found["workflows"]}
    sequential, parallel = by_name["sequential"]["graph"], by_name["parallel"]["graph"]
    # the seed's first diagram: a chain, then success or the error handler
    assert "collect_data[Collect data] --> analyze[Analyze] --> summarize[Summarize] --> categorize" in sequential
    assert "ok -->|yes| done([Complete])" in sequential and "ok -->|no| error_handler" in sequential
    # the seed's second: split, three branches, merge, aggregator
    assert "--> analyze[Analyze] & summarize[Summarize] & categorize[Categorize]" in parallel
    assert "analyze & summarize & categorize --> merge{Merge}" in parallel and "aggregate[Aggregator]" in parallel
    for workflow in found["workflows"]:
        assert workflow["graph"].startswith("flowchart TD\n") and workflow["description"]
        assert workflow["input_schema"]["oneOf"] and "blobs" in workflow["input_schema"]["properties"]
        assert workflow["agents"][0] == "collect_data" and "error_handler" in workflow["agents"]


async def test_graph_of_a_waiting_instance_then_of_the_finished_one(devhost, devhost_http):
    with devhost.clock.auto_time_skipping_disabled():
        instance_id = await start(devhost_http, "approval", {**TEXT, "instance_id": "graph-1"})
        waiting = await wait_for_stage(devhost_http, instance_id, "awaiting_approval")
        async with devhost_http.get(f"/api/workflows/{instance_id}/graph") as response:
            assert response.status == 200 and response.content_type == "text/vnd.mermaid"
            live = await response.text()
        assert live == waiting["progress"]["graph"] and len(live.encode()) < 4096
        assert "  class approval waiting\n" in live
        assert "  class collect_data,analyze,summarize,categorize,merge,aggregate completed\n" in live
        assert "  class error_handler,published,rejected pending\n" in live
        async with devhost_http.post(f"/api/workflows/{instance_id}/events/approval",
                                     json={"approved": False, "by": "bob"}) as response:
            assert response.status == 202
        await devhost.wait_for_instance(instance_id, timeout=60)
    async with devhost_http.get(f"/api/workflows/{instance_id}/graph", params={"format": "json"}) as response:
        finished = await response.json()
    assert finished["runtimeStatus"] == "Completed" and finished["agents"]["error_handler"] == "skipped"
    assert "  class collect_data,analyze,summarize,categorize,merge,aggregate,approval,rejected completed\n" in (
        finished["mermaid"])
    assert "  class error_handler,published skipped\n" in finished["mermaid"]


async def test_graph_of_a_failed_branch_shows_it_failed(devhost, devhost_http, openai_backend):
    from tests.fakes.openai_server import Reply
    from tests.workflows.conftest import agent_of

    openai_backend.responder = lambda r: (
        Reply.content_filter() if agent_of(r) == "summarize" else openai_backend.default_reply(r))
    instance_id = await start(devhost_http, "parallel", TEXT)
    await devhost.wait_for_instance(instance_id, timeout=60)
    async with devhost_http.get(f"/api/workflows/{instance_id}/graph") as response:
        graph = await response.text()
    assert "  class summarize failed\n" in graph and "  class error_handler skipped\n" in graph


async def test_graph_answers_400_and_404(devhost_http):
    async with devhost_http.get("/api/workflows/nobody/graph") as response:
        assert response.status == 404
    async with devhost_http.get("/api/workflows/x/graph", params={"format": "png"}) as response:
        assert response.status == 400 and (await response.json())["field"] == "format"


@pytest.mark.parametrize("workflow", list(WORKFLOWS))
async def test_a_finished_instance_id_can_be_reused_for_a_clean_run(devhost, devhost_http, workflow):
    instance_id = f"again-{workflow}"
    for _ in range(2):
        with devhost.clock.auto_time_skipping_disabled():
            await start(devhost_http, workflow, {**TEXT, "instance_id": instance_id})
            await decide_when_waiting(devhost, devhost_http, instance_id, workflow)
        state = (await friendly_status(devhost_http, instance_id))["output"]
        assert state["outcome"] in ("succeeded", "approved") and state["errors"] == []


@pytest.mark.azurite
async def test_a_request_cannot_read_the_hosts_secrets_or_other_results(devhost, devhost_http, workflow_env,
                                                                          monkeypatch):
    secret = b'{"masterKey": {"value": "planted-master-key-0123456789"}}'
    other = b'{"outcome": "succeeded", "data": {"report": "someone else\'s"}}'
    results = workflow_env["BATON_RESULTS_CONTAINER"]
    inbox = workflow_env["BATON_INPUT_CONTAINERS"]
    async with BlobServiceClient.from_connection_string(workflow_env["AzureWebJobsStorage"]) as service:
        for container, name, body in (("azure-webjobs-secrets", "app/host.json", secret),
                                      (results, "pipeline/other.json", other), (inbox, "ok.txt", b"Sales rose.")):
            client = service.get_container_client(container)
            if not await client.exists():
                await client.create_container()
            await client.upload_blob(name, body, overwrite=True)
    # even an operator who lists the forbidden containers cannot open them to requests
    monkeypatch.setenv("BATON_INPUT_CONTAINERS", f"{inbox},azure-webjobs-secrets,{results}")
    for blob in ("azure-webjobs-secrets/app/host.json", f"{results}/pipeline/other.json"):
        async with devhost_http.post("/api/workflows/sequential", json={"blobs": [blob]}) as response:
            body = await response.json()
        assert response.status == 400 and body["field"] == "blobs.0" and "is not readable" in body["error"]
        assert b"planted" not in json.dumps(body).encode() and "someone else" not in json.dumps(body)
    instance_id = await start(devhost_http, "sequential", {"blobs": [f"{inbox}/ok.txt"]})
    status = await devhost.wait_for_instance(instance_id, timeout=60)
    assert status["output"]["outcome"] == "succeeded"
