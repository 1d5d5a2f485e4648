"""What an episode sends this host is handed over while its checkpoint is being written.

Runs on the ``azure`` store (Azurite).  The work items it schedules run, and the messages it
sends to instances of this host's partitions start their episodes, before the checkpoint's
table batch returns; an activity's completion and the receiver's checkpoint wait until the
sender's checkpoint is durable, and count for nothing if it never is (activities run at least
once, as ever: what a checkpoint that was never written scheduled is run again, or not, by
whoever writes it).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from devhost.errors import WorkItemLost
from devhost.store.azure.history import CheckpointConflict
from devhost.store.base import RuntimeStatus
from tests.devhost.store_kit import (
    WAIT,
    episode,
    ids,
    instance,
    lock,
    lock_activity,
    raised,
    result_of,
    run,
    start_of,
    started,
    work_item,
)

QUICK = {"lock_seconds": 2, "lease_seconds": 1.0}


def hold_checkpoints_of(store: Any, instance_id: str, outcome: asyncio.Future[None]) -> asyncio.Event:
    """Make the checkpoint writes of ``instance_id`` wait for ``outcome`` (its exception: the write
    fails so); the event is set once one is waiting."""
    history, waiting = store.hub.history, asyncio.Event()
    real_write = history.write

    async def write(instance: str, *args: Any, **kwargs: Any) -> str:
        if instance == instance_id:
            waiting.set()
            await outcome
        return await real_write(instance, *args, **kwargs)

    history.write = write
    return waiting


async def sending_while_held(host: Any) -> tuple[asyncio.Future[None], asyncio.Future[None], Any]:
    """``sender`` sends ``receiver`` a message and schedules one activity; its checkpoint write
    waits for the returned outcome.  Returns (outcome, the commit under way, the sender's item)."""
    await run(host, "receiver")
    sender = await started(host, "sender")
    outcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    writing = hold_checkpoints_of(host, "sender", outcome)
    commit = replace(episode(sender), messages=[raised("receiver", "note")], activities=[work_item("sender", 1)])
    committing = asyncio.ensure_future(host.complete_orchestration_work_item(sender, commit))
    await writing.wait()
    return outcome, committing, sender


async def test_work_items_and_messages_run_while_their_checkpoint_is_written_and_count_once_it_is(durable):
    host = await durable.open(**QUICK)
    outcome, committing, _ = await sending_while_held(host)

    activity = await lock_activity(host)  # its schedule is not durable yet, and it runs
    receiver = await lock(host)
    assert activity.task_id == 1 and receiver.instance_id == "receiver" and ids(receiver) == ["note"]
    completing = asyncio.ensure_future(host.complete_activity_work_item(activity, result_of(activity)))
    consuming = asyncio.ensure_future(host.complete_orchestration_work_item(receiver, episode(receiver)))
    done, _ = await asyncio.wait([completing, consuming], timeout=0.3)
    assert not done  # both wait for the sender's checkpoint

    outcome.set_result(None)
    await asyncio.gather(committing, consuming)
    item = await lock(host, wait=WAIT)
    assert item.instance_id == "sender" and ids(item) == [result_of(activity).message_id]
    await host.complete_orchestration_work_item(item, episode(item))
    await completing


async def test_what_a_checkpoint_never_written_handed_over_counts_for_nothing(durable):
    host = await durable.open(**QUICK)
    outcome, committing, sender = await sending_while_held(host)
    activity, receiver = await lock_activity(host), await lock(host)
    completing = asyncio.ensure_future(host.complete_activity_work_item(activity, result_of(activity)))
    consuming = asyncio.ensure_future(host.complete_orchestration_work_item(receiver, episode(receiver)))

    outcome.set_exception(CheckpointConflict("another host committed first"))
    for task in (committing, completing, consuming):
        with pytest.raises(WorkItemLost):
            await task
    again = await lock(host)  # the sender's episode is lost: its start comes back for another try
    assert again.instance_id == "sender" and ids(again) == ids(sender)
    assert await lock(host) is None  # while the message is withdrawn: the receiver never sees it
    assert await lock_activity(host) is None


async def starting_a_child_while_held(host: Any, child_id: str) -> tuple[asyncio.Future[None], Any, Any]:
    """``parent`` starts sub-orchestration ``child_id``; its checkpoint write waits for the
    returned outcome.  Returns (outcome, the parent's commit under way, the child's start)."""
    parent = await started(host, "parent")
    outcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    writing = hold_checkpoints_of(host, "parent", outcome)
    child = instance(child_id, parent_instance_id="parent", execution_id=f"e-{child_id}-of-parent")
    committing = asyncio.ensure_future(
        host.complete_orchestration_work_item(parent, replace(episode(parent), started=[(child, start_of(child))])))
    await writing.wait()
    return outcome, committing, start_of(child)


async def test_a_child_runs_while_its_parents_checkpoint_is_written_and_its_row_is_written_once_each_way(durable):
    """Its first episode and the work item it schedules run before the parent's checkpoint is
    durable; the child's checkpoint waits for that and for the row the parent inserts, then
    replaces that row (Pending to Running): no conflict, no read.  (It also messages its parent,
    so its checkpoint is written at once rather than postponed: :mod:`.test_store_postponed`.)"""
    host = await durable.open(**QUICK)
    outcome, committing, start = await starting_a_child_while_held(host, "child")
    item = await lock(host)
    assert item.instance_id == "child" and ids(item) == [start.message_id]
    kinds = dict(host.calls.by_kind)
    consuming = asyncio.ensure_future(host.complete_orchestration_work_item(
        item, replace(episode(item), activities=[work_item("child", 1)], messages=[raised("parent", "hello")])))
    activity = await lock_activity(host, wait=WAIT)
    assert activity is not None and activity.instance_id == "child" and not consuming.done()

    outcome.set_result(None)
    await asyncio.gather(committing, consuming)
    spent = {k: v - kinds.get(k, 0) for k, v in host.calls.by_kind.items() if v > kinds.get(k, 0)}
    # the child's row inserted by the parent, then Pending to Running for the parent and the child
    assert spent.get("table.insert") == 1 and spent.get("table.replace") == 2 and "table.get" not in spent
    reader = await durable.open(dispatch=False)
    assert (await reader.get_instance("child")).runtime_status == RuntimeStatus.RUNNING


async def test_a_child_started_by_a_checkpoint_never_written_never_was(durable):
    host = await durable.open(**QUICK)
    outcome, committing, _ = await starting_a_child_while_held(host, "child")
    item = await lock(host)
    consuming = asyncio.ensure_future(host.complete_orchestration_work_item(item, episode(item)))
    outcome.set_exception(CheckpointConflict("another host committed first"))
    for task in (committing, consuming):
        with pytest.raises(WorkItemLost):
            await task
    assert await (await durable.open(dispatch=False)).get_instance("child") is None
    assert (await lock(host)).instance_id == "parent"  # only the parent's start comes back
    assert await lock(host) is None


async def test_a_child_whose_id_is_taken_is_not_started_again(durable):
    """The row says another execution has that id: the start handed over is withdrawn."""
    host = await durable.open(**QUICK)
    await run(host, "taken")
    host.orchestrations.cache.pop("taken")  # known only to storage, as after a restart
    outcome, committing, start = await starting_a_child_while_held(host, "taken")
    item = await lock(host)
    assert item.instance_id == "taken" and ids(item) == [start.message_id]
    consuming = asyncio.ensure_future(host.complete_orchestration_work_item(item, episode(item)))
    outcome.set_result(None)
    await committing
    with pytest.raises(WorkItemLost):
        await consuming
    stored = await (await durable.open(dispatch=False)).get_instance("taken")
    assert stored.execution_id == "e-taken" and stored.parent_instance_id is None
    assert await lock(host) is None


async def test_a_child_whose_id_this_host_holds_is_not_handed_over(durable):
    """An id this host has cached is most likely taken: its state is left alone, and the usual
    path (row first) finds the row and starts nothing."""
    host = await durable.open(**QUICK)
    await run(host, "held")
    outcome, committing, _ = await starting_a_child_while_held(host, "held")
    assert await lock(host) is None  # nothing handed over
    outcome.set_result(None)
    await committing
    assert await lock(host) is None
    assert (await host.get_instance("held")).execution_id == "e-held"
