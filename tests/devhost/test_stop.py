"""A prompt stop: Ctrl-C / SIGTERM ends ``devhost start`` while an activity is blocked.

Matched behaviour: the Functions host drains for a bounded grace period and then stops
whatever functions still run; their work is not committed and, on Azure Storage, the
activity's work item becomes visible again so another host runs it (DurableTask.AzureStorage
abandons held messages on shutdown).  The activity here blocks its thread on a socket that
never receives anything, so waiting for it would never end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest

from devhost.engine import history as h
from devhost.store.azure import AzureStore
from devhost.store.base import RuntimeStatus
from tests.devhost.test_cli import ROOT, free_port, read_until

BLOCKING_APP = Path(__file__).parent / "apps" / "blocking"
EXIT_GUARD_SECONDS = 30  # a liveness guard only: a stop that waited for the activity would never end


async def start_blocked(tmp_path: Path, store: str, hub: str, extra_env: dict[str, str]):
    """A devhost process whose only activity is blocked; returns (process, instance id)."""
    marker = tmp_path / f"blocked-{uuid.uuid4().hex}"
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devhost", "start", str(BLOCKING_APP), "--port", str(port), "--store", store,
        "--hub", hub, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "BLOCKING_MARKER": str(marker), **extra_env},
    )
    await read_until(process.stdout, "listening on")
    async with (
        aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http,
        http.post("/api/orchestrators/wait_for_socket") as response,
    ):
        assert response.status == 202
        instance_id = (await response.json())["id"]
    async with asyncio.timeout(EXIT_GUARD_SECONDS):
        while not marker.exists():
            await asyncio.sleep(0.02)
    return process, instance_id


async def stop(process: asyncio.subprocess.Process, sig: signal.Signals) -> str:
    process.send_signal(sig)
    try:
        output = await asyncio.wait_for(process.stdout.read(), EXIT_GUARD_SECONDS)
        await asyncio.wait_for(process.wait(), EXIT_GUARD_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return output.decode()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_stop_does_not_wait_for_an_activity_blocked_on_a_socket(tmp_path, sig):
    process, _ = await start_blocked(tmp_path, "memory", f"stop{uuid.uuid4().hex[:8]}", {})
    output = await stop(process, sig)
    assert process.returncode == 0
    assert "shutting down" in output and "abandoned 1 function call(s) still running" in output
    assert "Traceback" not in output


@pytest.mark.azurite
async def test_a_stopped_hosts_activity_work_item_is_visible_again_and_nothing_half_committed(
    tmp_path, azurite_connection_string
):
    hub = f"stop{uuid.uuid4().hex[:10]}"
    # Locks long enough that only an explicit abandon can make the work item visible in this test.
    env = {"AzureWebJobsStorage": azurite_connection_string, "DEVHOST_AZURE_LOCK_SECONDS": "600"}
    process, instance_id = await start_blocked(tmp_path, "azurite", hub, env)
    await stop(process, signal.SIGTERM)
    assert process.returncode == 0
    store = AzureStore.from_setting(hub, azurite_connection_string)
    await store.open()
    try:
        instance = await store.get_instance(instance_id)
        assert instance.runtime_status is RuntimeStatus.RUNNING
        kinds = [e["EventType"] for e in await store.get_history(instance_id)]
        assert h.EventType.TaskScheduled in kinds
        assert h.EventType.TaskCompleted not in kinds and h.EventType.TaskFailed not in kinds
        async with asyncio.timeout(EXIT_GUARD_SECONDS):
            while (item := await store.lock_activity_work_item()) is None:
                await asyncio.sleep(0.05)
        assert (item.name, item.instance_id) == ("read_forever", instance_id)
    finally:
        await store.destroy()
        await store.close()


async def test_ctrl_c_interrupts_an_app_whose_import_blocks(tmp_path):
    marker = tmp_path / "importing"
    (tmp_path / "function_app.py").write_text(
        "import pathlib, socket\nimport azure.functions as func\n"
        f"pathlib.Path({str(marker)!r}).write_text('x')\n"
        "socket.socketpair()[0].recv(1)  # blocks the import forever\n"
        "app = func.FunctionApp()\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devhost", "start", str(tmp_path), "--store", "memory", "--port", str(free_port()),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(EXIT_GUARD_SECONDS):
        while not marker.exists():
            await asyncio.sleep(0.02)
    output = await stop(process, signal.SIGINT)
    assert process.returncode == 130
    assert "devhost: interrupted" in output and "Traceback" not in output
