"""Every workflow end to end through devhost: HTTP API -> orchestrator -> agent activities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.storage.blob.aio import BlobServiceClient

from tests.fakes.openai_server import Reply
from tests.workflows.conftest import agent_of, friendly_status, start, wait_for_stage

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "review.json").read_text())
ANALYSIS = ("analyze", "summarize", "categorize")


async def finished(devhost, devhost_http, instance_id: str) -> dict:
    await devhost.wait_for_instance(instance_id, timeout=60)
    return await friendly_status(devhost_http, instance_id)


@pytest.mark.azurite
async def test_pipeline_offline_runs_every_stage_and_saves_its_state(devhost, devhost_http, workflow_env):
    instance_id = await start(devhost_http, "pipeline", EXAMPLE)
    status = await finished(devhost, devhost_http, instance_id)
    assert status["runtimeStatus"] == "Completed" and status["workflow"] == "pipeline"
    state = status["output"]
    assert (state["outcome"], state["status"], state["degraded"], state["errors"]) == ("succeeded", "completed",
                                                                                       False, [])
    assert list(state["timestamps"]) == ["started", "collect", "analysis", "aggregate", "finished"]
    assert {info["backend"] for info in state["agents"].values()} == {"offline"}
    report = state["data"]["report"]
    assert report["category"] == "finance" and report["summary"]
    assert state["data"]["document"]["title"] == EXAMPLE["title"]
    progress = status["progress"]
    assert progress["completed"] == progress["total"] == 6 and progress["stage"] == "completed"
    assert progress["agents"] == {**dict.fromkeys(["collect_data", *ANALYSIS, "aggregate"], "completed"),
                                  "error_handler": "skipped"}
    assert "class collect_data,analyze,summarize,categorize,merge,aggregate,done completed" in progress["graph"]
    container, _, blob = state["saved_as"].partition("/")
    assert container == workflow_env["BATON_RESULTS_CONTAINER"] and blob == f"pipeline/{instance_id}.json"
    async with BlobServiceClient.from_connection_string(workflow_env["AzureWebJobsStorage"]) as service:
        saved = json.loads(await (await service.get_blob_client(container, blob).download_blob()).readall())
    assert saved["outcome"] == "succeeded" and saved["data"]["report"] == report
    history_url = f"/runtime/webhooks/durabletask/instances/{instance_id}"
    async with devhost_http.get(history_url, params={"showHistory": "true"}) as response:
        events = (await response.json())["historyEvents"]
    saves = [e for e in events if e.get("FunctionName") == "save_workflow_result"]
    assert len(saves) == 3  # after collect, after the analysis stage, and the final state
    assert [(c["after"], c["saved_as"]) for c in state["checkpoints"]] == [
        ("collect", state["saved_as"]), ("analysis", state["saved_as"])]
    # a checkpoint is written while the next stage runs: scheduled with it, not before it
    branches = [e for e in events if e["EventType"] == "SubOrchestrationInstanceCompleted"]
    aggregate = next(e for e in events if e.get("FunctionName") == "aggregate")
    assert saves[0]["ScheduledTime"] == min(e["ScheduledTime"] for e in branches)
    assert saves[1]["ScheduledTime"] == aggregate["ScheduledTime"]


async def test_sequential_offline_reports_each_step(devhost, devhost_http):
    instance_id = await start(devhost_http, "sequential", {"text": EXAMPLE["text"], "taxonomy": EXAMPLE["taxonomy"]})
    state = (await finished(devhost, devhost_http, instance_id))["output"]
    assert state["outcome"] == "succeeded"
    assert set(state["data"]["report"]) == set(ANALYSIS)
    assert state["data"]["report"]["summarize"]["word_count"] > 0
    assert list(state["timestamps"])[1:-1] == ["collect", *ANALYSIS]


async def test_parallel_on_an_llm_sums_tokens_and_cost_over_agents(devhost, devhost_http, openai_backend):
    instance_id = await start(devhost_http, "parallel", {"documents": [{"title": "A", "text": EXAMPLE["text"]}]})
    state = (await finished(devhost, devhost_http, instance_id))["output"]
    assert state["outcome"] == "succeeded"
    llm_agents = {agent_of(r) for r in openai_backend.requests}
    assert llm_agents == {*ANALYSIS, "aggregate"}
    assert state["agents"]["analyze"]["backend"] == "openai"
    per_agent = [info["usage"]["total_tokens"] for info in state["agents"].values()]
    assert state["usage"]["total_tokens"] == sum(per_agent) > 0
    costs = [info["cost_usd"] or 0 for info in state["agents"].values()]
    assert state["usage"]["cost_usd"] == round(sum(costs), 6) > 0


async def test_transient_llm_faults_are_retried_by_the_durable_policy(devhost, devhost_http, openai_backend):
    failures = {"left": 2}

    def flaky_summaries(request):
        if agent_of(request) == "summarize" and failures["left"]:
            failures["left"] -= 1
            return Reply.server_error(503)
        return openai_backend.default_reply(request)

    openai_backend.responder = flaky_summaries
    instance_id = await start(devhost_http, "parallel", {"text": EXAMPLE["text"]})
    state = (await finished(devhost, devhost_http, instance_id))["output"]
    assert state["outcome"] == "succeeded" and state["errors"] == []
    assert [agent_of(r) for r in openai_backend.requests].count("summarize") == 3


async def test_a_failing_branch_degrades_the_parallel_result(devhost, devhost_http, openai_backend):
    openai_backend.responder = lambda r: (
        Reply.content_filter() if agent_of(r) == "categorize" else openai_backend.default_reply(r)
    )
    instance_id = await start(devhost_http, "parallel", {"text": EXAMPLE["text"]})
    status = await finished(devhost, devhost_http, instance_id)
    state = status["output"]
    assert status["runtimeStatus"] == "Completed"
    assert (state["outcome"], state["degraded"]) == ("degraded", True)
    (error,) = state["errors"]
    assert (error["agent"], error["kind"], error["permanent"]) == ("categorize", "content_filter", True)
    assert "categorize" not in state["data"]["results"] and state["data"]["report"]
    assert status["progress"]["agents"]["categorize"] == "failed"
    # A permanent failure is returned as data: no Durable retry, no second request.
    assert [agent_of(r) for r in openai_backend.requests].count("categorize") == 1


async def test_a_failed_step_goes_to_the_error_handler(devhost, devhost_http, openai_backend):
    openai_backend.responder = lambda r: (
        Reply.content_filter() if agent_of(r) == "analyze" else openai_backend.default_reply(r)
    )
    instance_id = await start(devhost_http, "sequential", {"text": EXAMPLE["text"]})
    status = await finished(devhost, devhost_http, instance_id)
    state = status["output"]
    assert status["runtimeStatus"] == "Completed" and state["outcome"] == "failed"
    assert state["data"]["report"]["failed_agent"] == "analyze"
    assert status["progress"]["agents"] == {
        "collect_data": "completed", "analyze": "failed", "summarize": "skipped", "categorize": "skipped",
        "error_handler": "completed",
    }


async def test_collect_failure_in_the_pipeline_is_handled_not_crashed(devhost, devhost_http, workflow_env):
    blob = f"{workflow_env['BATON_INPUT_CONTAINERS']}/nothing.txt"  # no storage here: collect_data cannot read it
    instance_id = await start(devhost_http, "pipeline", {"blobs": [blob]})
    status = await finished(devhost, devhost_http, instance_id)
    state = status["output"]
    assert status["runtimeStatus"] == "Completed"
    assert (state["outcome"], state["status"]) == ("failed", "failed")
    assert state["errors"][0]["agent"] == "collect_data"
    assert state["data"]["report"]["failed_agent"] == "collect_data"


async def test_approval_approved_publishes(devhost, devhost_http):
    with devhost.clock.auto_time_skipping_disabled():
        instance_id = await start(devhost_http, "approval", {"text": EXAMPLE["text"], "instance_id": "appr-yes"})
        waiting = await wait_for_stage(devhost_http, instance_id, "awaiting_approval")
        assert waiting["runtimeStatus"] == "Running"
        assert waiting["progress"]["waiting"]["event"] == "approval"
        body = {"approved": True, "by": "ann", "comment": "ship it"}
        async with devhost_http.post(f"/api/workflows/{instance_id}/events/approval", json=body) as response:
            assert response.status == 202
        state = (await finished(devhost, devhost_http, instance_id))["output"]
    assert (state["outcome"], state["status"]) == ("approved", "published")
    assert state["approval"]["by"] == "ann" and state["approval"]["approved"] is True


async def test_approval_rejected_is_recorded(devhost, devhost_http):
    with devhost.clock.auto_time_skipping_disabled():
        instance_id = await start(devhost_http, "approval", {"text": EXAMPLE["text"]})
        await wait_for_stage(devhost_http, instance_id, "awaiting_approval")
        async with devhost_http.post(f"/api/workflows/{instance_id}/events/approval",
                                     json={"approved": False, "by": "bob"}) as response:
            assert response.status == 202
        state = (await finished(devhost, devhost_http, instance_id))["output"]
    assert (state["outcome"], state["status"], state["approval"]["by"]) == ("rejected", "rejected", "bob")
    async with devhost_http.post(f"/api/workflows/{instance_id}/events/approval", json={"approved": True}) as r:
        assert r.status == 409


async def test_approval_without_a_decision_escalates_after_the_timeout(devhost, devhost_http):
    started_at = devhost.clock.now()
    instance_id = await start(devhost_http, "approval", {"text": EXAMPLE["text"], "approval_timeout_hours": 48})
    state = (await finished(devhost, devhost_http, instance_id))["output"]
    assert (state["outcome"], state["status"]) == ("escalated", "escalated")
    assert state["approval"]["timed_out"] is True
    assert state["data"]["report"]["failed_agent"] == "approval"
    assert (devhost.clock.now() - started_at).total_seconds() >= 48 * 3600  # virtual time, no real waiting


async def test_running_instance_id_conflicts_listing_and_terminate(devhost, devhost_http):
    with devhost.clock.auto_time_skipping_disabled():
        instance_id = await start(devhost_http, "approval", {"text": EXAMPLE["text"], "instance_id": "busy-1"})
        await wait_for_stage(devhost_http, instance_id, "awaiting_approval")
        async with devhost_http.post("/api/workflows/pipeline", json={"text": "x", "instance_id": "busy-1"}) as r:
            assert r.status == 409 and "busy-1" in (await r.json())["error"]
        async with devhost_http.get("/api/workflows", params={"status": "Running", "top": "10"}) as response:
            listed = await response.json()
        assert [item["id"] for item in listed["instances"]] == ["busy-1"]
        async with devhost_http.post(f"/api/workflows/{instance_id}/terminate", json={"reason": "no time"}) as r:
            assert r.status == 202
        status = await finished(devhost, devhost_http, instance_id)
    assert (status["runtimeStatus"], status["error"]) == ("Terminated", "no time")
