"""Where a workflow's time goes, end to end, against the fake model (``make breakdown``).

Runs ``sequential``, ``parallel`` and ``pipeline`` ``--runs`` times each (after a warm-up) in a
devhost process, the model answering after a fixed delay, a client polling every 10 ms; the
median of each gap over the runs, then the run of median wall time in detail.  The wall
time is split into the critical path's model calls (in each stage, the call that answered
last) and the gaps between them; every history event of the instance and its children
that falls in a gap is listed with its offset, so the gap shows what it was spent on
(activity dispatch and the agent's own work before its request, completions, episodes,
sub-orchestration hops, the final save, the status read).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import workflows  # noqa: E402
from bench.apphost import AppHost, azurite_running  # noqa: E402
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply  # noqa: E402

WEBHOOK = "/runtime/webhooks/durabletask/instances"


@dataclasses.dataclass
class Run:
    posted: float
    seen: float
    calls: list[tuple[float, float, str]]  # (request arrived, answered, agent)
    events: list[tuple[float, str]]  # (time, what)


async def measure(host: AppHost, server_calls: list[tuple[float, float, str]], workflow: str, i: int) -> Run:
    server_calls.clear()
    posted = time.time()
    seconds, status = await host.run_workflow(workflow, workflows.body(i))
    seen = posted + seconds
    events: list[tuple[float, str]] = []
    parent = status["id"]
    async with host.http.get(f"{WEBHOOK}?showInput=false") as response:
        everything = await response.json()
    ids = [s["instanceId"] for s in everything if s["instanceId"].startswith(parent)]
    for instance_id in ids:
        async with host.http.get(f"{WEBHOOK}/{instance_id}?showHistory=true") as response:
            history = (await response.json()).get("historyEvents") or []
        who = "workflow" if instance_id == parent else "branch"
        for event in history:
            name = event.get("FunctionName") or event.get("Name") or ""
            if event.get("ScheduledTime"):
                events.append((_ts(event["ScheduledTime"]), f"{who}: scheduled {name}"))
            if event.get("Timestamp"):
                events.append((_ts(event["Timestamp"]), f"{who}: {event['EventType']} {name}".rstrip()))
    events += [(start, f"model: {agent} request") for start, _, agent in server_calls]
    return Run(posted, seen, list(server_calls), sorted(events))


def critical_path(run: Run) -> list[tuple[float, float, str]]:
    """Per stage (calls whose windows overlap), the call that answered last."""
    stages: list[list[tuple[float, float, str]]] = []
    for call in sorted(run.calls):
        if stages and call[0] < max(c[1] for c in stages[-1]):
            stages[-1].append(call)
        else:
            stages.append([call])
    return [max(stage, key=lambda c: c[1]) for stage in stages]


def gaps(run: Run) -> list[tuple[float, str, float, str]]:
    """``(begin, what, end, until)`` of each stretch outside the critical path's model calls."""
    edges = [(run.posted, "POST")] + [p for start, end, agent in critical_path(run)
                                      for p in ((start, f"{agent} request"), (end, f"{agent} answered"))]
    edges.append((run.seen, "client saw the end"))
    pairs = zip(edges[::2], edges[1::2], strict=True)
    return [(begin, what, finish, until) for (begin, what), (finish, until) in pairs]


def summary(workflow: str, runs: list[Run], middle: Run) -> list[str]:
    """Median wall time, model time and gaps over ``runs`` (gaps by position on the critical path,
    named as in the ``middle`` run)."""
    totals = [(r.seen - r.posted) * 1000 for r in runs]
    models = [sum((end - start) * 1000 for start, end, _ in critical_path(r)) for r in runs]
    lines = [f"\n{workflow}, median of {len(runs)} runs: {statistics.median(totals):.0f} ms, "
             f"{statistics.median(t / m for t, m in zip(totals, models, strict=True)):.2f}x the model time"]
    shapes = {len(gaps(r)) for r in runs}
    if len(shapes) == 1:
        for i, (_, what, _, until) in enumerate(gaps(middle)):
            ms = statistics.median((g[i][2] - g[i][0]) * 1000 for g in map(gaps, runs))
            lines.append(f"  {what} -> {until}: {ms:.1f} ms")
    return lines


def report(workflow: str, run: Run) -> list[str]:
    path = critical_path(run)
    total = (run.seen - run.posted) * 1000
    model = sum((end - start) * 1000 for start, end, _ in path)
    lines = [f"\n{workflow}: {total:.0f} ms = {model:.0f} ms in {len(path)} model calls on the critical path "
             f"+ {total - model:.0f} ms everything else ({total / model:.2f}x)"]
    for begin, what, finish, until in gaps(run):
        lines.append(f"  {what} -> {until}: {(finish - begin) * 1000:.1f} ms")
        for at, event in run.events:
            if begin <= at <= finish:
                lines.append(f"      +{(at - begin) * 1000:6.1f}  {event}")
    return lines


async def main(store: str, latency_ms: float, log_dir: Path, runs: int) -> None:
    delay = latency_ms / 1000
    calls: list[tuple[float, float, str]] = []
    async with FakeOpenAIServer.start() as server:

        def slow(request: RecordedRequest) -> Reply:
            calls.append((request.arrived, request.arrived + delay, _agent(request)))
            return dataclasses.replace(server.default_reply(request), delay=delay)

        server.responder = slow
        env = {**workflows.base_env(log_dir), "BATON_LLM_BACKEND": "openai", **server.openai_env()}
        async with AppHost.start(store, env, log_dir) as host:
            print(f"where the time goes, {store} store, fake model at {latency_ms:g} ms per call:")
            for workflow in ("sequential", "parallel", "pipeline"):
                await host.run_workflow(workflow, workflows.body(0))  # warm-up
                measured = [await measure(host, calls, workflow, i + 1) for i in range(runs)]
                middle = sorted(measured, key=lambda r: r.seen - r.posted)[len(measured) // 2]
                lines = summary(workflow, measured, middle) if runs > 1 else []
                print("\n".join([*lines, *report(workflow, middle)]), flush=True)


def _agent(request: RecordedRequest) -> str:
    """The agent a request came from (its response format is named after the agent's output model)."""
    body = request.body if isinstance(request.body, dict) else {}
    fmt: dict[str, Any] = body.get("response_format") or {}
    return str((fmt.get("json_schema") or {}).get("name") or "model")


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("memory", "azurite"), default="azurite")
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--runs", type=int, default=5, help="runs per workflow (the median run is shown in detail)")
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp") / "baton-bench")
    args = parser.parse_args()
    args.log_dir.mkdir(parents=True, exist_ok=True)
    with azurite_running(args.log_dir) if args.store == "azurite" else contextlib.nullcontext() as which:
        if which:
            print(f"Azure Storage: {which}", flush=True)
        asyncio.run(main(args.store, args.latency_ms, args.log_dir, max(1, args.runs)))
