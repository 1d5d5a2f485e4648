"""The activity functions as the worker calls them, and under a real Durable retry policy (devhost)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import azure.durable_functions as df
import pytest

from agents import registry, textkit
from agents.aggregate import NAME as AGGREGATE
from agents.analyze import NAME as ANALYZE
from agents.categorize import NAME as CATEGORIZE
from agents.collect_data import NAME as COLLECT_DATA
from agents.error_handler import NAME as ERROR_HANDLER
from agents.llm import chat
from agents.registry import AGENTS
from agents.summarize import NAME as SUMMARIZE
from tests.agents.texts import ANALYSIS, COMPLAINT, FINANCE, REVIEW
from tests.fakes import Reply

ROOT = Path(__file__).resolve().parents[2]
RESULT_KEYS = {"agent", "output", "backend", "model", "latency_ms", "usage", "cost_usd", "cached", "attempt",
               "llm_requests", "failure"}


@pytest.fixture(scope="module")
def activities() -> dict:
    """The user functions behind the blueprint, as the Functions worker indexes them."""
    app = df.DFApp()
    app.register_functions(registry.bp)
    return {f.get_function_name(): f.get_user_function() for f in app.get_functions()}


async def call(activities: dict, name: str, payload: object) -> dict:
    """Call like Durable: JSON in, JSON out."""
    result = await activities[name](json.loads(json.dumps(payload)))
    assert json.loads(json.dumps(result)) == result
    assert set(result) == RESULT_KEYS and result["agent"] == name
    return result


def test_every_agent_is_one_activity_named_by_its_constant(activities):
    assert sorted(activities) == sorted(AGENTS)
    app = df.DFApp()
    app.register_functions(registry.bp)
    bindings = {f.get_function_name(): json.loads(f.get_function_json())["bindings"] for f in app.get_functions()}
    for name in AGENTS:
        assert bindings[name] == [{"direction": "IN", "type": "activityTrigger", "name": "payload", "activity": name}]


async def test_a_whole_workflow_of_activities_runs_offline(activities):
    base = {"instance_id": "wf-1", "workflow": "parallel", "options": {"summary_words": 40}}
    collected = await call(activities, COLLECT_DATA, {**base, "request": {"text": FINANCE, "title": "Q3"}})
    bundle = collected["output"]
    outputs = {}
    for name in (ANALYZE, SUMMARIZE, CATEGORIZE):
        result = await call(activities, name, {**base, "bundle": bundle})
        assert result["backend"] == "offline" and result["attempt"] == 1
        outputs[name] = result["output"]
    report = (await call(activities, AGGREGATE, {**base, "bundle": bundle, "results": outputs, "errors": []}))["output"]
    assert report["sources"] == [ANALYZE, SUMMARIZE, CATEGORIZE] and report["degraded"] is False
    assert report["category"] == "finance" and report["sentiment"]["label"] == "positive"
    assert report["headline"].startswith("Q3:")


async def test_aggregate_takes_whole_agent_results_and_reports_what_is_missing(activities):
    analysis = await call(activities, ANALYZE, {"bundle": {"title": "t", "documents": [{"text": COMPLAINT}],
                                                           "chars": 1, "words": 1}})
    report = (await call(activities, AGGREGATE, {
        "results": {ANALYZE: analysis, SUMMARIZE: {"summary": ""}, "not_an_agent": {"anything": 1}},
        "errors": [{"agent": CATEGORIZE, "error": "gave up", "kind": "retries_exhausted", "permanent": False}],
    }))["output"]
    assert report["sources"] == [ANALYZE] and report["missing"] == [SUMMARIZE, CATEGORIZE]
    assert [e["agent"] for e in report["errors"]] == [CATEGORIZE, SUMMARIZE]
    assert report["sentiment"]["label"] == "negative" and report["degraded"] is True


async def test_error_handler_attaches_an_offline_fallback_for_the_failed_agent(activities):
    bundle = {"title": "Review", "documents": [{"text": REVIEW}], "chars": 1, "words": 1}
    failure = {"agent": SUMMARIZE, "error": "[content_filter] summarize", "kind": "content_filter", "permanent": True}
    report = (await call(activities, ERROR_HANDLER, {"failure": failure, "bundle": bundle}))["output"]
    assert report["failed_agent"] == SUMMARIZE and report["permanent"] is True
    assert report["fallback"]["agent"] == SUMMARIZE and report["fallback"]["backend"] == "offline"
    fallback_summary = report["fallback"]["output"]["summary"]
    assert fallback_summary and all(s in REVIEW for s in textkit.sentences(fallback_summary))


@pytest.mark.parametrize("payload", ["not json", 42, {}, {"failure": "boom"}, {"failure": {"agent": 1}}])
async def test_error_handler_never_fails_offline(activities, payload):
    result = await activities[ERROR_HANDLER](payload)
    assert result["backend"] == "offline" and result["output"]["summary"]


async def test_error_handler_falls_back_offline_when_the_model_refuses(activities, openai_backend):
    openai_backend.script(Reply.content_filter())
    result = await call(activities, ERROR_HANDLER, {"failure": {"agent": ANALYZE, "error": "x"}})
    assert result["backend"] == "offline" and len(openai_backend.requests) == 1


async def test_input_may_arrive_as_json_text(activities):
    result = await activities[COLLECT_DATA](json.dumps({"text": "One sentence here."}))
    assert result["output"]["documents"][0]["text"] == "One sentence here."


async def test_invalid_input_is_a_permanent_failure_returned_as_data_naming_the_field(activities):
    result = await call(activities, SUMMARIZE, {"bundle": {"title": "x"}})
    failure = result["failure"]
    assert (failure["kind"], failure["permanent"], result["output"]) == ("input", True, {})
    assert "bundle" in failure["error"]
    result = await call(activities, ANALYZE, {"bundle": {"title": "x", "documents": [], "chars": 0, "words": 0}})
    assert result["failure"]["kind"] == "input"


async def test_blobs_outside_the_input_containers_are_refused_by_the_agent_too(activities, agent_env):
    agent_env.setenv("BATON_INPUT_CONTAINERS", "inbox,azure-webjobs-secrets,workflow-results")
    for blob in ("azure-webjobs-secrets/app/host.json", "workflow-results/pipeline/other.json", "outbox/a.txt"):
        result = await call(activities, COLLECT_DATA, {"request": {"blobs": [blob]}})
        assert result["failure"]["kind"] == "input" and "is not readable" in result["failure"]["error"]


async def test_log_lines_carry_instance_workflow_agent_and_attempt(activities, caplog):
    caplog.set_level(logging.INFO, logger="agents")
    payload = {"instance_id": "inst-42", "workflow": "sequential", "request": {"text": REVIEW}}
    await activities[COLLECT_DATA](payload)
    await activities[COLLECT_DATA](payload)
    records = [r for r in caplog.records if r.name.startswith("agents.")]
    assert records and all(r.instance_id == "inst-42" and r.workflow == "sequential" for r in records)
    assert {r.agent for r in records} == {COLLECT_DATA}
    assert [r.attempt for r in records if "collected" in r.getMessage()] == [1, 2]
    assert "[instance=inst-42 workflow=sequential agent=collect_data attempt=2]" in caplog.text


def test_the_agents_package_does_not_import_devhost():
    code = "import agents.registry, sys; print(sorted(m for m in sys.modules if m.split('.')[0] == 'devhost'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- under a real Durable retry policy --------------------------------------------------------
@pytest.fixture
def devhost_app_dir() -> Path:
    return Path(__file__).parent / "apps" / "agent_retry"


async def run_with_retries(devhost, http, agent: str, body: dict, attempts: int = 3) -> dict:
    start = {"agent": agent, "attempts": attempts, "body": body}
    async with http.post("/runtime/webhooks/durabletask/orchestrators/call_agent", json=start) as response:
        assert response.status == 202, await response.text()
        instance_id = (await response.json())["id"]
    status = await devhost.wait_for_instance(instance_id, timeout=60)
    assert status["runtimeStatus"] == "Completed", status
    return status["output"]


def analysis_body(text: str = FINANCE) -> dict:
    return {"instance_id": "x", "workflow": "test", "bundle": {"title": "t", "documents": [{"text": text}],
                                                             "chars": len(text), "words": 1}}


async def test_durable_retries_transient_failures_until_success(devhost, devhost_http, openai_backend):
    openai_backend.script(Reply.server_error(500), Reply.server_error(503), Reply.json(ANALYSIS))
    output = await run_with_retries(devhost, devhost_http, ANALYZE, analysis_body())
    assert output["ok"] is True and output["result"]["backend"] == "openai"
    assert len(openai_backend.requests) == 3


async def test_durable_gives_up_after_the_policy_on_transient_failures(devhost, devhost_http, openai_backend):
    openai_backend.script(*[Reply.server_error(502)] * 3)
    output = await run_with_retries(devhost, devhost_http, ANALYZE, analysis_body(), attempts=2)
    assert output["ok"] is False and "TransientAgentError: [server_error]" in output["error"]
    assert len(openai_backend.requests) == 2 and openai_backend.pending == 1


async def test_a_permanent_failure_reaches_the_orchestrator_typed_after_one_request(
    devhost, devhost_http, openai_backend
):
    openai_backend.script(Reply.content_filter())
    output = await run_with_retries(devhost, devhost_http, ANALYZE, analysis_body())
    assert output["ok"] is True  # the activity did not fail: it answered with the failure as data
    failure = output["result"]["failure"]
    assert (failure["agent"], failure["kind"], failure["permanent"]) == (ANALYZE, "content_filter", True)
    assert len(openai_backend.requests) == 1  # nothing to retry


async def test_a_rate_limit_waits_then_the_retry_succeeds(devhost, devhost_http, openai_backend, monkeypatch):
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr(chat, "sleep", record)
    openai_backend.script(Reply.rate_limited(retry_after=4), Reply.json(ANALYSIS))
    output = await run_with_retries(devhost, devhost_http, ANALYZE, analysis_body())
    assert output["ok"] is True and delays == [4] and len(openai_backend.requests) == 2


async def test_blob_names_with_dot_segments_are_refused_by_the_agent_too(activities, agent_env):
    """Issue 10: ``inbox/../workflow-results/x`` must not reach the storage client, whose URL a server may
    normalise into another container."""
    agent_env.setenv("BATON_INPUT_CONTAINERS", "inbox")
    for blob in ("inbox/../workflow-results/pipeline/other.json", "inbox/./a.txt", "inbox/a//b.txt", "inbox/a/"):
        result = await call(activities, COLLECT_DATA, {"request": {"blobs": [blob]}})
        assert result["failure"]["kind"] == "input" and "must be 'container/name'" in result["failure"]["error"]
