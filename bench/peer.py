"""The peer: durabletask-python's InMemoryBackend (gRPC sidecar) running the same workloads."""

from __future__ import annotations

import logging
import socket
import time

from durabletask import client as dt_client
from durabletask import task, worker
from durabletask.testing import create_test_backend


def noop(ctx: task.ActivityContext, value: int) -> int:
    return value


def chain(ctx: task.OrchestrationContext, steps: int):
    for i in range(steps):
        yield ctx.call_activity(noop, input=i)
    return steps


def fan_out(ctx: task.OrchestrationContext, count: int):
    results = yield task.when_all([ctx.call_activity(noop, input=i) for i in range(count)])
    return len(results)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_peer(chain_steps: int, fan_count: int, rounds: int, logger: logging.Logger | None = None
             ) -> dict[str, list[float]]:
    """Seconds per run of each workload, ``rounds`` times (after one warm-up each).  The worker
    logs every episode at INFO: pass ``logger`` to send that somewhere else than stderr."""
    port = _free_port()
    backend = create_test_backend(port=port)
    address = f"localhost:{port}"
    w = worker.TaskHubGrpcWorker(host_address=address, logger=logger)
    w.add_orchestrator(chain)
    w.add_orchestrator(fan_out)
    w.add_activity(noop)
    w.start()
    c = dt_client.TaskHubGrpcClient(host_address=address, logger=logger)
    out: dict[str, list[float]] = {"chain": [], "fan_out": []}
    try:
        for name, fn, arg in (("chain", chain, chain_steps), ("fan_out", fan_out, fan_count)):
            for i in range(rounds + 1):
                started = time.perf_counter()
                instance_id = c.schedule_new_orchestration(fn, input=arg)
                state = c.wait_for_orchestration_completion(instance_id, timeout=300)
                elapsed = time.perf_counter() - started
                if state is None or state.runtime_status.name != "COMPLETED":
                    raise RuntimeError(f"peer {name} did not complete: {state}")
                if i:
                    out[name].append(elapsed)
    finally:
        w.stop()
        backend.stop()
    return out


if __name__ == "__main__":
    print(run_peer(100, 1000, 1))
