"""A child's first checkpoint is postponed and written with its second.

Runs on the ``azure`` store (Azurite).  A sub-orchestration started ahead by this host whose
first episode only schedules work items (``agent_step``) is not written on its own: its work
runs, the next episode replays it, and one table batch writes both.  Its start stays durable
in the parent's open checkpoint meanwhile, so a crash starts the child again; a completion is
put only once the schedule it answers is written.  Crashes are ``halt()``.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from devhost.engine import history as h
from devhost.errors import WorkItemLost
from devhost.store.base import RuntimeStatus
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
    start_of,
    started,
    work_item,
)
from tests.devhost.test_store_kept import sentinel_of, until_complete

QUICK = {"lock_seconds": 2, "lease_seconds": 1.0}


def calls(store: Any) -> dict[str, int]:
    return dict(store.calls.by_kind)


def spent(store: Any, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in store.calls.by_kind.items() if v > before.get(k, 0)}


def first_episode(start: Any) -> list[dict[str, Any]]:
    """The events of the child's first episode (as ``episode()`` makes them)."""
    return [h.orchestrator_started(NOW), start.event, h.orchestrator_completed(NOW)]


async def child_scheduling(host: Any, **changes: Any) -> tuple[Any, Any]:
    """``parent`` starts ``child``, whose first episode schedules activity 1 (with ``changes``
    to that episode).  Returns (the child's start, its activity, locked)."""
    parent = await started(host, "parent")
    child = instance("child", parent_instance_id="parent", execution_id="e-child-of-parent")
    await host.complete_orchestration_work_item(parent, replace(episode(parent), started=[(child, start_of(child))]))
    item = await lock(host, wait=WAIT)
    assert item.instance_id == "child"
    await host.complete_orchestration_work_item(
        item, replace(episode(item), activities=[work_item("child", 1)], **changes))
    return start_of(child), await lock_activity(host, wait=WAIT)


async def test_a_childs_first_episode_is_written_with_its_second_in_one_batch(durable):
    host = await durable.open(**QUICK, checkpoint_mark_delay=0.5)
    before = calls(host)
    start, activity = await child_scheduling(host)
    assert activity is not None and activity.instance_id == "child"  # its work runs at once
    reader = await durable.open(dispatch=False)
    assert await sentinel_of(reader, "child") is None  # nothing of the child is written yet
    assert (await reader.get_instance("child")).runtime_status == RuntimeStatus.PENDING
    assert (await host.get_instance("child")).runtime_status == RuntimeStatus.PENDING  # as storage says
    assert not (await sentinel_of(reader, "parent")).complete  # the parent still keeps the start

    completing = asyncio.ensure_future(host.complete_activity_work_item(activity, result_of(activity)))
    item = await lock(host, wait=WAIT)
    assert item.instance_id == "child" and ids(item) == [result_of(activity).message_id]
    assert [e["EventType"] for e in item.history] == [e["EventType"] for e in first_episode(start)]
    await host.complete_orchestration_work_item(item, episode(item, RuntimeStatus.COMPLETED, output='"done"'))
    await completing

    # the parent's checkpoint and row (Running), the child's row (inserted by the parent, then
    # its end): one batch and one row write for the child's two episodes
    assert spent(host, before).get("table.batch") == 2 and spent(host, before).get("table.replace") == 2
    history = await reader.get_history("child")
    assert [e["EventType"] for e in history] == [
        *[e["EventType"] for e in first_episode(start)], *[e["EventType"] for e in episode(item).history]]
    assert (await reader.get_instance("child")).runtime_status == RuntimeStatus.COMPLETED
    assert await until_complete(host, "parent")  # the start is settled: the parent's checkpoint is marked


async def test_a_host_that_dies_with_a_postponed_checkpoint_starts_the_child_again(durable):
    """The parent's open checkpoint sends the start again; the child runs from its start."""
    host = await durable.open(**QUICK)
    start, activity = await child_scheduling(host)
    assert activity is not None
    await durable.crash(host)

    successor = await durable.open(**QUICK)
    item = await lock(successor, wait=WAIT)
    assert item.instance_id == "child" and ids(item) == [start.message_id] and item.history == []
    await successor.complete_orchestration_work_item(
        item, replace(episode(item), activities=[work_item("child", 1)]))
    again = await lock_activity(successor, wait=WAIT)
    assert again is not None and again.message_id == activity.message_id


async def test_a_completion_is_put_only_once_the_schedule_it_answers_is_written(durable):
    """Its handover runs out while the child is not consuming it: the postponed checkpoint is
    written first, then the completion is put; the child's next episode finds both."""
    host = await durable.open(**QUICK, handover_seconds=0.05)
    start, activity = await child_scheduling(host)
    await asyncio.wait_for(host.complete_activity_work_item(activity, result_of(activity)), WAIT)

    reader = await durable.open(dispatch=False)
    assert (await sentinel_of(reader, "child")) is not None
    history = await reader.get_history("child")
    assert [e["EventType"] for e in history] == [e["EventType"] for e in first_episode(start)]
    assert (await reader.get_instance("child")).runtime_status == RuntimeStatus.RUNNING
    item = await lock(host, wait=WAIT)
    assert item.instance_id == "child" and ids(item) == [result_of(activity).message_id]


async def test_a_host_shutting_down_writes_its_postponed_checkpoints(durable):
    host = await durable.open(**QUICK)
    start, _ = await child_scheduling(host)
    await host.close()
    reader = await durable.open(dispatch=False)
    history = await reader.get_history("child")
    assert [e["EventType"] for e in history] == [e["EventType"] for e in first_episode(start)]


async def test_a_first_episode_that_sends_a_message_is_written_at_once(durable):
    """A message may be consumed by its receiver at once: its sender must be durable first."""
    host = await durable.open(**QUICK)
    await run(host, "peer")
    start, activity = await child_scheduling(host, messages=[raised("peer", "note")])
    assert activity is not None
    reader = await durable.open(dispatch=False)
    history = await reader.get_history("child")
    assert [e["EventType"] for e in history] == [e["EventType"] for e in first_episode(start)]
    assert (await reader.get_instance("child")).runtime_status == RuntimeStatus.RUNNING


async def test_a_client_started_instance_postpones_its_first_checkpoint_while_its_start_is_queued(durable):
    """The start stays in its queue (invisible) until the checkpoint that consumes it is written:
    one batch for both episodes, and the queue message deleted then."""
    host = await durable.open(**QUICK)
    item = await started(host, "root")
    before = calls(host)
    await host.complete_orchestration_work_item(item, replace(episode(item), activities=[work_item("root", 1)]))
    assert "table.batch" not in spent(host, before) and "queue.delete" not in spent(host, before)
    activity = await lock_activity(host, wait=WAIT)
    completing = asyncio.ensure_future(host.complete_activity_work_item(activity, result_of(activity)))
    second = await lock(host, wait=WAIT)
    assert ids(second) == [result_of(activity).message_id]
    await host.complete_orchestration_work_item(second, episode(second, RuntimeStatus.COMPLETED))
    await completing
    assert spent(host, before).get("table.batch") == 1 and spent(host, before).get("queue.delete") == 1
    await durable.crash(host)
    successor = await durable.open(**QUICK)
    assert await lock(successor, wait=2 * QUICK["lock_seconds"] + 1) is None  # the start is gone for good


async def test_a_host_that_dies_with_a_client_start_postponed_runs_it_again_from_its_queue(durable):
    host = await durable.open(**QUICK)
    item = await started(host, "root")
    await host.complete_orchestration_work_item(item, replace(episode(item), activities=[work_item("root", 1)]))
    await durable.crash(host)
    successor = await durable.open(**QUICK)
    again = await lock(successor, wait=WAIT)
    assert again.instance_id == "root" and ids(again) == ids(item) and again.history == []


async def test_a_host_killed_between_the_last_checkpoint_and_its_row_leaves_the_row_to_the_next_owner(durable):
    """The row follows the history, as in the extension's tracking store; there the consumed
    queue messages, deleted only after the row, bring the instance back.  A completion handed
    over here has no queue copy, so the checkpoint stays open until its row is written, and the
    next owner's recovery writes it (found in CI: a finished workflow shown Running for good)."""
    host = await durable.open(**QUICK)
    item = await started(host, "root")
    await host.complete_orchestration_work_item(item, replace(episode(item), activities=[work_item("root", 1)]))
    activity = await lock_activity(host, wait=WAIT)
    completing = asyncio.ensure_future(host.complete_activity_work_item(activity, result_of(activity)))
    last = await lock(host, wait=WAIT)
    assert ids(last) == [result_of(activity).message_id]
    cut_off = asyncio.Event()

    async def killed_here(*args: Any, **kwargs: Any) -> None:
        cut_off.set()
        await asyncio.Event().wait()

    host.hub.instances.replace = killed_here  # the row write of the last checkpoint never happens
    ending = asyncio.ensure_future(
        host.complete_orchestration_work_item(last, episode(last, RuntimeStatus.COMPLETED, output='"done"')))
    await asyncio.wait_for(cut_off.wait(), WAIT)
    await durable.crash(host)
    for task in (completing, ending):
        task.cancel()
    await asyncio.gather(completing, ending, return_exceptions=True)
    reader = await durable.open(dispatch=False)
    assert h.EventType.TaskCompleted in [e["EventType"] for e in await reader.get_history("root")]  # written
    assert (await reader.get_instance("root")).runtime_status == RuntimeStatus.PENDING  # the row is behind

    successor = await durable.open(**QUICK)
    deadline = asyncio.get_running_loop().time() + WAIT
    while (row := await reader.get_instance("root")).runtime_status != RuntimeStatus.COMPLETED:
        assert asyncio.get_running_loop().time() < deadline, row
        await successor.wait_for_work(0.2)
    assert row.output == '"done"'


@pytest.mark.parametrize("completed", ["during the drop", "after the drop"])
async def test_a_dropped_postponed_checkpoint_lets_its_work_go_and_the_instance_runs_it_again(durable, completed):
    """The partition is lost (a late lease renewal) and claimed again while the first checkpoint
    is postponed: the instance runs again from its start, the old run's completion counts for
    nothing, and the same work item runs again.  (It used to be taken for one this host already
    had, whose completion was dropped: the instance waited for good.)"""
    host = await durable.open(**QUICK, handover_seconds=60)
    item = await started(host, "root")
    await host.complete_orchestration_work_item(item, replace(episode(item), activities=[work_item("root", 1)]))
    old = await lock_activity(host, wait=WAIT)
    completing = None
    if completed == "during the drop":
        completing = asyncio.ensure_future(host.complete_activity_work_item(old, result_of(old)))
        while not host.inbox.has("root", result_of(old).message_id):  # handed over, waiting for the instance
            await asyncio.sleep(0.01)
    partition = host.names.partition("root")
    host._lost(partition)
    host._acquired(partition)
    with pytest.raises(WorkItemLost):
        await asyncio.wait_for(completing or host.complete_activity_work_item(old, result_of(old)), WAIT)

    again = await lock(host, wait=WAIT)  # the start, back from its queue
    assert again.instance_id == "root" and ids(again) == ids(item) and again.history == []
    await host.complete_orchestration_work_item(again, replace(episode(again), activities=[work_item("root", 1)]))
    new = await lock_activity(host, wait=WAIT)
    assert new is not None and new.message_id == old.message_id
    completing = asyncio.ensure_future(host.complete_activity_work_item(new, result_of(new)))
    last = await lock(host, wait=WAIT)
    assert ids(last) == [result_of(new).message_id]
    await host.complete_orchestration_work_item(last, episode(last, RuntimeStatus.COMPLETED))
    await completing
    assert (await host.get_instance("root")).runtime_status == RuntimeStatus.COMPLETED
