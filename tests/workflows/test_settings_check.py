"""Settings are checked when the app is indexed (devhost and ``baton serve`` refuse it: exit 2, one
line per bad setting, no traceback) and again at every agent call (a permanent failure naming the
setting, not three retries), as they would be in Azure when a value reaches a running worker."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from agents.settings import problems as agent_problems
from api.settings import problems as api_problems

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "review.json"
BAD = {"BATON_LLM_BACKEND": "bogus", "BATON_SUMMARY_WORDS": "few", "BATON_RETRY_MAX_ATTEMPTS": "0",
       "BATON_CACHE_CONTAINER": "Results_2"}
LINES = (
    "  BATON_LLM_BACKEND must be one of auto, azure-openai, openai, offline, got 'bogus'\n",
    "  BATON_SUMMARY_WORDS must be a whole number of at least 5, got 'few'\n",
    "  BATON_RETRY_MAX_ATTEMPTS must be a whole number of at least 1, got '0'\n",
    "  BATON_CACHE_CONTAINER must name Blob containers (",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def command(*args: str, extra: dict[str, str]) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in BAD and k != "BATON_URL"}
    env.update(extra, PYTHONPATH=str(ROOT), NO_COLOR="1", COLUMNS="200", PYTHONUNBUFFERED="1",
               AzureWebJobsStorage="",  # --store memory and no blobs: no Azurite needed
               TASKHUB_NAME="settingscheck")  # host.json's %TASKHUB_NAME% (local.settings.json has it)
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode()


@pytest.mark.parametrize("how", ["devhost start", "baton serve"])
async def test_the_app_refuses_to_start_naming_every_bad_setting(how):
    if how == "devhost start":
        args = ("-m", "devhost", "start", str(ROOT), "--store", "memory", "--port", str(free_port()))
    else:
        args = ("-m", "baton", "serve", "--store", "memory", "--port", str(free_port()))
    code, out = await command(*args, extra=BAD)
    assert code == 2, out
    assert "Traceback" not in out
    assert "InvalidSettings: the app refuses to start; fix these settings" in out
    for line in LINES:
        assert line in out, out
    assert "listening" not in out


async def test_good_settings_start(tmp_path):
    """The same command with the settings fixed serves the app (the refusal above is the settings)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in BAD}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", AzureWebJobsStorage="", BATON_LLM_BACKEND="offline",
               TASKHUB_NAME="settingscheck")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devhost", "start", str(ROOT), "--store", "memory", "--port", str(port),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        seen = ""
        async with asyncio.timeout(90):
            while "listening" not in seen:
                line = await process.stdout.readline()
                assert line, seen
                seen += line.decode()
    finally:
        process.terminate()
        await process.wait()


async def test_a_bad_setting_at_the_first_call_fails_permanently_naming_it(devhost, agent_env):
    """The app was indexed with good settings; a bad value seen at call time is a permanent failure."""
    agent_env.setenv("BATON_LLM_BACKEND", "bogus")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", "run", "sequential", "--input", str(EXAMPLE), "--url", devhost.url,
        "--interval", "0.05", cwd=ROOT, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out = (await asyncio.wait_for(process.communicate(), 120))[0].decode()
    assert process.returncode == 1, out
    # kind "config" and "permanent": not "retries_exhausted", so Durable did not retry it
    assert ("error collect_data (config, permanent): [config] BATON_LLM_BACKEND must be one of auto, "
            "azure-openai, openai, offline, got 'bogus'") in out


def test_every_bad_setting_is_one_line_naming_it_and_what_it_allows():
    env = {**BAD, "OPENAI_BASE_URL": "localhost:8000", "BATON_PRICES": "{", "BATON_TAXONOMY": "only",
           "BATON_INPUT_CONTAINERS": "inbox,$web", "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"}
    found = agent_problems(env)
    named = [line.split()[0] for line in found]
    assert named == ["OPENAI_BASE_URL", "BATON_CACHE_CONTAINER", "BATON_INPUT_CONTAINERS", "BATON_LLM_BACKEND",
                     "BATON_PRICES", "BATON_TAXONOMY", "BATON_SUMMARY_WORDS", "AZURE_OPENAI_DEPLOYMENT"], found
    assert all("\n" not in line for line in found)
    assert "must be set: AZURE_OPENAI_ENDPOINT selects the azure-openai backend" in found[-1]
    assert agent_problems({}) == [] and agent_problems({"BATON_LLM_BACKEND": "OFFLINE"}) == []
    assert agent_problems({"BATON_LLM_BACKEND": "openai"}) == [
        "OPENAI_BASE_URL or OPENAI_API_KEY must be set: BATON_LLM_BACKEND=openai selects the openai backend"]
    secret = agent_problems({"BATON_STORAGE": "s3cret-key-pasted-alone", "AZURE_OPENAI_API_VERSION": "2024-13"})
    assert [line.split()[0] for line in secret] == ["AZURE_OPENAI_API_VERSION", "BATON_STORAGE"]
    assert "must be a storage connection string" in secret[1] and "s3cret" not in secret[1]  # never echoed
    assert agent_problems({"AzureWebJobsStorage": "UseDevelopmentStorage=true", "AZURE_OPENAI_API_VERSION": "v1",
                           "BATON_STORAGE": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k"}) == []
    assert api_problems({"BATON_MAX_BODY_BYTES": "1MB", "BATON_APPROVAL_TIMEOUT_HOURS": "-1",
                         "BATON_RETRY_FIRST_MS": "2000"}) == [
        "BATON_MAX_BODY_BYTES must be a whole number of at least 1024, got '1MB'",
        "BATON_APPROVAL_TIMEOUT_HOURS must be a number of hours above 0, got '-1'",
    ]

