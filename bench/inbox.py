"""Micro benchmark of the Azure store's :class:`Inbox` (the dispatcher's hot path, no storage).

Holds ``--instances`` instances with ``--messages`` messages each (a quarter of the instances
in an episode, one in ten waiting on a timer), then times, in CPU ms:

- ``steady``: ``--calls`` rounds of ``ready(now)`` + ``next_due()`` + ``count(partition)``;
- ``churn``: ``--calls`` episodes: take the first ready instance, lock its visible messages,
  consume them, and hand it a new message (what ``Orchestrations.lock`` / ``complete`` do).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devhost.store.azure.inbox import Inbox
from devhost.store.azure.queues import Receipt
from devhost.store.base import Message

START = datetime(2026, 1, 1, tzinfo=UTC)
PARTITIONS = 4


def fill(instances: int, messages: int) -> tuple[Inbox, int]:
    inbox, order = Inbox(), 0
    for i in range(instances):
        instance_id = f"i{i}"
        for m in range(messages):
            order += 1
            due = START + timedelta(hours=1) if i % 10 == 0 and m == 0 else None
            message = Message(f"m{order}", instance_id, {"EventType": 0}, visible_at=due)
            inbox.add(message, i % PARTITIONS, Receipt(f"q{order}", "pop"), order)
        if i % 4 == 1:
            inbox.set_locked(instance_id, [b.message.message_id for b in inbox.visible(instance_id, START)], True)
    return inbox, order


def steady(inbox: Inbox, calls: int) -> float:
    started = time.process_time()
    for n in range(calls):
        inbox.ready(START)
        inbox.next_due()
        inbox.count(n % PARTITIONS)
    return (time.process_time() - started) * 1000


def churn(inbox: Inbox, order: int, calls: int) -> float:
    started = time.process_time()
    lockable = getattr(inbox, "iter_ready", inbox.ready)  # what Orchestrations.lock walks
    for _ in range(calls):
        instance_id = next(iter(lockable(START)), None)
        inbox.next_due()
        if instance_id is None:
            break
        ids = [b.message.message_id for b in inbox.visible(instance_id, START)]
        inbox.set_locked(instance_id, ids, True)
        inbox.remove(instance_id, ids)
        inbox.unlock_all(instance_id)
        order += 1
        inbox.add(Message(f"m{order}", instance_id, {"EventType": 0}), 0, Receipt(f"q{order}", "pop"), order)
    return (time.process_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=400)
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--calls", type=int, default=10_000)
    args = parser.parse_args()
    inbox, order = fill(args.instances, args.messages)
    print(f"{args.instances} instances x {args.messages} messages, {args.calls:,} calls each")
    print(f"steady (ready + next_due + count): {steady(inbox, args.calls):8.1f} CPU ms")
    print(f"churn  (ready + next_due + lock + consume + add): {churn(inbox, order, args.calls):8.1f} CPU ms")


if __name__ == "__main__":
    main()
