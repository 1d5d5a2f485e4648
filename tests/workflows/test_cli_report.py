"""The CLI's report as a user reads it: ``python -m baton`` as a subprocess against devhost.

Every workflow's report is text (no JSON), estimates and "no LLM was called" are explained,
error tags such as ``[input]`` survive rich's markup, the failed backend is named, ``pipeline``
shows its saved checkpoints, ``approval`` its decision, and the live panel keeps the progress
bar and the first agent on separate lines.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from tests.fakes.openai_server import Reply
from tests.workflows.conftest import agent_of, wait_for_stage

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "review.json"
OFFLINE_NOTE = "offline backend: no LLM was called"
SETUP_HINT = "set AZURE_OPENAI_ENDPOINT"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


async def baton(*args: str, env: dict[str, str] | None = None, columns: int = 120) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", *args, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def run(devhost, workflow: str, source: Path = EXAMPLE, **kwargs) -> tuple[int, str, str]:
    return await baton("run", workflow, "--input", str(source), "--url", devhost.url, "--interval", "0.05", **kwargs)


def report_of(out: str) -> str:
    """The report: everything after the progress lines."""
    return out[out.index("╭"):]


def assert_no_json(text: str) -> None:
    assert not re.search(r'[{\[]\s*"|"\s*:\s*[{\["\d]', text), f"raw JSON in the report:\n{text}"


@pytest.mark.parametrize("workflow", ["sequential", "parallel"])
async def test_every_workflow_reports_text_and_says_what_offline_means(devhost, workflow):
    code, out, err = await run(devhost, workflow)
    assert code == 0, err + out
    report = report_of(out)
    assert_no_json(report)
    assert "category: finance" in report and "key points:" in report and re.search(r"\n│ +- \w", report)
    if workflow == "sequential":  # one section per agent, their fields under it
        assert re.search(r"│ analyze\s+│\n│   sentiment: ", report) and "│ summarize " in report
    assert OFFLINE_NOTE in report and "estimates" in report and SETUP_HINT in report.replace("\n", " ")
    assert re.search(r"│ analyze\s+│ offline\s+│.*│\s+~\d+ │", report)  # estimated tokens marked
    assert re.search(r"tokens ~\d+ \(prompt ~\d+, completion ~\d+, estimated\)", report)
    assert "saved workflow state" not in report  # only pipeline checkpoints


@pytest.mark.azurite  # the checkpoints are saved to Blob storage (Azurite)
async def test_pipeline_shows_its_saved_checkpoints_and_parallel_does_not(devhost, workflow_env):
    container = workflow_env["BATON_RESULTS_CONTAINER"]
    code, out, err = await run(devhost, "pipeline")
    assert code == 0, err + out
    report = report_of(out)
    instance_id = out.split("instance", 1)[1].split()[0]
    saved = f"{container}/pipeline/{instance_id}.json"
    rows = {line.split("│")[1].strip(): line for line in report.splitlines() if line.startswith("│ ")}
    assert "saved workflow state" in report
    assert "collecting" in rows["after collect"] and saved in rows["after collect"]
    assert "analyzing" in rows["after analysis"] and saved in rows["after analysis"]
    assert "completed" in rows["final state"] and saved in rows["final state"]
    code, parallel, _ = await run(devhost, "parallel")
    assert code == 0 and "saved workflow state" not in parallel and "after collect" not in parallel


async def test_pipeline_without_storage_says_its_checkpoints_were_not_saved(devhost):
    code, out, err = await run(devhost, "pipeline")
    assert code == 0, err + out
    rows = [line for line in report_of(out).splitlines() if line.startswith(("│ after", "│ final state"))]
    assert len(rows) == 3 and all("not saved" in row for row in rows)


async def test_error_tags_survive_markup(devhost, tmp_path, workflow_env):
    request = tmp_path / "missing.json"
    request.write_text(json.dumps({"blobs": [f"{workflow_env['BATON_INPUT_CONTAINERS']}/none.txt"]}))
    code, out, _ = await run(devhost, "sequential", request)
    assert code == 1
    # No storage in this test: reading the blob fails with the [config] tag, which rich would swallow.
    assert "error collect_data (config, permanent): [config] collect_data: reading blob" in " ".join(out.split())


async def test_a_failing_model_backend_is_named_and_no_setup_hint_is_shown(devhost, openai_backend):
    openai_backend.responder = lambda r: (
        Reply.content_filter() if agent_of(r) == "analyze" else openai_backend.default_reply(r)
    )
    code, out, err = await run(devhost, "sequential")
    assert code == 1, err + out
    flat = " ".join(out.split())
    assert "error analyze (content_filter, permanent): [content_filter] analyze: openai gpt-4o-mini:" in flat
    assert "the openai backend failed" in flat
    assert SETUP_HINT not in flat and OFFLINE_NOTE not in flat
    assert re.search(r"│ collect_data\s+│ offline", out)  # collect_data calls no model


async def test_approval_shows_the_waiting_panel_then_the_decision(devhost, devhost_http):
    with devhost.clock.auto_time_skipping_disabled():
        code, out, err = await baton("run", "approval", "--input", str(EXAMPLE), "--url", devhost.url, "--no-wait")
        assert code == 0, err
        instance_id = out.split("instance", 1)[1].split()[0]
        await wait_for_stage(devhost_http, instance_id, "awaiting_approval")
        code, out, _ = await baton("status", instance_id, "--url", devhost.url)
        assert code == 0 and "Running" in out and "waiting for the event 'approval'" in out
        assert_no_json(out)
        assert re.search(rf"approve: .* approve {instance_id} --url ", out)
        code, out, _ = await baton("approve", instance_id, "--by", "ann", "--comment", "looks [good]",
                                   "--url", devhost.url)
        assert code == 0 and f"approved {instance_id} (by ann: looks [good])" in out
        await devhost.wait_for_instance(instance_id)
    code, out, _ = await baton("status", instance_id, "--url", devhost.url)
    assert code == 0 and "approval" in out and ": approved (published)" in out
    assert "decision: approved by ann: looks [good]" in out


async def test_the_live_panel_puts_the_bar_and_the_first_agent_on_separate_lines(devhost):
    code, out, err = await run(devhost, "parallel", env={"TTY_COMPATIBLE": "1"})  # rich's live panel
    assert code == 0, err
    frames = ANSI.sub("", out).replace("\r", "\n")
    bars = [line for line in frames.splitlines() if "━" in line and "agents" in line]
    assert bars, frames
    assert all("collect_data" not in line for line in bars)
    lines = frames.splitlines()
    after = lines[lines.index(bars[-1]) + 1]
    assert re.match(r"│ collect_data\s+completed", after), after
