"""A new agent and a new workflow, added exactly as the README's walk-throughs say, run end to end.

The app is copied to a temporary directory, the two files are written from the README's code
blocks (nothing else is touched), and devhost serves the copy in its own process, as
``python -m devhost start APP_DIR`` does for a user.  Offline agents, memory store, no storage.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sys
from pathlib import Path

import aiohttp

from tests.workflows.conftest import wait_until
from tests.workflows.readme import files_in

ROOT = Path(__file__).resolve().parents[2]
APP = ("function_app.py", "host.json", "agents", "api", "orchestrators")
TEXT = json.loads((ROOT / "examples" / "review.json").read_text())["text"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_app(target: Path) -> None:
    for name in APP:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)


async def baton(*args: str) -> tuple[int, str]:
    """``python -m baton ...``: exit code and standard output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "160", "NO_COLOR": "1"},
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode()


async def test_a_new_agent_and_a_new_workflow_from_the_readme_run_on_devhost(tmp_path: Path):
    copy_app(tmp_path)
    added = {**files_in("Add your own agent"), **files_in("Add your own workflow")}
    for path, code in added.items():
        assert not (tmp_path / path).exists()  # new files, not edits
        (tmp_path / path).write_text(code, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "BATON_LLM_BACKEND": "offline",
           "TASKHUB_NAME": "ReadmeHub", "AzureWebJobsStorage": "", "BATON_STORAGE": ""}
    host = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devhost", "start", str(tmp_path), "--port", str(port), "--store", "memory",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        banner = ""
        async with asyncio.timeout(60):
            while "listening on" not in banner:
                line = await host.stdout.readline()
                assert line, f"devhost ended:\n{banner}"
                banner += line.decode()
        assert "keywords: activityTrigger" in banner and "keyword_report: orchestrationTrigger" in banner

        async with aiohttp.ClientSession(url) as http:
            async with http.get("/api/definitions") as response:
                definitions = {w["name"]: w for w in (await response.json())["workflows"]}
            assert definitions["keyword_report"]["agents"] == ["collect_data", "keywords"]
            code, out = await baton("workflows", "--url", url)
            assert code == 0 and "keyword_report" in out

            async with http.post("/api/workflows/keyword_report", json={"text": TEXT}) as response:
                assert response.status == 202, await response.text()
                instance_id = (await response.json())["id"]

            async def finished() -> dict | None:
                async with http.get(f"/api/workflows/{instance_id}") as response:
                    status = await response.json()
                return status if status["runtimeStatus"] in ("Completed", "Failed") else None

            status = await wait_until(finished, what=f"{instance_id} to finish")
            assert status["runtimeStatus"] == "Completed" and status["output"]["outcome"] == "succeeded"
            keywords = status["output"]["data"]["report"]["keywords"]
            assert keywords and all(word.lower() in TEXT.lower() for word in keywords)
            assert status["output"]["agents"]["keywords"]["backend"] == "offline"

        code, graph = await baton("graph", instance_id, "--url", url)
        assert code == 0 and "  class collect_data,keywords,done completed\n" in graph
        code, out = await baton("run", "keyword_report", "--input", str(ROOT / "examples" / "review.json"),
                                "--url", url, "--json", "--interval", "0.05")
        assert code == 0 and json.loads(out)["output"]["data"]["report"]["keywords"] == keywords
    finally:
        host.terminate()
        await asyncio.wait_for(host.wait(), 30)
