"""The task hub store contract (devhost/store/base.py), run against every store.

``memory`` always runs; ``azure`` runs against Azurite (started by the session fixture when
nothing listens).  Tests taking the ``durable`` fixture only make sense for a store that
outlives its process: they simulate crashes by halting one store object (``halt()``: no
lease, lock or message is given back) and opening another one on the same task hub.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.engine import history as h
from devhost.errors import InstanceAlreadyExists, WorkItemLost
from devhost.store.base import (
    EpisodeCommit,
    InstanceQuery,
    RuntimeStatus,
)
from tests.devhost.store_kit import (
    BIG,
    NOW,
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
)


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
