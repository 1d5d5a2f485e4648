"""The task hub store contract (devhost/store/base.py), run against every store.

``memory`` always runs; ``azure`` runs against Azurite (started by the session fixture when
nothing listens).  Tests taking the ``durable`` fixture only make sense for a store that
outlives its process: they simulate crashes by halting one store object (``halt()``: no
lease, lock or message is given back) and opening another one on the same task hub.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.engine import history as h
from devhost.errors import InstanceAlreadyExists, WorkItemLost
from devhost.host import unique_hub_name
from devhost.store.base import (
    ActivityWorkItem,
    EpisodeCommit,
    InstanceQuery,
    Message,
    OrchestrationInstance,
    OrchestrationWorkItem,
    RuntimeStatus,
    TaskHubStore,
)
from devhost.store.memory import MemoryStore

NOW = datetime(2020, 1, 1, 12, tzinfo=UTC)  # long before the wall clock: visibility must not use it
BIG = 5 * 1024 * 1024
WAIT = 30.0


class Stores:
    """Opens stores of one kind on one task hub; closes (and for azure deletes) them after."""

    def __init__(self, kind: str, connection_string: str | None) -> None:
        self.kind = kind
        self.connection_string = connection_string
        self.hub = unique_hub_name()
        self.opened: list[Any] = []

    async def open(self, **options: Any) -> TaskHubStore:
        if self.kind == "memory":
            store: Any = MemoryStore(self.hub)
        else:
            from devhost.store.azure import AzureStore, AzureStoreOptions

            store = AzureStore.from_setting(
                self.hub, self.connection_string or "", options=AzureStoreOptions(**options)
            )
        await store.open()
        self.opened.append(store)
        return store

    async def crash(self, store: Any) -> None:
        await store.halt()
        self.opened.remove(store)

    async def cleanup(self) -> None:
        for store in reversed(self.opened):
            with contextlib.suppress(Exception):
                await store.close()
        if self.kind == "azure" and self.opened:
            await self.opened[0].destroy()


@pytest.fixture(params=["memory", pytest.param("azure", marks=pytest.mark.azurite)])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    connection = request.getfixturevalue("azurite_connection_string") if request.param == "azure" else None
    hub = Stores(request.param, connection)
    try:
        yield hub
    finally:
        await hub.cleanup()


@pytest.fixture
async def store(stores: Stores) -> TaskHubStore:
    return await stores.open()


@pytest.fixture
def durable(stores: Stores) -> Stores:
    if stores.kind == "memory":
        pytest.skip("the memory store does not outlive its process")
    return stores


# --- helpers ---------------------------------------------------------------------------------------
def instance(instance_id: str, status: RuntimeStatus = RuntimeStatus.PENDING, **fields: Any) -> OrchestrationInstance:
    return OrchestrationInstance(
        instance_id=instance_id, name="orch", execution_id=fields.pop("execution_id", "e-" + instance_id),
        runtime_status=status, created_time=fields.pop("created", NOW), last_updated_time=NOW, **fields,
    )


def start_of(row: OrchestrationInstance, message_id: str | None = None) -> Message:
    event = h.execution_started(NOW, instance_id=row.instance_id, execution_id=row.execution_id, name=row.name,
                                input=row.input)
    return Message(message_id or f"start-{row.instance_id}-{row.execution_id}", row.instance_id, event,
                   row.execution_id)


def raised(instance_id: str, message_id: str, data: str | None = '"x"', visible_at: datetime | None = None) -> Message:
    return Message(message_id, instance_id, h.event_raised(NOW, "e", data), visible_at=visible_at)


async def lock(store: TaskHubStore, now: datetime = NOW, wait: float = 0.0) -> OrchestrationWorkItem | None:
    """Lock a work item; with ``wait``, keep trying that long (messages from other hosts)."""
    return await _until(lambda: store.lock_orchestration_work_item(now), store, wait)


async def lock_activity(store: TaskHubStore, wait: float = 0.0) -> ActivityWorkItem | None:
    return await _until(store.lock_activity_work_item, store, wait)


async def _until(attempt: Any, store: TaskHubStore, wait: float) -> Any:
    deadline = time.monotonic() + wait
    while (found := await attempt()) is None and time.monotonic() < deadline:
        await store.wait_for_work(0.2)
    return found


def ids(item: OrchestrationWorkItem | None) -> list[str]:
    return [m.message_id for m in item.messages] if item else []


def episode(
    item: OrchestrationWorkItem, status: RuntimeStatus = RuntimeStatus.RUNNING, **changes: Any
) -> EpisodeCommit:
    """A plausible episode: the messages' events between OrchestratorStarted/Completed."""
    assert item.instance is not None
    row = replace(item.instance, runtime_status=status, **changes)
    events = [h.orchestrator_started(NOW), *(m.event for m in item.messages), h.orchestrator_completed(NOW)]
    return EpisodeCommit(row, events, consumed=[m.message_id for m in item.messages])


async def started(store: TaskHubStore, instance_id: str, **fields: Any) -> OrchestrationWorkItem:
    """Create an instance and lock its first work item."""
    row = instance(instance_id, **fields)
    await store.create_instance(row, start_of(row))
    item = await lock(store)
    assert item is not None and item.instance_id == instance_id
    return item


async def run(store: TaskHubStore, instance_id: str, status: RuntimeStatus = RuntimeStatus.RUNNING,
              **fields: Any) -> None:
    item = await started(store, instance_id, **fields)
    await store.complete_orchestration_work_item(item, episode(item, status))


# --- instances -------------------------------------------------------------------------------------
async def test_create_instance_writes_a_pending_row_and_queues_its_start(store):
    row = instance("c1", input='{"a": 1}')
    await store.create_instance(row, start_of(row))
    assert await store.get_instance("c1") == row
    item = await lock(store)
    assert item.instance == row and item.history == [] and ids(item) == [start_of(row).message_id]
    assert item.messages[0] == start_of(row)


async def test_create_instance_refuses_an_active_id_unless_overwriting(store):
    row = instance("c2")
    await store.create_instance(row, start_of(row))
    with pytest.raises(InstanceAlreadyExists):
        await store.create_instance(row, start_of(row, "again"))
    await store.create_instance(replace(row, execution_id="e2"), start_of(row, "over"), overwrite_running=True)
    assert (await store.get_instance("c2")).execution_id == "e2"


async def test_terminal_instance_is_recreated_with_next_generation_and_empty_history(store):
    await run(store, "c3", RuntimeStatus.COMPLETED)
    assert await store.get_history("c3")
    again = instance("c3", execution_id="e-second")
    await store.create_instance(again, start_of(again))
    row = await store.get_instance("c3")
    assert (row.generation, row.execution_id, row.runtime_status) == (1, "e-second", RuntimeStatus.PENDING)
    assert await store.get_history("c3") == []
    item = await lock(store)
    assert item.history == [] and ids(item) == [start_of(again).message_id]


# --- orchestration work items ------------------------------------------------------------------------
async def test_an_instance_is_locked_by_one_work_item_at_a_time(store):
    first = await started(store, "l1")
    await store.send_messages([raised("l1", "m2")])
    assert await lock(store) is None  # m2 waits for the lock
    await store.complete_orchestration_work_item(first, episode(first))
    second = await lock(store)
    assert ids(second) == ["m2"] and len(second.history) == 3


async def test_a_work_item_holds_every_visible_message_oldest_first(store):
    await store.send_messages([raised("b1", f"m{i}") for i in range(3)])
    await store.send_messages([raised("b1", "m3")])
    item = await lock(store)
    assert ids(item) == ["m0", "m1", "m2", "m3"] and item.instance is None


async def test_only_consumed_messages_are_deleted(store):
    await store.send_messages([raised("d1", "keep"), raised("d1", "eat")])
    item = await lock(store)
    await store.complete_orchestration_work_item(item, EpisodeCommit(None, consumed=["eat"]))
    assert ids(await lock(store)) == ["keep"]


async def test_an_abandoned_work_item_gives_back_its_messages(store):
    await store.send_messages([raised("a1", "m1"), raised("a1", "m2")])
    item = await lock(store)
    await store.abandon_orchestration_work_item(item)
    again = await lock(store)
    assert ids(again) == ["m1", "m2"] and again.lock_token != item.lock_token
    with pytest.raises(WorkItemLost):
        await store.complete_orchestration_work_item(item, EpisodeCommit(None, consumed=["m1"]))


async def test_a_message_id_is_delivered_once(store):
    await store.send_messages([raised("u1", "same"), raised("u1", "same")])
    await store.send_messages([raised("u1", "same")])
    item = await lock(store)
    assert ids(item) == ["same"]
    await store.complete_orchestration_work_item(item, EpisodeCommit(None, consumed=["same"]))
    await store.send_messages([raised("u1", "same")])
    assert await lock(store) is None


async def test_a_message_is_delivered_once_the_engine_clock_reaches_visible_at(store):
    item = await started(store, "t1")
    await store.complete_orchestration_work_item(item, episode(item))
    soon, later = NOW + timedelta(hours=1), datetime(2100, 1, 1, tzinfo=UTC)
    await store.send_messages([raised("t1", "late", visible_at=later), raised("t1", "soon", visible_at=soon)])
    assert await lock(store, NOW) is None
    assert await store.next_visible_time() == soon
    due = await lock(store, soon)
    assert ids(due) == ["soon"]
    await store.complete_orchestration_work_item(due, episode(due))
    assert await store.next_visible_time() == later
    assert await lock(store, later - timedelta(seconds=1)) is None
    assert ids(await lock(store, later)) == ["late"]


async def test_history_round_trips_exactly(store):
    item = await started(store, "h1/ü?#")
    odd = {"EventType": 15, "EventId": -1, "IsPlayed": True, "Timestamp": h.format_timestamp(NOW), "Name": "ünï 🚀",
           "Input": None, "Nested": {"a": [1, 2.5, None, {"b": "c"}]}, "Big": 2**40, "Float": 1.0, "Empty": "",
           "Looks": '{"json": true}', "OrchestrationStatus": "Completed", "Bad Key": 1, "_under": 2,
           "Long": "x" * 70_000, "ExecutionId": "in-event", "FireAt": "2024-01-01T00:00:00Z"}
    parent = h.parent_instance("p", "pid", "pexec", 3)
    started_event = h.execution_started(NOW, instance_id="h1/ü?#", execution_id="e-h1/ü?#", name="orch",
                                        input='"i"', parent=parent)
    events = [h.orchestrator_started(NOW), started_event, odd,
              h.event(h.EventType.ExecutionCompleted, NOW, 4, OrchestrationStatus=1, Result=None)]
    commit = replace(episode(item, RuntimeStatus.COMPLETED), history=events)
    await store.complete_orchestration_work_item(item, commit)
    assert await store.get_history("h1/ü?#") == events
    assert (await store.get_instance("h1/ü?#")).runtime_status is RuntimeStatus.COMPLETED


async def test_continue_as_new_replaces_the_history(store):
    item = await started(store, "n1")
    await store.complete_orchestration_work_item(item, replace(episode(item), history=[
        *episode(item).history, *(h.orchestrator_started(NOW) for _ in range(5))]))
    await store.send_messages([raised("n1", "go")])
    item = await lock(store)
    fresh = [h.orchestrator_started(NOW)]
    commit = replace(episode(item, RuntimeStatus.CONTINUED_AS_NEW, execution_id="e-new"), history=fresh,
                     new_execution=True)
    await store.complete_orchestration_work_item(item, commit)
    assert await store.get_history("n1") == fresh
    assert (await store.get_instance("n1")).execution_id == "e-new"


async def test_a_sub_orchestration_is_started_once(store):
    parent = await started(store, "p1")
    child = instance("p1-child", parent_instance_id="p1")
    commit = replace(episode(parent), started=[(child, start_of(child))])
    await store.complete_orchestration_work_item(parent, commit)
    first = await lock(store)
    assert first.instance_id == "p1-child" and ids(first) == [start_of(child).message_id]
    await store.send_messages([raised("p1", "again")])
    parent = await lock(store)
    assert parent.instance_id == "p1"
    await store.complete_orchestration_work_item(parent, replace(episode(parent), started=[(child, start_of(child))]))
    assert await store.get_instance("p1-child") == child
    await store.abandon_orchestration_work_item(first)
    assert ids(await lock(store)) == [start_of(child).message_id]


# --- activities ----------------------------------------------------------------------------------
def work_item(instance_id: str, task_id: int, data: str | None = '"in"') -> ActivityWorkItem:
    return ActivityWorkItem(f"{instance_id}:e-{instance_id}:{task_id}", instance_id, f"e-{instance_id}", task_id,
                            "hello", data)


def result_of(item: ActivityWorkItem) -> Message:
    return Message(f"{item.message_id}:result", item.instance_id, h.task_completed(NOW, item.task_id, '"out"'),
                   item.execution_id)


async def scheduled(store: TaskHubStore, instance_id: str, *tasks: int, data: str | None = '"in"') -> None:
    item = await started(store, instance_id)
    activities = [work_item(instance_id, t, data) for t in tasks]
    await store.complete_orchestration_work_item(item, replace(episode(item), activities=activities))


async def test_an_activity_is_locked_once_and_its_result_reaches_the_instance(store):
    await scheduled(store, "w1", 1)
    activity = await lock_activity(store)
    assert (activity.name, activity.input, activity.task_id, activity.dequeue_count) == ("hello", '"in"', 1, 1)
    assert await lock_activity(store) is None
    await store.complete_activity_work_item(activity, result_of(activity))
    assert ids(await lock(store)) == [result_of(activity).message_id]
    with pytest.raises(WorkItemLost):
        await store.complete_activity_work_item(activity, result_of(activity))


async def test_an_abandoned_activity_comes_back_with_a_higher_dequeue_count(store):
    await scheduled(store, "w2", 1)
    activity = await lock_activity(store)
    await store.abandon_activity_work_item(activity)
    again = await lock_activity(store)
    assert again.message_id == activity.message_id and again.dequeue_count == 2


async def test_a_renewed_activity_can_still_be_completed(store):
    await scheduled(store, "w3", 1)
    activity = await lock_activity(store)
    renewed = await store.renew_activity_work_item(activity)
    assert renewed.message_id == activity.message_id
    await store.complete_activity_work_item(renewed, result_of(activity))
    assert await lock_activity(store) is None


# --- queries and purge ---------------------------------------------------------------------------
async def test_query_filters_by_status_created_time_and_id_prefix(store):
    for i, status in enumerate([RuntimeStatus.COMPLETED, RuntimeStatus.RUNNING, RuntimeStatus.FAILED]):
        await run(store, f"q-{i}", status, created=NOW + timedelta(minutes=i))
    await run(store, "other", RuntimeStatus.COMPLETED, created=NOW + timedelta(minutes=5))

    async def found(**query: Any) -> list[str]:
        return [i.instance_id for i in (await store.query_instances(InstanceQuery(**query))).instances]

    assert await found() == ["other", "q-2", "q-1", "q-0"]
    assert await found(runtime_status=frozenset({RuntimeStatus.COMPLETED, RuntimeStatus.FAILED})) == [
        "other", "q-2", "q-0"]
    assert await found(created_from=NOW + timedelta(minutes=1), created_to=NOW + timedelta(minutes=2)) == [
        "q-2", "q-1"]
    assert await found(instance_id_prefix="q-") == ["q-2", "q-1", "q-0"]


async def test_query_pages_newest_first_with_continuation_tokens(store):
    for i in range(5):
        row = instance(f"page-{i}", created=NOW + timedelta(seconds=i))
        await store.create_instance(row, start_of(row))
    seen, token = [], None
    for _ in range(5):
        page = await store.query_instances(InstanceQuery(top=2, continuation_token=token))
        seen += [i.instance_id for i in page.instances]
        token = page.continuation_token
        if token is None:
            break
    assert seen == [f"page-{i}" for i in reversed(range(5))]


async def test_purge_deletes_the_row_the_history_and_pending_messages(store):
    await run(store, "g1", RuntimeStatus.COMPLETED)
    await store.send_messages([raised("g1", "late")])
    assert await store.purge_instance("g1") is True
    assert await store.get_instance("g1") is None and await store.get_history("g1") == []
    assert await lock(store) is None
    assert await store.purge_instance("g1") is False


async def test_five_megabyte_payloads_travel_through_blobs(stores, store):
    big_input, big_output, big_event = ('"' + c * BIG + '"' for c in "iox")
    item = await started(store, "big", input=big_input)
    assert item.instance.input == big_input and item.messages[0].event["Input"] == big_input
    await store.complete_orchestration_work_item(item, episode(item, custom_status='"c"'))
    await store.send_messages([raised("big", "ev", big_event)])
    item = await lock(store)
    assert item.messages[0].event["Input"] == big_event
    await store.complete_orchestration_work_item(item, episode(item, RuntimeStatus.COMPLETED, output=big_output))
    row = await store.get_instance("big")
    assert (row.input, row.output, row.custom_status) == (big_input, big_output, '"c"')
    history = await store.get_history("big")
    assert [e.get("Input") for e in history if e["EventType"] in (0, 15)] == [big_input, big_event]
    if stores.kind == "azure":
        assert await store.hub.payloads.list("big/")
        await store.purge_instance("big")
        assert await store.hub.payloads.list("big/") == []


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
    crashed = await durable.open(**QUICK)
    await scheduled(crashed, "x2", 1)
    activity = await lock_activity(crashed)
    await durable.crash(crashed)
    successor = await durable.open(**QUICK)
    again = await lock_activity(successor, wait=WAIT)
    assert (again.message_id, again.input) == (activity.message_id, activity.input)


@pytest.mark.parametrize("crash_before", ["_write_row", "_send", "_delete"])
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


async def test_a_chain_step_costs_at_most_six_round_trips(durable):
    store = await durable.open()
    item = await started(store, "chain")
    steps = 10
    before = store.calls.foreground
    for task_id in range(steps):
        commit = replace(episode(item), activities=[work_item("chain", task_id)])
        await store.complete_orchestration_work_item(item, commit)
        activity = await lock_activity(store)
        await store.complete_activity_work_item(activity, result_of(activity))
        item = await lock(store)
        assert ids(item) == [result_of(activity).message_id]
    per_step = (store.calls.foreground - before) / steps
    assert per_step <= 6, dict(store.calls.by_kind)
