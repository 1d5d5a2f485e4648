"""Where orchestrator replays run (:mod:`devhost.engine.placement`).

The Python worker runs an orchestrator's (synchronous) handle on a pool thread; in devhost
that thread shares the interpreter lock with the host's loop, so small replays run on the loop
(no hand-offs).  An orchestrator whose replay is ever slow, or a large history, goes to the
pool, so that user code that takes long (or blocks, which the real worker would survive on its
own thread) cannot keep the host from serving for more than that one replay.
"""

from __future__ import annotations

import threading

from devhost import worker
from devhost.engine.placement import ReplayPlacement
from tests.devhost.e2e import start


def test_small_replays_run_inline_until_their_orchestrator_is_once_slow():
    placement = ReplayPlacement(inline_max_chars=1000, slow_seconds=0.05)
    assert placement.inline("Chain", 999)
    assert not placement.inline("Chain", 1001)  # a large history: the pool
    placement.observe("Chain", 0.049)
    assert placement.inline("chain", 10)
    placement.observe("Chain", 0.051)
    assert not placement.inline("chain", 10) and not placement.inline("CHAIN", 10)
    assert placement.inline("other", 10)


async def test_an_inline_call_runs_on_the_calling_thread_and_the_default_on_a_pool_thread():
    def handle(context: str) -> str:
        return f"{context}:{threading.current_thread().name}"

    here = threading.current_thread().name
    assert await worker.call_orchestrator(handle, "x", inline=True) == f"x:{here}"
    pooled = await worker.call_orchestrator(handle, "x")
    assert pooled.startswith("x:devhost-sync")


async def test_an_orchestrator_found_slow_replays_on_the_pool_and_still_completes(devhost, devhost_http):
    placement = devhost.dispatcher.placement
    first = await start(devhost_http, "chain", {"steps": 2})
    assert (await devhost.wait_for_instance(first["id"]))["runtimeStatus"] == "Completed"
    assert "chain" not in placement.slow  # its replays are quick: on the loop
    placement.slow_seconds = 0.0  # every replay counts as slow now
    second = await start(devhost_http, "chain", {"steps": 3})
    result = await devhost.wait_for_instance(second["id"])
    assert placement.slow == {"chain"}
    assert result["runtimeStatus"] == "Completed" and result["output"] == ["Hello 0!", "Hello 1!", "Hello 2!"]
