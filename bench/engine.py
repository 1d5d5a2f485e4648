"""Benchmarks of devhost, in one run (``make bench``), printing only the summary.

Engine: a chain of 100 no-op activities and a fan-out/fan-in of 1,000 on devhost and on
durabletask-python's InMemoryBackend.  Prints ms per step (chain) and seconds (fan-out), the
ratio peer/devhost (> 1 means devhost is faster), Python replays and storage round trips.
``--store azurite`` adds the Azure Storage store; ``--rounds`` repeats and keeps the best.

``--workflows`` adds :mod:`bench.workflows` (the baton app over HTTP: the four workflows on
each store, the model-latency ratio, ``--concurrent`` parallel workflows at once).  Logs of
the peer, of devhost and of the app go to ``--log-dir``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # the peer's gRPC core logs to stderr

from bench import workflows  # noqa: E402
from bench.apphost import azurite_running  # noqa: E402
from bench.peer import run_peer  # noqa: E402
from devhost.host import DevHost, unique_hub_name  # noqa: E402

APP = ROOT / "bench" / "app"


async def run_devhost(store: str, chain_steps: int, fan_count: int, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"chain": [], "fan_out": [], "fan_out_replays": [], "chain_replays": [],
                                   "chain_round_trips": [], "fan_out_round_trips": [], "storage_ms": []}
    async with DevHost.start(APP, store=store, clock="system", hub_name=unique_hub_name("bench")) as host:
        stats = host.dispatcher.stats
        for name, arg in (("chain", chain_steps), ("fan_out", fan_count)):
            for i in range(rounds + 1):
                replays_before = stats.replays
                trips_before = _round_trips(host.store)
                started = time.perf_counter()
                instance_id = await host.client.start(name, input=json.dumps(json.dumps(arg)))
                instance, polls = await _wait(host, instance_id)
                elapsed = time.perf_counter() - started
                if instance.runtime_status.value != "Completed" or json.loads(instance.output or "null") != arg:
                    raise RuntimeError(f"devhost {name} failed: {instance}")
                if i:
                    out[name].append(elapsed)
                    out["storage_ms"].append(await _storage_latency(host.store))
                    out[f"{name}_replays"].append(stats.replays - replays_before)
                    reads = polls if hasattr(host.store, "calls") else 0  # only Azure Storage counts requests
                    out[f"{name}_round_trips"].append(_round_trips(host.store) - trips_before - reads)
    if hasattr(host.store, "destroy"):
        await host.store.destroy()  # Azurite slows down with every hub left in it
    return out


async def _wait(host: DevHost, instance_id: str) -> tuple[object, int]:
    """Poll the instance row until it is terminal; returns it and the number of reads (one
    storage round trip each on Azure Storage, subtracted from the counts)."""
    polls = 0
    interval = 0.05 if hasattr(host.store, "calls") else 0.002  # fewer reads on Azure Storage
    while True:
        instance = await host.store.get_instance(instance_id)
        polls += 1
        if instance is not None and instance.runtime_status.is_terminal:
            return instance, polls
        await asyncio.sleep(interval)


async def _storage_latency(store: object, samples: int = 20) -> float:
    """Median ms of one instance-row read right now (0 for memory): what a round trip costs."""
    hub = getattr(store, "hub", None)
    if hub is None:
        return 0.0
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await hub.instances.get("bench-latency-probe")
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[samples // 2]


def _round_trips(store: object) -> int:
    """Storage requests made for store calls (background polling excluded); 0 for memory."""
    calls = getattr(store, "calls", None)
    return calls.foreground if calls is not None else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=100)
    parser.add_argument("--fan-out", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", action="append", choices=("memory", "azurite"), default=None)
    parser.add_argument("--workflows", action="store_true", help="also the baton workflows over HTTP")
    parser.add_argument("--workflow-rounds", type=int, default=5)
    parser.add_argument("--ratio-rounds", type=int, default=9,
                        help="runs per workflow of the model-latency ratio (it reports their median)")
    parser.add_argument("--latency-ms", type=float, default=300.0, help="fake model latency (0: skip the ratio)")
    parser.add_argument("--concurrent", type=int, default=100, help="parallel workflows at once (0: skip)")
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp") / "baton-bench")
    args = parser.parse_args()
    args.log_dir.mkdir(parents=True, exist_ok=True)
    log_file = args.log_dir / "bench.log"
    handler = logging.FileHandler(log_file, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("azure").setLevel(logging.WARNING)  # a line per storage request otherwise
    stores = args.store or ["memory"]
    print(f"benchmarks running (logs in {args.log_dir}) ...", flush=True)
    peer = run_peer(args.chain, args.fan_out, args.rounds, logging.getLogger("bench.peer"))
    with azurite_running(args.log_dir) if "azurite" in stores or args.workflows else contextlib.nullcontext() as which:
        if which:
            print(f"Azure Storage: {which}", flush=True)
        rows = []
        for store in stores:
            result = asyncio.run(run_devhost(store, args.chain, args.fan_out, args.rounds))
            rows.append((store, result))
        lines = engine_report(args, peer, rows)
        print("\n".join(lines), flush=True)
        if args.workflows:
            print("\n".join(asyncio.run(run_workflows(args, stores))), flush=True)


async def run_workflows(args: argparse.Namespace, stores: list[str]) -> list[str]:
    cpu: dict[str, dict[str, list[float]]] = {store: {} for store in stores}
    lat = {store: await workflows.latencies(store, args.workflow_rounds, args.log_dir, cpu[store]) for store in stores}
    ratios = {}
    if args.latency_ms > 0:
        ratios = {store: await workflows.model_ratios(store, args.latency_ms, args.ratio_rounds, args.log_dir)
                  for store in stores}
    load = await workflows.concurrent("azurite", args.concurrent, args.log_dir) if args.concurrent else None
    return workflows.report(stores, lat, ratios, args.latency_ms, load, cpu)


def engine_report(args: argparse.Namespace, peer: dict[str, list[float]],
                  rows: list[tuple[str, dict[str, list[float]]]]) -> list[str]:
    peer_chain = min(peer["chain"]) / args.chain * 1000
    peer_fan = min(peer["fan_out"])
    lines = [f"\nchain of {args.chain} no-op activities (best of {args.rounds}), ms per step:",
             f"  durabletask InMemoryBackend  {peer_chain:8.2f}"]
    for store, result in rows:
        ms = min(result["chain"]) / args.chain * 1000
        trips = min(result["chain_round_trips"]) / args.chain
        lines.append(f"  devhost ({store:8})         {ms:8.2f}   ratio peer/devhost {peer_chain / ms:5.2f}x"
                     f"   replays {max(result['chain_replays'])}   storage round trips per step {trips:.2f}")
    for store, result in rows:
        if max(result["storage_ms"]) > 0:
            lines.append(f"  ({store}: one storage round trip took {statistics.median(result['storage_ms']):.1f} ms"
                         " (median table read) during this run)")
    lines += [f"\nfan-out/fan-in of {args.fan_out} (best of {args.rounds}), seconds total:",
              f"  durabletask InMemoryBackend  {peer_fan:8.3f}"]
    for store, result in rows:
        seconds = min(result["fan_out"])
        trips = min(result["fan_out_round_trips"]) / args.fan_out
        lines.append(f"  devhost ({store:8})         {seconds:8.3f}   ratio peer/devhost {peer_fan / seconds:5.2f}x"
                     f"   replays {max(result['fan_out_replays'])}   storage round trips per activity {trips:.2f}")
    return lines


if __name__ == "__main__":
    main()
