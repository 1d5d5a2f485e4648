"""Store behaviour that needs a store outliving its process: several hosts, crashes, cost.

Runs on the ``azure`` store (Azurite); crashes are simulated by halting one store object
(``halt()``: no lease, lock or message given back) and opening another on the same hub.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

import pytest

from devhost.client import TaskHubClient
from devhost.clock import SystemClock
from devhost.errors import InstanceAlreadyExists
from devhost.store.azure import ended
from devhost.store.base import (
    EpisodeCommit,
    RuntimeStatus,
)
from tests.devhost.store_kit import (
    NOW,
    WAIT,
    episode,
    ids,
    instance,
    lock,
    lock_activity,
    raised,
    result_of,
    run,
    scheduled,
    start_of,
    started,
    work_item,
)

# --- several hosts, crashes, cost (durable stores) -----------------------------------------------------
QUICK = {"lock_seconds": 2, "lease_seconds": 2.0, "checkpoint_mark_delay": 0.5}


async def test_messages_from_another_client_are_received_by_the_owner(durable):
    owner = await durable.open()
    client = await durable.open(dispatch=False)
    row = instance("remote", input='"' + "r" * 100_000 + '"')
    await client.create_instance(row, start_of(row))
    item = await lock(owner, wait=WAIT)
    assert item.instance == row and item.messages == [start_of(row)]


async def test_two_hosts_never_lock_the_same_instance_and_split_the_partitions(durable):
    first = await durable.open(**QUICK)
    second = await durable.open(**QUICK)
    targets = [f"split-{i}" for i in range(12)]
    await first.send_messages([raised(t, f"m-{t}") for t in targets])
    locked: list[str] = []
    deadline = time.monotonic() + WAIT
    while len(locked) < len(targets) and time.monotonic() < deadline:
        for host in (first, second):
            item = await host.lock_orchestration_work_item(NOW)
            if item is not None:
                locked.append(item.instance_id)
                await host.complete_orchestration_work_item(item, EpisodeCommit(None, consumed=ids(item)))
        await first.wait_for_work(0.1)
    assert sorted(locked) == sorted(targets)  # each exactly once, never by both hosts
    while time.monotonic() < deadline and (len(first.leases.expires), len(second.leases.expires)) != (2, 2):
        await first.wait_for_work(0.2)
    assert (len(first.leases.expires), len(second.leases.expires)) == (2, 2)


async def test_messages_of_a_crashed_host_come_back_after_its_lock_expires(durable):
    crashed = await durable.open(**QUICK)
    await crashed.send_messages([raised("x1", "m1"), raised("x1", "m2")])
    item = await lock(crashed)
    await durable.crash(crashed)
    successor = await durable.open(**QUICK)
    again = await lock(successor, wait=WAIT)
    assert again.instance_id == "x1" and ids(again) == ids(item)


async def test_a_running_activity_of_a_crashed_host_runs_again(durable):
    crashed = await durable.open(**QUICK, postpone_first=False)  # its schedule is written
    await scheduled(crashed, "x2", 1)
    activity = await lock_activity(crashed)
    await durable.crash(crashed)
    successor = await durable.open(**QUICK)
    again = await lock_activity(successor, wait=WAIT)
    assert (again.message_id, again.input) == (activity.message_id, activity.input)


@pytest.mark.parametrize("crash_before", ["_row", "_send", "_delete_copies"])
async def test_an_episode_interrupted_after_its_checkpoint_is_finished_once(durable, crash_before, monkeypatch):
    crashed = await durable.open(**QUICK)
    item = await started(crashed, "x3")
    notice = raised("x3-peer", "to-peer")
    commit = replace(episode(item, custom_status='"step 1"'), activities=[work_item("x3", 1)], messages=[notice])

    async def die(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("host killed")

    monkeypatch.setattr(crashed.orchestrations, crash_before, die)
    with pytest.raises(RuntimeError):
        await crashed.complete_orchestration_work_item(item, commit)
    await durable.crash(crashed)

    successor = await durable.open(**QUICK)
    activity = await lock_activity(successor, wait=WAIT)
    assert activity is not None and activity.task_id == 1
    peer = await lock(successor, wait=WAIT)
    assert peer.instance_id == "x3-peer" and ids(peer) == ["to-peer"]
    await successor.complete_orchestration_work_item(peer, EpisodeCommit(None, consumed=["to-peer"]))
    assert await successor.get_history("x3") == commit.history
    assert (await successor.get_instance("x3")).custom_status == '"step 1"'
    await successor.send_messages([notice])  # the same message again: already consumed
    await successor.complete_activity_work_item(activity, result_of(activity))
    nxt = await lock(successor, wait=WAIT)
    assert nxt.instance_id == "x3" and ids(nxt) == [result_of(activity).message_id]  # the start is not redelivered
    assert await lock(successor, wait=2 * QUICK["lock_seconds"]) is None  # every lock of the crash has run out
    assert await lock_activity(successor) is None


@pytest.mark.parametrize("keep_local", [True, False], ids=["kept", "put"])
async def test_a_chain_step_costs_one_round_trip_or_four_when_work_items_are_put(durable, keep_local):
    """Kept (the default): the checkpoint (one table transaction), nothing else; the work item
    is never put (the checkpoint keeps it), and its completion is handed over in memory (the
    activity counts as done once the next checkpoint consumed it).  Put (``keep_local=False``):
    the work item's put, its completion parked in that same message (an update) and its
    deletion.  The instance row is written once (Pending to Running), then waits (progress; here
    at most once a minute).  Kept, the first step's checkpoint is postponed and written with the
    second's (:mod:`.test_store_postponed`): one batch fewer."""
    store = await durable.open(row_interval_seconds=60, keep_local=keep_local)
    item = await started(store, "chain")
    steps = 10
    before, kinds_before = store.calls.foreground, dict(store.calls.by_kind)
    completing = None
    for task_id in range(steps):
        commit = replace(episode(item), activities=[work_item("chain", task_id)])
        await store.complete_orchestration_work_item(item, commit)
        if completing is not None:
            await completing  # returns once the checkpoint above consumed its completion
        activity = await lock_activity(store)
        completing = asyncio.ensure_future(store.complete_activity_work_item(activity, result_of(activity)))
        item = await lock(store, wait=WAIT)
        assert ids(item) == [result_of(activity).message_id]
    await store.complete_orchestration_work_item(item, episode(item))
    await completing
    kinds = {k: v - kinds_before.get(k, 0) for k, v in store.calls.by_kind.items() if v > kinds_before.get(k, 0)}
    per_step = 1 if keep_local else 4
    # + the last checkpoint, the deletion of the start message (the client put it), Running
    assert store.calls.foreground - before == per_step * steps + 3 - keep_local, kinds
    if keep_local:
        polls = kinds.pop("queue.receive", 0)  # the background poller's, not the steps'
        assert kinds == {"table.batch": steps, "queue.delete": 1, "table.replace": 1}, (kinds, polls)
    else:
        assert (kinds["table.batch"], kinds["queue.put"], kinds["queue.update"]) == (steps + 1, steps, steps), kinds


async def until_row(reader: Any, instance_id: str, test: Any) -> Any:
    """The instance row as another host reads it, once ``test`` holds for it (or after WAIT)."""
    deadline = time.monotonic() + WAIT
    while not test(found := await reader.get_instance(instance_id)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return found


async def test_a_row_put_off_is_written_by_housekeeping_and_status_changes_at_once(durable):
    """Progress (custom status, last-updated time) waits up to ``row_interval_seconds``; a
    status change (Pending to Running, an end) is written at once, so a list query by status
    agrees with the status of each instance."""
    store = await durable.open(row_interval_seconds=0.3, checkpoint_mark_delay=60)
    reader = await durable.open(dispatch=False)
    item = await started(store, "lagging")
    await store.complete_orchestration_work_item(item, episode(item))
    assert (await reader.get_instance("lagging")).runtime_status == RuntimeStatus.RUNNING  # at once
    await store.send_messages([raised("lagging", "progress")])
    item = await lock(store, wait=WAIT)
    await store.complete_orchestration_work_item(item, episode(item, custom_status='"half way"'))
    assert (await store.get_instance("lagging")).custom_status == '"half way"'  # its host answers from memory
    assert (await reader.get_instance("lagging")).custom_status is None  # the row waits for the interval
    written = await until_row(reader, "lagging", lambda row: row.custom_status is not None)
    assert written.custom_status == '"half way"'  # by housekeeping
    await store.send_messages([raised("lagging", "done")])
    item = await lock(store, wait=WAIT)
    await store.complete_orchestration_work_item(item, episode(item, RuntimeStatus.COMPLETED, output='"ok"'))
    assert (await reader.get_instance("lagging")).runtime_status == RuntimeStatus.COMPLETED  # at once


async def test_a_start_whose_row_never_came_runs_from_its_message(durable):
    """Issue 10 finding 2 at store level: the client died after sending the start message,
    before writing the Pending row; the owner takes the instance from the message."""
    owner = await durable.open()
    client = await durable.open(dispatch=False)
    row = instance("orphan-start", input='"in"')
    await client.send_messages([start_of(row)])  # what a client cut off before its row leaves
    assert await client.get_instance("orphan-start") is None
    item = await lock(owner, wait=WAIT)
    assert item.instance == row and ids(item) == [start_of(row).message_id]
    await owner.complete_orchestration_work_item(item, episode(item))
    stored = await client.get_instance("orphan-start")
    assert (stored.execution_id, stored.runtime_status, stored.input) == (row.execution_id, RuntimeStatus.RUNNING,
                                                                          '"in"')


async def test_an_instance_started_and_run_by_its_owner_is_never_read_back(durable):
    store = await durable.open()
    await started(store, "fresh")
    assert store.calls.by_kind["table.query"] == 0  # its history (it has none) was not read


async def test_a_start_without_an_id_does_not_look_for_an_instance_that_cannot_exist(durable):
    """``start_new`` without an instance id: the host makes a random one (as the extension
    does), so it skips the existence read it makes for an id the caller chose; both run alike."""
    store = await durable.open()
    client = TaskHubClient(store, SystemClock(), {"orch": "orch"})
    before = store.calls.by_kind["table.get"]
    generated = await client.start("orch", input='"x"')
    assert store.calls.by_kind["table.get"] == before
    chosen = await client.start("orch", "chosen-id", input='"y"')
    assert store.calls.by_kind["table.get"] == before + 1  # a chosen id may be running already: asked first
    locked = set()
    for _ in range(2):
        item = await lock(store, wait=WAIT)
        locked.add(item.instance_id)
        await store.complete_orchestration_work_item(item, episode(item, RuntimeStatus.COMPLETED, output='"ok"'))
    assert locked == {generated, chosen}
    reader = await durable.open(dispatch=False)
    for instance_id in (generated, chosen):
        assert (await reader.get_instance(instance_id)).runtime_status is RuntimeStatus.COMPLETED


async def test_a_start_that_loses_the_race_for_its_id_to_another_client_is_refused(durable):
    """Both clients found no row; the second insert conflicts, the row is read again, and as
    the winner's instance is Pending (running) the loser gets ``InstanceAlreadyExists``."""
    first = await durable.open(dispatch=False)
    second = await durable.open(dispatch=False)
    real_get = second.hub.instances.get
    looked: list[str] = []

    async def get_before_the_winner(instance_id: str):
        looked.append(instance_id)
        return None if len(looked) == 1 else await real_get(instance_id)

    second.hub.instances.get = get_before_the_winner
    winner = instance("raced-id", input='"first"')
    await first.create_instance(winner, start_of(winner))
    loser = instance("raced-id", execution_id="e-other", input='"second"')
    with pytest.raises(InstanceAlreadyExists):
        await second.create_instance(loser, start_of(loser))
    assert looked == ["raced-id", "raced-id"]
    assert (await first.get_instance("raced-id")).execution_id == winner.execution_id


async def test_a_first_checkpoint_waits_for_its_clients_row_insert_rather_than_race_it(durable):
    """The start message goes out before the client inserts the Pending row, so the owner's
    first checkpoint can come first: in one host it waits for that insert (one insert, no
    conflict, no read) and then replaces the row."""
    store = await durable.open()
    instances = store.hub.instances
    release, real_insert = asyncio.Event(), instances.insert

    async def slow_insert(instance_id: str, columns: dict[str, Any]) -> str:
        await release.wait()
        return await real_insert(instance_id, columns)

    instances.insert = slow_insert
    row = instance("raced", input='"in"')
    creating = asyncio.create_task(store.create_instance(row, start_of(row)))
    item = await lock(store, wait=WAIT)
    kinds = dict(store.calls.by_kind)
    committing = asyncio.create_task(
        store.complete_orchestration_work_item(item, episode(item, RuntimeStatus.COMPLETED, output='"ok"')))
    await asyncio.wait([committing], timeout=0.3)
    assert not committing.done()  # its row waits for the client's insert
    release.set()
    await asyncio.gather(creating, committing)
    spent = {k: v - kinds.get(k, 0) for k, v in store.calls.by_kind.items() if v > kinds.get(k, 0)}
    assert spent.get("table.insert") == 1 and "table.get" not in spent and spent.get("table.replace") == 1
    stored = await (await durable.open(dispatch=False)).get_instance("raced")
    assert (stored.runtime_status, stored.output) == (RuntimeStatus.COMPLETED, '"ok"')


async def test_an_instance_that_ended_here_is_answered_from_memory_for_a_while(durable, monkeypatch):
    """A client polling until the end reads the instance once more after its last checkpoint:
    the host that ran it answers from memory (no row read) for ``ended_seconds``, and a purge
    or a new start through it, or that time passing, means the row is read again."""
    store = await durable.open(ended_seconds=30)
    await run(store, "ends-here", RuntimeStatus.COMPLETED, output='"done"')
    before = store.calls.by_kind["table.get"]
    stored = await store.get_instance("ends-here")
    assert (stored.runtime_status, stored.output) == (RuntimeStatus.COMPLETED, '"done"')
    assert store.calls.by_kind["table.get"] == before
    assert await store.purge_instance("ends-here")
    assert await store.get_instance("ends-here") is None  # read again: gone

    await run(store, "ends-later", RuntimeStatus.COMPLETED, output='"done"')
    monkeypatch.setattr(ended, "monotonic", lambda: time.monotonic() + 31)
    before = store.calls.by_kind["table.get"]
    assert (await store.get_instance("ends-later")).runtime_status is RuntimeStatus.COMPLETED
    assert store.calls.by_kind["table.get"] == before + 1  # kept too long: the row is read


async def test_a_start_is_answered_from_the_row_this_host_just_wrote(durable):
    """Polled right after it was started, an instance that has no checkpoint yet is what the
    row its start wrote says (Pending): the owner answers from that, without reading it back."""
    store = await durable.open()
    row = instance("polled-early", input='"in"')
    await store.create_instance(row, start_of(row))
    before = store.calls.by_kind["table.get"]
    early = await store.get_instance("polled-early")
    assert store.calls.by_kind["table.get"] == before
    reader = await durable.open(dispatch=False)
    assert early == await reader.get_instance("polled-early")
    assert early.runtime_status is RuntimeStatus.PENDING
