"""Kill -9 a devhost on Azurite at random moments, restart it: nothing lost, nothing done twice.

20 workflows of four patterns (chain, fan-out, sub-orchestration, durable timer) run in a
``python -m devhost start --store azurite`` child process that is SIGKILLed three times.
Every workflow must end Completed with the right output, and every activity must have
completed exactly once, except the few in flight at a kill (at most the host's activity
concurrency per killed process), whose earlier runs were in killed processes.

A store-level test pins the case that used to go wrong: an activity completed just before
the crash, its result still hidden by the dead host's lock, must not be sent again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import socket
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from devhost.azurite import connection_string
from devhost.engine import history as h
from devhost.host import unique_hub_name
from devhost.store.azure import AzureStore, AzureStoreOptions
from devhost.store.base import ActivityWorkItem, EpisodeCommit, Message, OrchestrationInstance, RuntimeStatus

pytestmark = pytest.mark.azurite
APP = Path(__file__).parent / "apps" / "crash"
ROOT = Path(__file__).resolve().parents[2]
WEBHOOK = "/runtime/webhooks/durabletask"
MAX_CONCURRENT_ACTIVITIES = 4  # the crash app's host.json
KILLS = 3


def expected_output(name: str, instance_id: str) -> list[str]:
    if name == "chain":
        return [f"{instance_id}:chain:{i}".upper() for i in range(4)]
    if name == "fan":
        return [f"{instance_id}:fan:{i}".upper() for i in range(6)]
    if name == "parent":
        child = f"{instance_id}-child"
        return [f"{child}:chain:0".upper(), f"{child}:chain:1".upper(), f"{instance_id}:parent".upper()]
    return [f"{instance_id}:timed".upper()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HostProcess:
    """One incarnation of ``python -m devhost start`` on the test's hub."""

    def __init__(self, hub: str, port: int, env: dict[str, str], log: Path) -> None:
        self.hub, self.port, self.env, self.log = hub, port, env, log
        self.process: asyncio.subprocess.Process | None = None
        self.url = f"http://127.0.0.1:{port}"

    async def start(self) -> int:
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "devhost", "start", str(APP), "--store", "azurite", "--hub", self.hub,
                "--port", str(self.port), cwd=ROOT, env=self.env, stdout=output, stderr=asyncio.subprocess.STDOUT,
            )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.url + "/") as response:
                        if response.status == 200:
                            return self.process.pid
                assert self.process.returncode is None, self.log.read_text()[-3000:]
                await asyncio.sleep(0.1)
        raise AssertionError("devhost did not start:\n" + self.log.read_text()[-3000:])

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 30)
            if self.process.returncode is None:
                await self.kill()


async def statuses(http: aiohttp.ClientSession, url: str, ids: list[str]) -> dict[str, dict]:
    found = {}
    for instance_id in ids:
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(f"{url}{WEBHOOK}/instances/{instance_id}") as response:
                if response.status in (200, 202):
                    found[instance_id] = await response.json()
    return found


async def test_sigkill_at_random_moments_loses_nothing_and_repeats_only_in_flight_work(
    tmp_path, azurite_connection_string
):
    seed = int(os.environ.get("CRASH_SEED") or int.from_bytes(os.urandom(4), "big"))  # to replay a failure
    rng = random.Random(seed)
    hub = unique_hub_name("crash")
    executions = tmp_path / "executions.log"
    executions.touch()
    env = {**os.environ, "CRASH_LOG": str(executions), "AzureWebJobsStorage": "UseDevelopmentStorage=true",
           "DEVHOST_AZURE_LOCK_SECONDS": "5", "DEVHOST_AZURE_LEASE_SECONDS": "4", "PYTHONUNBUFFERED": "1"}
    host = HostProcess(hub, free_port(), env, tmp_path / "devhost.log")
    workflows = {f"w{n:02d}": ("chain", "fan", "parent", "timed")[n % 4] for n in range(20)}
    killed: set[int] = set()
    try:
        await host.start()
        async with aiohttp.ClientSession() as http:
            for instance_id, name in workflows.items():
                async with http.post(f"{host.url}{WEBHOOK}/orchestrators/{name}/{instance_id}") as response:
                    assert response.status == 202, await response.text()
            completed_at_first_kill = None
            while len(executions.read_text().splitlines()) < 5:  # the first kill lands mid-work
                await asyncio.sleep(0.02)
            for kill in range(KILLS):
                await asyncio.sleep(rng.uniform(0.0, 0.5) if kill == 0 else rng.uniform(0.3, 2.0))
                killed.add(host.process.pid)
                await host.kill()
                if completed_at_first_kill is None:
                    completed_at_first_kill = len(executions.read_text().splitlines())
                await host.start()
            final: dict[str, dict] = {}
            for _ in range(900):
                final = await statuses(http, host.url, list(workflows))
                if len(final) == len(workflows) and all(s["runtimeStatus"] == "Completed" for s in final.values()):
                    break
                await asyncio.sleep(0.2)
        await host.stop()
        unfinished = {i: final.get(i, {}).get("runtimeStatus") for i in workflows
                      if final.get(i, {}).get("runtimeStatus") != "Completed"}
        detail = f"seed {seed}; unfinished {unfinished}; devhost log: {host.log}"
        for instance_id, name in workflows.items():
            assert final[instance_id]["runtimeStatus"] == "Completed", detail
            assert final[instance_id]["output"] == expected_output(name, instance_id), detail

        runs = [line.split(" ", 1) for line in executions.read_text().splitlines()]
        by_key = collections.defaultdict(list)
        for pid, key in runs:
            by_key[key].append(int(pid))
        expected_keys = {k.lower() for name_id in workflows.items() for k in expected_output(name_id[1], name_id[0])}
        assert set(by_key) == expected_keys, detail
        repeated = {key: pids for key, pids in by_key.items() if len(pids) > 1}
        # A repeat is only allowed for work in flight at a kill: its earlier runs were in killed hosts.
        assert all(set(pids[:-1]) <= killed for pids in repeated.values()), (repeated, detail)
        assert sum(len(p) - 1 for p in repeated.values()) <= KILLS * MAX_CONCURRENT_ACTIVITIES, (repeated, detail)
        # ... a process never ran one activity twice, and each killed one had at most its concurrency in flight.
        assert all(len(set(pids)) == len(pids) for pids in repeated.values()), (repeated, detail)
        in_flight = collections.Counter(pid for pids in repeated.values() for pid in pids[:-1])
        assert max(in_flight.values(), default=0) <= MAX_CONCURRENT_ACTIVITIES, (repeated, detail)
        assert 0 < completed_at_first_kill < len(expected_keys), f"the first kill missed the work ({detail})"
    finally:
        await host.stop()
        await AzureStore.from_setting(hub, connection_string()).destroy()


async def test_an_activity_completed_before_a_crash_is_not_sent_again(azurite_connection_string):
    now = datetime(2020, 1, 1, 12, tzinfo=UTC)
    hub = unique_hub_name("crash")
    quick = AzureStoreOptions(lock_seconds=4, lease_seconds=1.0)  # the successor comes before the locks run out
    crashed = AzureStore.from_setting(hub, azurite_connection_string, options=replace(quick, checkpoint_mark_delay=60))
    successor = AzureStore.from_setting(hub, azurite_connection_string, options=quick)

    async def until(attempt, wait: float = 30.0):
        deadline = time.monotonic() + wait
        while (found := await attempt()) is None and time.monotonic() < deadline:
            await successor.wait_for_work(0.2)
        return found

    try:
        await crashed.open()
        row = OrchestrationInstance("x", "orch", "e-x", RuntimeStatus.PENDING, now, now)
        start = Message("start-x", "x", h.execution_started(now, instance_id="x", execution_id="e-x", name="orch",
                                                            input=None), "e-x")
        await crashed.create_instance(row, start)
        item = await crashed.lock_orchestration_work_item(now)
        work = [ActivityWorkItem(f"x:e-x:{task}", "x", "e-x", task, "step", '"in"') for task in (1, 2)]
        events = [h.orchestrator_started(now), start.event, h.orchestrator_completed(now)]
        running = replace(row, runtime_status=RuntimeStatus.RUNNING)
        await crashed.complete_orchestration_work_item(
            item, EpisodeCommit(running, events, consumed=["start-x"], activities=work))  # its checkpoint stays open
        done = await crashed.lock_activity_work_item()
        result = Message(f"{done.message_id}:result", "x", h.task_completed(now, done.task_id, '"out"'), "e-x")
        await crashed.complete_activity_work_item(done, result)  # the result is held, invisible, by the dead host
        in_flight = await crashed.lock_activity_work_item()
        await crashed.halt()

        await successor.open()
        item = await until(lambda: successor.lock_orchestration_work_item(now))
        assert item.instance_id == "x" and [m.message_id for m in item.messages] == [result.message_id]
        again = await until(successor.lock_activity_work_item)
        assert again.message_id == in_flight.message_id  # the in-flight one runs again ...
        assert await until(successor.lock_activity_work_item, wait=2.0) is None  # ... the completed one does not
    finally:
        await crashed.halt()
        await successor.close()
        await successor.destroy()


START_THEN_DIE = """
import asyncio, os, signal, sys
from datetime import UTC, datetime
from devhost.engine import history as h
from devhost.store.azure import AzureStore
from devhost.store.base import Message, OrchestrationInstance, RuntimeStatus

async def main(hub, instance_id, kill_at):
    store = AzureStore.from_setting(hub, os.environ["AzureWebJobsStorage"])
    await store.open()
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    if kill_at == "message":  # killed as the start message is being sent: nothing was written
        for queue in store.hub.control:
            queue.put = die
    else:  # killed as the row is being written: the start message is out
        store.hub.instances.insert = die
    now = datetime.now(UTC)
    row = OrchestrationInstance(instance_id, "chain", "e-" + instance_id, RuntimeStatus.PENDING, now, now)
    start = h.execution_started(now, instance_id=instance_id, execution_id=row.execution_id, name="chain", input=None)
    await store.create_instance(row, Message("start-" + instance_id, instance_id, start, row.execution_id))

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.parametrize("kill_at", ["message", "row"])
async def test_a_start_cut_off_by_sigkill_never_appears_or_runs_and_can_be_retried(
    tmp_path, kill_at, azurite_connection_string
):
    """Issue 10, finding 2: a host killed during a start (between the start message and the
    Pending row) left the instance Pending forever and a retry answered 409."""
    hub = unique_hub_name("crash")
    instance_id = f"start-{kill_at}"
    executions = tmp_path / "executions.log"
    executions.touch()
    env = {**os.environ, "CRASH_LOG": str(executions), "AzureWebJobsStorage": azurite_connection_string,
           "DEVHOST_AZURE_LOCK_SECONDS": "4", "DEVHOST_AZURE_LEASE_SECONDS": "4", "PYTHONUNBUFFERED": "1"}
    starter = await asyncio.create_subprocess_exec(
        sys.executable, "-c", START_THEN_DIE, hub, instance_id, kill_at, cwd=ROOT, env=env)
    assert await starter.wait() == -9  # SIGKILLed inside create_instance
    reader = AzureStore.from_setting(hub, azurite_connection_string, options=AzureStoreOptions(dispatch=False))
    try:
        row = await reader.get_instance(instance_id)
    finally:
        await reader.close()
    assert row is None  # no Pending row without its start message
    host = HostProcess(hub, free_port(), env, tmp_path / "devhost.log")
    try:
        await host.start()
        async with aiohttp.ClientSession() as http:
            if kill_at == "message":
                assert await statuses(http, host.url, [instance_id]) == {}  # never appeared
            else:  # the message was out: the instance runs although its row was never written
                for _ in range(600):
                    found = (await statuses(http, host.url, [instance_id])).get(instance_id)
                    if found and found["runtimeStatus"] == "Completed":
                        break
                    await asyncio.sleep(0.1)
                assert found and found["output"] == expected_output("chain", instance_id), host.log
            # a start retried with the same id after the crash works
            async with http.post(f"{host.url}{WEBHOOK}/orchestrators/chain/{instance_id}") as response:
                assert response.status == 202, await response.text()
            for _ in range(600):
                found = (await statuses(http, host.url, [instance_id])).get(instance_id)
                if found and found["runtimeStatus"] == "Completed":
                    break
                await asyncio.sleep(0.1)
            assert found and found["output"] == expected_output("chain", instance_id), host.log
    finally:
        await host.stop()
        await AzureStore.from_setting(hub, connection_string()).destroy()
