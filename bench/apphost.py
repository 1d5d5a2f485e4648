"""The baton app in its own devhost process, driven over HTTP only (as a user would).

``AppHost.start(store, env)`` runs ``python -m devhost start <repo> --store ...`` on a free
port with its logs in a file, waits for the banner, and on exit reads the process's peak
resident set size (``VmHWM``) before stopping it (``cpu_seconds``: the CPU it used so far).
``run_workflow`` starts one workflow with ``POST /api/workflows/{name}`` and polls
``GET /api/workflows/{id}`` until it is terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from azure.storage.blob.aio import BlobServiceClient

from devhost import azurite
from devhost.store.azure.hub import AzureStoreOptions
from devhost.store.azure.store import AzureStore

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
APPROVAL_STAGE = "awaiting_approval"


@contextlib.contextmanager
def azurite_running(log_dir: Path) -> Iterator[str]:
    """Azurite for a whole benchmark run: the one already listening, else one started here and
    stopped at the end (so hubs are deleted while it still runs: a devhost that starts Azurite
    itself stops it when it exits), its data in memory, as the storage service keeps it: a disk
    save of Azurite's whole database stalls every request for a while.  Says which it is."""
    endpoints = azurite.DEFAULT_ENDPOINTS
    if azurite.is_listening(endpoints.host, endpoints.ports):
        yield "the Azurite already running"
        return
    process = azurite.start(log_dir / "azurite", search_from=ROOT, in_memory=True,
                            why="the benchmarks use Azure Storage")
    try:
        yield "Azurite started by the benchmark, data in memory"
    finally:
        process.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (``VmHWM``), in MiB; 0 when unknown."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (``/proc``); 0 when unknown."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


@dataclass
class AppHost:
    url: str
    process: asyncio.subprocess.Process
    log_path: Path
    http: aiohttp.ClientSession
    peak_rss_mb: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, store: str, env: dict[str, str], log_dir: Path) -> AsyncIterator[AppHost]:
        port = free_port()
        hub = f"bench{uuid.uuid4().hex[:10]}"
        log_path = log_dir / f"devhost-{store}-{port}.log"
        log_file = log_path.open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "devhost", "start", str(ROOT), "--store", store, "--port", str(port), "--hub", hub,
            cwd=str(ROOT), env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE, stderr=log_file,
        )
        try:
            await asyncio.wait_for(_banner(process), timeout=120)
            assert process.stdout is not None
            drain = asyncio.ensure_future(_drain(process.stdout, log_file))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                host = cls(f"http://127.0.0.1:{port}", process, log_path, http)
                yield host
                host.peak_rss_mb = peak_rss_mb(process.pid)
            drain.cancel()
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), timeout=60)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            log_file.close()
            if store == "azurite":
                await forget(hub, env)

    def cpu_seconds(self) -> float:
        """CPU seconds the devhost process has used so far."""
        return cpu_seconds(self.process.pid)

    async def start_workflow(self, workflow: str, body: dict[str, Any]) -> str:
        """``POST /api/workflows/{workflow}``; the instance id."""
        async with self.http.post(f"/api/workflows/{workflow}", json=body) as response:
            if response.status != 202:
                raise RuntimeError(f"POST {workflow}: {response.status} {await response.text()}")
            return str((await response.json())["id"])

    async def status(self, instance_id: str) -> dict[str, Any]:
        """``GET /api/workflows/{id}``."""
        async with self.http.get(f"/api/workflows/{instance_id}") as response:
            if response.status != 200:
                raise RuntimeError(f"GET {instance_id}: {response.status} {await response.text()}")
            return dict(await response.json())

    async def run_workflow(self, workflow: str, body: dict[str, Any], poll: float = 0.01) -> tuple[float, dict]:
        """Seconds from the POST to a terminal status seen by the client, and that status.
        ``approval`` is approved as soon as its progress says it waits for the decision."""
        started = time.perf_counter()
        instance_id = await self.start_workflow(workflow, body)
        approved = False
        while True:
            status = await self.status(instance_id)
            if status.get("runtimeStatus") in TERMINAL:
                return time.perf_counter() - started, status
            stage = (status.get("progress") or {}).get("stage")
            if workflow == "approval" and not approved and stage == APPROVAL_STAGE:
                async with self.http.post(f"/api/workflows/{instance_id}/events/approval",
                                          json={"approved": True, "by": "bench"}) as response:
                    if response.status != 202:
                        raise RuntimeError(f"approve {instance_id}: {response.status} {await response.text()}")
                approved = True
            await asyncio.sleep(poll)


async def _banner(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    while True:
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError(f"devhost exited before listening (code {await process.wait()})")
        if b"listening on" in line:
            return


async def _drain(stream: asyncio.StreamReader, sink: Any) -> None:
    while line := await stream.readline():
        sink.write(line)


async def forget(hub: str, env: dict[str, str]) -> None:
    """Delete what a benchmark run left in Azurite (its task hub, the app's containers of the
    run): Azurite keeps its whole database in memory and writes all of it to disk every few
    seconds, so leftovers of earlier runs make its requests stall for whole seconds."""
    connection = azurite.expand_connection_string(env.get("AzureWebJobsStorage") or "UseDevelopmentStorage=true")
    await AzureStore.from_setting(hub, connection, options=AzureStoreOptions(dispatch=False)).destroy()
    async with BlobServiceClient.from_connection_string(connection) as service:
        for name in {v for k, v in env.items() if k.endswith("_CONTAINER")}:
            with contextlib.suppress(Exception):
                await service.delete_container(name)
