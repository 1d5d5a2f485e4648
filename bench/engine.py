"""Engine benchmark: devhost against durabletask-python's InMemoryBackend, in one run.

Workloads: a chain of 100 no-op activities and a fan-out/fan-in of 1,000.  Prints ms per
step (chain) and per activity (fan-out), the ratio peer/devhost (> 1 means devhost is
faster), and how many Python replays devhost needed.  ``--store azurite`` adds the Azure
Storage store; ``--rounds`` repeats each workload and reports the best.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.peer import run_peer  # noqa: E402
from devhost.host import DevHost, unique_hub_name  # noqa: E402

APP = ROOT / "bench" / "app"


async def run_devhost(store: str, chain_steps: int, fan_count: int, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"chain": [], "fan_out": [], "fan_out_replays": [], "chain_replays": [],
                                   "chain_round_trips": [], "fan_out_round_trips": []}
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
                    out[f"{name}_replays"].append(stats.replays - replays_before)
                    reads = polls if hasattr(host.store, "calls") else 0  # only Azure Storage counts requests
                    out[f"{name}_round_trips"].append(_round_trips(host.store) - trips_before - reads)
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


def _round_trips(store: object) -> int:
    """Storage requests made for store calls (background polling excluded); 0 for memory."""
    calls = getattr(store, "calls", None)
    return calls.foreground if calls is not None else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chain", type=int, default=100)
    parser.add_argument("--fan-out", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", action="append", choices=("memory", "azurite"), default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for name in ("durabletask-worker", "durabletask-client", "durabletask"):
        logging.getLogger(name).setLevel(logging.ERROR)  # the peer logs every episode at INFO
    stores = args.store or ["memory"]
    peer = run_peer(args.chain, args.fan_out, args.rounds)
    rows = []
    for store in stores:
        result = asyncio.run(run_devhost(store, args.chain, args.fan_out, args.rounds))
        rows.append((store, result))
    peer_chain = min(peer["chain"]) / args.chain * 1000
    peer_fan = min(peer["fan_out"])
    print(f"\nchain of {args.chain} no-op activities (best of {args.rounds}), ms per step:")
    print(f"  durabletask InMemoryBackend  {peer_chain:8.2f}")
    for store, result in rows:
        ms = min(result["chain"]) / args.chain * 1000
        trips = min(result["chain_round_trips"]) / args.chain
        print(f"  devhost ({store:8})         {ms:8.2f}   ratio peer/devhost {peer_chain / ms:5.2f}x"
              f"   replays {max(result['chain_replays'])}   storage round trips per step {trips:.2f}")
    print(f"\nfan-out/fan-in of {args.fan_out} (best of {args.rounds}), seconds total:")
    print(f"  durabletask InMemoryBackend  {peer_fan:8.3f}")
    for store, result in rows:
        seconds = min(result["fan_out"])
        trips = min(result["fan_out_round_trips"]) / args.fan_out
        print(f"  devhost ({store:8})         {seconds:8.3f}   ratio peer/devhost {peer_fan / seconds:5.2f}x"
              f"   replays {max(result['fan_out_replays'])}   storage round trips per activity {trips:.2f}")


if __name__ == "__main__":
    main()
