"""What a checkpoint sends to its own host is kept, never put, and still survives a crash.

Runs on the ``azure`` store (Azurite).  A control message to an instance of this host, or a
work item this host runs, is handed over in memory; the sender's checkpoint stays open (its
sentinel names the send) until the send is settled, and a later checkpoint carries it.
Crashes are ``halt()`` (nothing given back) and a successor opened on the same hub.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from devhost.store.azure.checkpoint import Outbox
from devhost.store.base import RuntimeStatus
from tests.devhost.store_kit import (
    WAIT,
    episode,
    ids,
    lock,
    lock_activity,
    raised,
    result_of,
    run,
    started,
    work_item,
)

QUICK = {"lock_seconds": 2, "lease_seconds": 1.0}


async def sentinel_of(store: Any, instance_id: str) -> Any:
    return (await store.hub.history.read(instance_id)).sentinel


async def until_complete(store: Any, instance_id: str) -> bool:
    deadline = time.monotonic() + WAIT
    while not (await sentinel_of(store, instance_id)).complete and time.monotonic() < deadline:
        await store.wait_for_work(0.1)
    return (await sentinel_of(store, instance_id)).complete


async def test_a_kept_message_is_not_put_and_comes_back_from_the_checkpoint_after_a_crash(durable):
    host = await durable.open(**QUICK)
    await run(host, "receiver")
    sender = await started(host, "sender")
    puts = host.calls.by_kind.get("queue.put", 0)
    await host.complete_orchestration_work_item(sender, replace(episode(sender), messages=[raised("receiver", "note")]))
    assert host.calls.by_kind.get("queue.put", 0) == puts  # handed over, not put
    assert not (await sentinel_of(host, "sender")).complete  # the checkpoint keeps it
    await durable.crash(host)

    successor = await durable.open(**QUICK)
    item = await lock(successor, wait=WAIT)
    assert item.instance_id == "receiver" and ids(item) == ["note"]


async def test_a_later_checkpoint_carries_what_is_still_open(durable):
    host = await durable.open(**QUICK)
    await run(host, "receiver")
    sender = await started(host, "sender")
    await host.complete_orchestration_work_item(sender, replace(episode(sender), messages=[raised("receiver", "a")]))
    receiver = await lock(host)  # takes "a", never commits: it stays open
    assert receiver.instance_id == "receiver" and ids(receiver) == ["a"]
    await host.send_messages([raised("sender", "poke")])
    item = await lock(host)
    assert item.instance_id == "sender" and ids(item) == ["poke"]
    await host.complete_orchestration_work_item(item, episode(item))
    sentinel = await sentinel_of(host, "sender")
    assert not sentinel.complete and [s.message_id for s in Outbox.decode(sentinel.outbox_text).sends] == ["a"]
    await durable.crash(host)

    successor = await durable.open(**QUICK)
    item = await lock(successor, wait=WAIT)
    assert item.instance_id == "receiver" and ids(item) == ["a"]


async def test_settled_sends_let_the_checkpoint_be_marked_complete(durable):
    host = await durable.open(**QUICK, checkpoint_mark_delay=0.1)
    await run(host, "receiver")
    sender = await started(host, "sender")
    commit = replace(episode(sender), messages=[raised("receiver", "note")], activities=[work_item("sender", 1)])
    await host.complete_orchestration_work_item(sender, commit)
    receiver = await lock(host)
    assert receiver.instance_id == "receiver" and ids(receiver) == ["note"]
    await host.complete_orchestration_work_item(receiver, episode(receiver))  # the message is settled ...
    activity = await lock_activity(host)
    assert not (await sentinel_of(host, "sender")).complete
    await host.complete_activity_work_item(activity, result_of(activity))  # ... and the work item
    assert await until_complete(host, "sender")


async def test_a_large_outbox_is_carried_by_its_blob_and_only_work_left_without_trace_runs_again(durable):
    host = await durable.open(**QUICK, postpone_first=False)  # the first checkpoint holds the outbox
    item = await started(host, "fan")
    tasks = range(40)
    big = '"' + "x" * 2000 + '"'  # 40 x 2 KB: the outbox goes to a blob
    await host.complete_orchestration_work_item(
        item, replace(episode(item), activities=[work_item("fan", t, big) for t in tasks]))
    first = await sentinel_of(host, "fan")
    assert first.outbox_blob and not first.complete
    done = await lock_activity(host)
    await host.complete_activity_work_item(done, result_of(done))
    item = await lock(host)
    await host.complete_orchestration_work_item(item, episode(item))  # consumes the completion
    second = await sentinel_of(host, "fan")
    assert second.carried_blobs == (first.outbox_blob,) and not second.complete
    in_flight = await lock_activity(host)
    await durable.crash(host)

    successor = await durable.open(**QUICK)
    again = set()
    while (activity := await lock_activity(successor, wait=3 * QUICK["lock_seconds"] + 2)) is not None:
        assert activity.task_id not in again
        again.add(activity.task_id)
    assert again == set(tasks) - {done.task_id} and in_flight.task_id in again


async def test_a_host_shutting_down_puts_what_it_kept(durable):
    host = await durable.open(**QUICK)
    await run(host, "receiver")
    sender = await started(host, "sender")
    commit = replace(episode(sender), messages=[raised("receiver", "note")],
                     activities=[work_item("sender", t) for t in (1, 2, 3)])
    await host.complete_orchestration_work_item(sender, commit)
    await host.close()
    reader = await durable.open(dispatch=False)
    assert (await sentinel_of(reader, "sender")).complete  # all put: nothing left to recover

    successor = await durable.open(**QUICK)
    item = await lock(successor, wait=WAIT)
    assert item.instance_id == "receiver" and ids(item) == ["note"]
    ran = []
    while (activity := await lock_activity(successor, wait=2 * QUICK["lock_seconds"] + 2)) is not None:
        ran.append(activity.task_id)
    assert sorted(ran) == [1, 2, 3]


async def test_a_checkpoint_consuming_the_last_completion_is_complete_at_once(durable):
    """The checkpoint that consumes a handed-over completion settles its work item itself: no
    later mark (one more request) is needed for an instance that ends there."""
    host = await durable.open(**QUICK, checkpoint_mark_delay=60, postpone_first=False)
    item = await started(host, "ending")
    await host.complete_orchestration_work_item(item, replace(episode(item), activities=[work_item("ending", 1)]))
    assert not (await sentinel_of(host, "ending")).complete
    activity = await lock_activity(host)
    completing = asyncio.ensure_future(host.complete_activity_work_item(activity, result_of(activity)))
    item = await lock(host, wait=WAIT)
    assert ids(item) == [result_of(activity).message_id]
    await host.complete_orchestration_work_item(item, episode(item, RuntimeStatus.COMPLETED, output='"done"'))
    await completing
    assert (await sentinel_of(host, "ending")).complete
