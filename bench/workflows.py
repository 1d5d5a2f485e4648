"""Workflow benchmark: the baton app in a devhost process, over its HTTP API only.

* latency: each workflow (``sequential``, ``parallel``, ``pipeline``, ``approval``, the last
  approved as soon as it waits) from ``POST /api/workflows/{name}`` to a terminal status seen
  by a client polling every 10 ms, offline agents, on each store;
* model-latency ratio: the same against the fake OpenAI server (tests/fakes) answering after a
  fixed delay: wall time / (model calls on the critical path x delay);
* throughput: ``--concurrent`` ``parallel`` workflows started at once on the default store,
  time to the last terminal status, all Completed, and the host process's peak RSS.

Result cache off, so every agent call really runs.  devhost's logs go to ``--log-dir``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from bench.apphost import TERMINAL, AppHost
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply

WORKFLOWS = ("sequential", "parallel", "pipeline", "approval")
CRITICAL_MODEL_CALLS = {"sequential": 3, "parallel": 2, "pipeline": 2, "approval": 2}
"""Model calls one after another: sequential's three agents; the slowest branch, then the aggregator."""
TEXT = (
    "Acme Corp reported third-quarter revenue of $4.2 billion, up 12% from a year earlier. Net income rose "
    "to $610 million and the company raised its full-year guidance. Investors welcomed the results, and the "
    "shares gained 8% in early trading. The chief executive credited strong demand for cloud services."
)


def base_env(log_dir: Path) -> dict[str, str]:
    """Offline agents, ``AzureWebJobsStorage`` (default Azurite) for the task hub and the app's
    blobs, containers of this run only, result cache off."""
    suffix = uuid.uuid4().hex[:8]
    return {
        "AzureWebJobsStorage": os.environ.get("AzureWebJobsStorage") or "UseDevelopmentStorage=true",
        "BATON_LLM_BACKEND": "offline",
        "BATON_CACHE": "off",
        "BATON_CACHE_CONTAINER": f"bench-cache-{suffix}",
        "BATON_BUNDLE_CONTAINER": f"bench-bundles-{suffix}",
        "BATON_RESULTS_CONTAINER": f"bench-results-{suffix}",
        "AZURE_OPENAI_ENDPOINT": "", "OPENAI_BASE_URL": "", "OPENAI_API_KEY": "",
    }


def body(i: int = 0) -> dict[str, Any]:
    return {"text": f"{TEXT} (run {i})", "title": f"bench {i}"}


async def latencies(store: str, rounds: int, log_dir: Path,
                    cpu: dict[str, list[float]] | None = None) -> dict[str, list[float]]:
    """Seconds per run of each workflow with offline agents (after one warm-up each); ``cpu``
    gets the devhost process's CPU seconds per run (the client's status requests included)."""
    out: dict[str, list[float]] = {w: [] for w in WORKFLOWS}
    async with AppHost.start(store, base_env(log_dir), log_dir) as host:
        for workflow in WORKFLOWS:
            for i in range(rounds + 1):
                before = host.cpu_seconds()
                seconds, status = await host.run_workflow(workflow, body(i))
                _check(workflow, status)
                if i:
                    out[workflow].append(seconds)
                    if cpu is not None:
                        cpu.setdefault(workflow, []).append(host.cpu_seconds() - before)
    return out


async def model_ratios(store: str, latency_ms: float, rounds: int, log_dir: Path) -> dict[str, list[float]]:
    """Wall time / critical-path model time per workflow, against the fake OpenAI server."""
    delay = latency_ms / 1000
    out: dict[str, list[float]] = {w: [] for w in WORKFLOWS}
    async with FakeOpenAIServer.start() as server:

        def slow(request: RecordedRequest) -> Reply:
            return dataclasses.replace(server.default_reply(request), delay=delay)

        server.responder = slow
        env = {**base_env(log_dir), "BATON_LLM_BACKEND": "openai", **server.openai_env()}
        async with AppHost.start(store, env, log_dir) as host:
            for workflow in WORKFLOWS:
                for i in range(rounds + 1):
                    before = len(server.requests)
                    seconds, status = await host.run_workflow(workflow, body(i))
                    _check(workflow, status)
                    if len(server.requests) == before:
                        raise RuntimeError(f"{workflow} made no model call: {status}")
                    if i:
                        out[workflow].append(seconds / (CRITICAL_MODEL_CALLS[workflow] * delay))
    return out


async def concurrent(store: str, count: int, log_dir: Path) -> dict[str, float]:
    """``count`` ``parallel`` workflows started at once: seconds until the last is terminal, as
    one client sees it that asks for the unfinished ones in turn (one request at a time, so
    the watching costs the host little); how many Completed; the host's peak RSS."""
    async with AppHost.start(store, base_env(log_dir), log_dir) as host:
        await host.run_workflow("parallel", body())  # warm up
        started = time.perf_counter()
        unfinished = list(await asyncio.gather(*(host.start_workflow("parallel", body(i)) for i in range(count))))
        final: dict[str, dict[str, Any]] = {}
        while unfinished:
            instance_id = unfinished.pop(0)
            status = await host.status(instance_id)
            if status.get("runtimeStatus") in TERMINAL:
                final[instance_id] = status
            else:
                unfinished.append(instance_id)
        elapsed = time.perf_counter() - started
    completed = sum(1 for status in final.values() if status.get("runtimeStatus") == "Completed")
    return {"seconds": elapsed, "completed": completed, "count": count, "peak_rss_mb": host.peak_rss_mb}


def _check(workflow: str, status: dict[str, Any]) -> None:
    output = status.get("output") or {}
    expected = "approved" if workflow == "approval" else "succeeded"
    if status.get("runtimeStatus") != "Completed" or output.get("outcome") != expected:
        raise RuntimeError(f"{workflow} did not succeed: {status.get('runtimeStatus')} {output.get('outcome')} "
                           f"{status.get('error') or output.get('errors')}")


def report(
    stores: list[str], lat: dict[str, dict[str, list[float]]], ratios: dict[str, dict[str, list[float]]],
    latency_ms: float, load: dict[str, float] | None, cpu: dict[str, dict[str, list[float]]] | None = None,
) -> list[str]:
    cpu = cpu or {}
    lines = ["", "workflows over HTTP, offline agents, POST to terminal status (median ms, min-max; "
             "devhost CPU ms per run, median):"]
    lines.append("  workflow     " + "".join(f"{s:>36}" for s in stores))
    for workflow in WORKFLOWS:
        cells = []
        for store in stores:
            values = [v * 1000 for v in lat[store][workflow]]
            used = cpu.get(store, {}).get(workflow)
            cells.append(f"{statistics.median(values):10.0f} ({min(values):5.0f}-{max(values):5.0f})"
                         + (f"  cpu {statistics.median(used) * 1000:4.0f}" if used else ""))
        lines.append(f"  {workflow:12} " + "".join(f"{c:>36}" for c in cells))
    if ratios:
        lines.append(f"\nmodel-latency ratio, fake OpenAI at {latency_ms:g} ms per call: wall time / critical-path "
                     "model time (median; target <= 1.10 for parallel and pipeline on azurite):")
        lines.append("  workflow     calls " + "".join(f"{s:>12}" for s in ratios))
        for workflow in WORKFLOWS:
            cells = "".join(f"{statistics.median(ratios[s][workflow]):12.2f}" for s in ratios)
            lines.append(f"  {workflow:12} {CRITICAL_MODEL_CALLS[workflow]:5} {cells}")
    if load:
        lines.append(f"\n{load['count']:.0f} concurrent parallel workflows on azurite: "
                     f"{load['completed']:.0f} Completed in {load['seconds']:.2f} s (target <= 8 s), "
                     f"host peak RSS {load['peak_rss_mb']:.0f} MiB")
    return lines
