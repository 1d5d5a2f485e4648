"""``python -m baton`` against a running devhost: output and exit codes, as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.workflows.conftest import wait_for_stage

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "review.json"


async def baton(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", *args, cwd=ROOT, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"},
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), 120)
    return process.returncode, out.decode(), err.decode()


async def test_run_prints_the_report_and_exits_zero(devhost):
    code, out, err = await baton("run", "pipeline", "--input", str(EXAMPLE), "--url", devhost.url, "--interval", "0.05")
    assert code == 0, err + out
    assert "succeeded" in out and "category: finance" in out and "offline backend" in out
    assert "stage=" in out  # progress lines when not on a terminal


async def test_run_json_reads_stdin_and_reports_the_final_status(devhost):
    code, out, err = await baton("run", "parallel", "--input", "-", "--url", devhost.url, "--json",
                                 "--interval", "0.05", stdin=b"Plain text is taken as the document. Sales rose.")
    assert code == 0, err
    status = json.loads(out)
    assert status["runtimeStatus"] == "Completed" and status["output"]["outcome"] == "succeeded"


async def test_a_failed_workflow_exits_one(devhost, tmp_path, workflow_env):
    request = tmp_path / "missing.json"
    request.write_text(json.dumps({"blobs": [f"{workflow_env['BATON_INPUT_CONTAINERS']}/none.txt"]}))
    code, out, _ = await baton("run", "sequential", "--input", str(request), "--url", devhost.url, "--interval", "0.05")
    assert code == 1
    assert "failed" in out and "collect_data" in out


async def test_bad_input_exits_two_naming_the_field(devhost, tmp_path):
    request = tmp_path / "bad.json"
    request.write_text(json.dumps({"text": 5}))
    code, out, _ = await baton("run", "pipeline", "--input", str(request), "--url", devhost.url)
    assert code == 2 and "HTTP 400" in out and "text" in out
    code, out, _ = await baton("status", "does-not-exist", "--url", devhost.url)
    assert code == 2 and "HTTP 404" in out


async def test_approve_reject_status_list_and_graph(devhost, devhost_http):
    with devhost.clock.auto_time_skipping_disabled():
        code, out, err = await baton("run", "approval", "--input", str(EXAMPLE), "--url", devhost.url, "--no-wait")
        assert code == 0, err
        instance_id = out.split("instance", 1)[1].split()[0]
        await devhost.wait_for_instance(instance_id, until=frozenset({"Running"}))
        await wait_for_stage(devhost_http, instance_id, "awaiting_approval")
        code, out, _ = await baton("list", "--status", "Running", "--url", devhost.url)
        assert code == 0 and instance_id in out  # whole, so it can be copied into approve
        code, out, _ = await baton("graph", instance_id, "--url", devhost.url)
        assert code == 0 and out.startswith("flowchart TD\n") and "  class approval waiting\n" in out
        code, out, _ = await baton("approve", instance_id, "--by", "ann", "--url", devhost.url)
        assert code == 0 and "approved" in out
        await devhost.wait_for_instance(instance_id)
    code, out, _ = await baton("status", instance_id, "--url", devhost.url, "--json")
    assert code == 0
    assert json.loads(out)["output"]["approval"]["by"] == "ann"
