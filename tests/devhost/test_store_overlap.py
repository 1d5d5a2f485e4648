"""Work of one instance that overlaps without reordering its writes (``azure`` store, Azurite).

* The follow-up of a checkpoint (instance row, outbox, deletions) runs after the instance's
  lock is released: its next episode runs meanwhile, and that episode's checkpoint is written
  only after the follow-up (if the follow-up fails, not at all: the first checkpoint is
  finished from its sentinel, and the message comes back).
* A client's message for this host's partitions is handed over while it is put: the episode
  runs meanwhile, its checkpoint waits for the put, and a put that fails withdraws it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from devhost.errors import StoreError, WorkItemLost
from devhost.store.base import RuntimeStatus
from tests.devhost.store_kit import WAIT, episode, ids, instance, lock, raised, start_of, started

QUICK = {"lock_seconds": 2, "lease_seconds": 1.0}


def hold(target: Any, name: str, applies: Callable[[Any], bool]) -> tuple[asyncio.Future[None], asyncio.Event]:
    """Make the first call ``target.name(...)`` for which ``applies(first argument)`` wait for the
    returned outcome (its exception: the call fails so); the event is set once it waits."""
    outcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiting, real = asyncio.Event(), getattr(target, name)

    async def held(first: Any, *args: Any, **kwargs: Any) -> Any:
        if applies(first) and not waiting.is_set():
            waiting.set()
            await outcome
        return await real(first, *args, **kwargs)

    setattr(target, name, held)
    return outcome, waiting


async def sentinel_checkpoint(store: Any, instance_id: str) -> int:
    sentinel = (await store.hub.history.read(instance_id)).sentinel
    return sentinel.checkpoint if sentinel else 0


async def next_episode_during_follow_up(host: Any) -> tuple[asyncio.Future[None], asyncio.Future[None], Any]:
    """Instance ``x``: its first checkpoint's row write (Pending to Running) is held; a message
    comes meanwhile.  Returns (the row write's outcome, the first commit, the next work item)."""
    item = await started(host, "x")
    outcome, writing = hold(host.hub.instances, "replace", lambda instance_id: instance_id == "x")
    first = asyncio.ensure_future(host.complete_orchestration_work_item(item, episode(item)))
    await writing.wait()
    assert await sentinel_checkpoint(host, "x") == 1  # durable; its follow-up is under way
    await host.send_messages([raised("x", "later")])
    nxt = await lock(host, wait=WAIT)  # the instance is not locked during the follow-up
    assert nxt is not None and nxt.instance_id == "x" and ids(nxt) == ["later"]
    assert not first.done()  # a commit returns once its follow-up is over
    return outcome, first, nxt


async def test_the_next_episode_runs_during_the_follow_up_and_its_checkpoint_waits_for_it(durable):
    host = await durable.open(**QUICK)
    outcome, first, nxt = await next_episode_during_follow_up(host)
    second = asyncio.ensure_future(host.complete_orchestration_work_item(nxt, episode(nxt)))
    done, _ = await asyncio.wait([second], timeout=0.3)
    assert not done and await sentinel_checkpoint(host, "x") == 1  # written only after the follow-up
    outcome.set_result(None)
    await asyncio.gather(first, second)
    assert await sentinel_checkpoint(host, "x") == 2
    reader = await durable.open(dispatch=False)
    assert (await reader.get_instance("x")).runtime_status == RuntimeStatus.RUNNING


async def test_a_failed_follow_up_loses_the_checkpoint_waiting_for_it_and_is_finished_from_its_sentinel(durable):
    host = await durable.open(**QUICK)
    outcome, first, nxt = await next_episode_during_follow_up(host)
    second = asyncio.ensure_future(host.complete_orchestration_work_item(nxt, episode(nxt)))
    outcome.set_exception(StoreError("storage unavailable"))
    with pytest.raises(StoreError):
        await first
    with pytest.raises(WorkItemLost):
        await second
    assert await sentinel_checkpoint(host, "x") == 1
    again = await lock(host, wait=WAIT)  # the message comes back, after the row is written from the sentinel
    assert again is not None and ids(again) == ["later"]
    await host.complete_orchestration_work_item(again, episode(again))
    assert await sentinel_checkpoint(host, "x") == 2
    reader = await durable.open(dispatch=False)
    assert (await reader.get_instance("x")).runtime_status == RuntimeStatus.RUNNING


@pytest.mark.parametrize("put", ["succeeds", "fails"])
async def test_a_clients_start_runs_while_it_is_put_and_its_checkpoint_waits_for_the_put(durable, put):
    host = await durable.open(**QUICK)
    row = instance("g")
    _, queue = host.hub.control_queue("g")
    outcome, putting = hold(queue, "put", lambda body: True)
    creating = asyncio.ensure_future(host.create_instance(row, start_of(row)))
    await putting.wait()
    item = await lock(host)  # handed over before its put returned
    assert item is not None and item.instance_id == "g" and not creating.done()
    committing = asyncio.ensure_future(host.complete_orchestration_work_item(item, episode(item)))
    done, _ = await asyncio.wait([committing], timeout=0.3)
    assert not done and await sentinel_checkpoint(host, "g") == 0
    if put == "succeeds":
        outcome.set_result(None)
        await asyncio.gather(creating, committing)
        assert await sentinel_checkpoint(host, "g") == 1
        assert (await host.get_instance("g")).runtime_status == RuntimeStatus.RUNNING
        return
    outcome.set_exception(StoreError("queue unavailable"))
    with pytest.raises(StoreError):
        await creating  # the client's call fails
    with pytest.raises(WorkItemLost):
        await committing  # and nothing of the start was written
    assert await sentinel_checkpoint(host, "g") == 0
    assert await lock(host) is None
