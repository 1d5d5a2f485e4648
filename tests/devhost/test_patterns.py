"""Every Durable pattern, run end to end through devhost's HTTP API (memory store, virtual clock)."""

from __future__ import annotations

import asyncio
import uuid

from devhost.store.base import RuntimeStatus
from tests.devhost.e2e import post, start, status

RUNNING = frozenset({RuntimeStatus.RUNNING})


async def test_function_chaining_returns_results_in_order(devhost, devhost_http):
    started = await start(devhost_http, "chain", {"steps": 3})
    result = await devhost.wait_for_instance(started["id"])
    assert result["runtimeStatus"] == "Completed"
    assert result["output"] == ["Hello 0!", "Hello 1!", "Hello 2!"]
    assert result["customStatus"] == {"completed": 2, "total": 3}


async def test_fan_out_fan_in_of_1000_activities_in_few_replays(devhost, devhost_http):
    replays_before = devhost.dispatcher.stats.replays
    started = await start(devhost_http, "fan_out", {"count": 1000})
    result = await devhost.wait_for_instance(started["id"], timeout=120)
    assert result["output"] == sum(2 * i for i in range(1000))
    assert devhost.dispatcher.stats.replays - replays_before <= 30


async def test_retry_succeeds_on_the_third_attempt(devhost, devhost_http):
    started = await start(devhost_http, "retrying", f"retry-{uuid.uuid4().hex}")
    result = await devhost.wait_for_instance(started["id"])
    assert result["output"] == "ok after 3"
    _code, body = await status(devhost_http, started["id"], showHistory="true")
    timers = [e for e in body["historyEvents"] if e["EventType"] == "TimerCreated"]
    assert len(timers) == 2  # one durable timer between each pair of attempts


async def test_exhausted_retries_reach_the_orchestrator_as_the_last_failure(devhost, devhost_http):
    started = await start(devhost_http, "retry_exhausted", "z")
    result = await devhost.wait_for_instance(started["id"])
    assert result["runtimeStatus"] == "Completed"
    assert result["output"].startswith("caught: Activity function 'always_fails' failed:  ValueError: nope z")


async def test_durable_timer_of_hours_fires_with_virtual_time(devhost, devhost_http):
    started = await start(devhost_http, "sleeper", {"hours": 2})
    result = await devhost.wait_for_instance(started["id"])
    assert result["output"] == 7200.0


async def test_human_interaction_approved_before_the_timeout(devhost, devhost_http):
    with devhost.clock.auto_time_skipping_disabled():
        started = await start(devhost_http, "approval")
        await _wait_for_custom_status(devhost_http, started["id"], "waiting")
        code = await post(devhost_http, f"/instances/{started['id']}/raiseEvent/Approve", json={"by": "ann"})
        assert code == 202
        result = await devhost.wait_for_instance(started["id"])
    assert result["output"] == {"approved": {"by": "ann"}}


async def test_human_interaction_times_out(devhost, devhost_http):
    started = await start(devhost_http, "approval")
    result = await devhost.wait_for_instance(started["id"])
    assert result["output"] == "timeout"


async def test_monitor_loop_continues_as_new(devhost, devhost_http):
    started = await start(devhost_http, "monitor", {"round": 0, "max": 3})
    result = await devhost.wait_for_instance(started["id"])
    assert result["output"] == {"round": 3, "max": 3}


async def test_sub_orchestrations(devhost, devhost_http):
    started = await start(devhost_http, "parent", None, instance_id="parent-1")
    result = await devhost.wait_for_instance(started["id"])
    assert result["output"] == {"chain": ["Hello 0!", "Hello 1!"], "fan_out": 12}
    code, child = await status(devhost_http, "parent-1-child")
    assert code == 200 and child["runtimeStatus"] == "Completed"


async def test_failed_sub_orchestration_reaches_the_parent(devhost, devhost_http):
    started = await start(devhost_http, "parent_of_failure")
    result = await devhost.wait_for_instance(started["id"])
    assert "Orchestrator function 'failing' failed: boom" in result["output"]["child_failed"]


async def test_activity_exception_is_catchable(devhost, devhost_http):
    started = await start(devhost_http, "catches_failure")
    result = await devhost.wait_for_instance(started["id"])
    assert result["output"]["caught"].startswith("Activity function 'always_fails' failed:  ValueError: nope once")


async def test_failing_orchestrator_is_failed_with_its_message(devhost, devhost_http):
    started = await start(devhost_http, "failing")
    await devhost.wait_for_instance(started["id"])
    code, body = await status(devhost_http, started["id"])
    assert code == 200 and body["runtimeStatus"] == "Failed"
    assert body["output"] == "Orchestrator function 'failing' failed: boom"
    assert body["customStatus"] == {"stage": 1}
    code, _ = await status(devhost_http, started["id"], returnInternalServerErrorOnFailure="true")
    assert code == 500


async def test_non_deterministic_orchestrator_fails(devhost, devhost_http):
    started = await start(devhost_http, "nondeterministic")
    result = await devhost.wait_for_instance(started["id"])
    assert result["runtimeStatus"] == "Failed"
    assert "Non-Deterministic workflow detected" in result["output"]


async def test_calling_an_unknown_activity_fails_the_orchestration(devhost, devhost_http):
    started = await start(devhost_http, "calls_missing")
    result = await devhost.wait_for_instance(started["id"])
    assert "The function 'no_such_activity' doesn't exist" in result["output"]
    assert "'hello'" in result["output"]


async def test_suspend_holds_events_until_resume(devhost, devhost_http):
    started = await start(devhost_http, "waits_forever")
    iid = started["id"]
    await devhost.wait_for_instance(iid, until=RUNNING)
    assert await post(devhost_http, f"/instances/{iid}/suspend", params={"reason": "pause"}) == 202
    await devhost.wait_for_instance(iid, until=frozenset({RuntimeStatus.SUSPENDED}))
    assert await post(devhost_http, f"/instances/{iid}/raiseEvent/Go", json=42) == 202
    await asyncio.sleep(0.2)
    _code, body = await status(devhost_http, iid)
    assert body["runtimeStatus"] == "Suspended"
    assert await post(devhost_http, f"/instances/{iid}/resume", params={"reason": "go"}) == 202
    result = await devhost.wait_for_instance(iid)
    assert result["output"] == 42


async def test_terminate_then_purge(devhost, devhost_http):
    started = await start(devhost_http, "waits_forever")
    iid = started["id"]
    await devhost.wait_for_instance(iid, until=RUNNING)
    assert await post(devhost_http, f"/instances/{iid}/terminate", params={"reason": "stop it"}) == 202
    result = await devhost.wait_for_instance(iid)
    assert result["runtimeStatus"] == "Terminated" and result["output"] == "stop it"
    assert await post(devhost_http, f"/instances/{iid}/terminate", params={"reason": "again"}) == 410
    async with devhost_http.delete(f"/runtime/webhooks/durabletask/instances/{iid}") as response:
        assert response.status == 200 and (await response.json()) == {"instancesDeleted": 1}
    code, _ = await status(devhost_http, iid)
    assert code == 404


async def test_deterministic_guids_and_time(devhost, devhost_http):
    started = await start(devhost_http, "guids")
    result = await devhost.wait_for_instance(started["id"])
    first, second, moment = result["output"]
    assert first != second and len(first) == 36
    assert moment.endswith("+00:00")


async def test_history_shows_completed_activities(devhost, devhost_http):
    started = await start(devhost_http, "chain", {"steps": 2})
    await devhost.wait_for_instance(started["id"])
    _code, body = await status(devhost_http, started["id"], showHistory="true", showHistoryOutput="true")
    completed = [e for e in body["historyEvents"] if e["EventType"] == "TaskCompleted"]
    assert [(e["FunctionName"], e["Result"]) for e in completed] == [("hello", "Hello 0!"), ("hello", "Hello 1!")]


async def _wait_for_custom_status(http, instance_id: str, expected, attempts: int = 400) -> None:
    for _ in range(attempts):
        _code, body = await status(http, instance_id)
        if body and body.get("customStatus") == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"custom status never became {expected!r}")


async def test_entity_signal_call_and_failed_operation(devhost, devhost_http):
    started = await start(devhost_http, "entity_user", "e1")
    result = await devhost.wait_for_instance(started["id"])
    assert result["output"] == {"total": 7, "error": "counter refused"}
    entity = await devhost.store.get_instance("@counter@e1")
    assert entity is not None and entity.input == "7"


async def test_entity_operations_from_one_episode_arrive_in_send_order(devhost, devhost_http):
    # The Durable extension delivers the operations one sender sends to one entity in order
    # (EntityScheduler/MessageSorter.cs): 40 signals then a call, all sent by one episode.
    key = f"j-{uuid.uuid4().hex[:8]}"
    started = await start(devhost_http, "journal_user", {"key": key, "signals": 40})
    result = await devhost.wait_for_instance(started["id"], timeout=60)
    assert result["runtimeStatus"] == "Completed"
    assert result["output"] == list(range(40))


async def test_waiting_one_by_one_on_retrying_tasks_is_non_deterministic(devhost, devhost_http):
    started = await start(devhost_http, "any_loop_with_retries")
    result = await devhost.wait_for_instance(started["id"])
    assert result["runtimeStatus"] == "Failed"
    assert "Non-Deterministic workflow detected" in result["output"]
