"""The host-side replay: sequence ids, retries, open tasks, non-determinism (pure, no I/O)."""

from datetime import UTC, datetime, timedelta

import pytest

from devhost.engine import history as h
from devhost.engine.actions import parse_state
from devhost.engine.replay import TaskKind, replay
from devhost.errors import NonDeterminismError

T0 = datetime(2020, 1, 1, 12, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def started(name: str = "orch") -> list[dict]:
    return [
        h.orchestrator_started(at(0)),
        h.execution_started(at(0), instance_id="i", execution_id="e", name=name, input=None),
    ]


def scheduled(task_id: int, name: str, t: float = 0) -> dict:
    return h.event(h.EventType.TaskScheduled, at(t), task_id, Name=name, Version="", Input=None)


def timer_created(task_id: int, fire_at: datetime, t: float = 0) -> dict:
    return h.event(h.EventType.TimerCreated, at(t), task_id, FireAt=h.format_timestamp(fire_at))


def call(name: str, value: str = '"x"') -> dict:
    return {"actionType": 0, "functionName": name, "input": value}


def state(*actions: dict, done: bool = False) -> tuple:
    return parse_state({"isDone": done, "schemaVersion": 2, "actions": [list(actions)]}).actions


def test_chain_issues_the_next_id_after_the_first_completes():
    history = [*started(), scheduled(0, "hello"), h.orchestrator_completed(at(0)),
               h.orchestrator_started(at(2)), h.task_completed(at(1), 0, '"Hello"')]
    result = replay(state(call("hello"), call("hello", '"b"')), history).result()
    assert [(t.task_id, t.kind, t.name, t.input) for t in result.new_tasks] == [(1, TaskKind.ACTIVITY, "hello", '"b"')]
    assert result.has_open_tasks and result.blocked  # user code now waits on "b"


def test_fan_out_assigns_ids_in_child_order_and_blocks_until_all_complete():
    fan = {"actionType": 12, "compoundActions": [call("a"), call("b"), call("c")]}
    history = [*started(), scheduled(0, "a"), scheduled(1, "b"), scheduled(2, "c"), h.orchestrator_completed(at(0)),
               h.orchestrator_started(at(1)), h.task_completed(at(1), 2, "1"), h.task_completed(at(1), 0, "1")]
    result = replay(state(fan), history).result()
    assert result.new_tasks == () and result.blocked and result.has_open_tasks
    history.append(h.task_completed(at(2), 1, "1"))
    result = replay(state(fan), history).result()
    assert not result.blocked and result.all_actions_done and not result.has_open_tasks


def test_a_failed_child_unblocks_user_code_but_not_the_shim():
    fan = {"actionType": 12, "compoundActions": [call("a"), call("b")]}
    history = [*started(), scheduled(0, "a"), scheduled(1, "b"), h.orchestrator_completed(at(0)),
               h.orchestrator_started(at(1)), h.task_failed(at(1), 0, "boom", None)]
    result = replay(state(fan, call("handler")), history).result()
    assert not result.blocked  # the SDK fails task_all at the first failure
    assert result.new_tasks == ()  # the shim starts "handler" only when "b" has finished too


def test_retry_consumes_timer_and_attempt_ids_and_ends_with_a_dummy_timer():
    retry = {"actionType": 12, "compoundActions": [{
        "actionType": 1, "functionName": "flaky", "input": '"x"',
        "retryOptions": {"firstRetryIntervalInMilliseconds": 5000, "maxNumberOfAttempts": 2}}]}
    actions = state(retry)
    history = [*started(), scheduled(0, "flaky"), h.orchestrator_completed(at(0)),
               h.orchestrator_started(at(2)), h.task_failed(at(1), 0, "nope", None)]
    first = replay(actions, history).result()
    assert [(t.task_id, t.kind, t.fire_at) for t in first.new_tasks] == [(1, TaskKind.TIMER, at(7))]
    assert first.blocked
    history += [timer_created(1, at(7), 2), h.orchestrator_completed(at(2)),
                h.orchestrator_started(at(8)), h.timer_fired(at(7), 1, h.format_timestamp(at(7)))]
    second = replay(actions, history).result()
    assert [(t.task_id, t.kind, t.name) for t in second.new_tasks] == [(2, TaskKind.ACTIVITY, "flaky")]
    history += [scheduled(2, "flaky", 8), h.orchestrator_completed(at(8)),
                h.orchestrator_started(at(10)), h.task_failed(at(9), 2, "nope", None)]
    third = replay(actions, history).result()
    assert [(t.task_id, t.kind, t.fire_at) for t in third.new_tasks] == [(3, TaskKind.TIMER, at(10))]
    assert third.blocked


def test_name_mismatch_is_non_deterministic():
    history = [*started(), scheduled(0, "hello_old"), h.orchestrator_completed(at(0)),
               h.orchestrator_started(at(1)), h.task_completed(at(1), 0, '"old"')]
    with pytest.raises(NonDeterminismError, match="hello_old"):
        replay(state(call("hello")), history)


def test_kind_mismatch_and_missing_action_are_non_deterministic():
    history = [*started(), timer_created(0, at(60)), h.orchestrator_completed(at(0))]
    with pytest.raises(NonDeterminismError, match="timer"):
        replay(state(call("hello")), history)
    with pytest.raises(NonDeterminismError, match="hasn't"):
        replay(state(), history)


def test_names_match_case_insensitively():
    history = [*started(), scheduled(0, "Hello"), h.orchestrator_completed(at(0))]
    assert replay(state(call("hello")), history).result().new_tasks == ()


def test_canceled_timer_does_not_keep_the_instance_open():
    race = {"actionType": 11, "compoundActions": [
        {"actionType": 6, "externalEventName": "Approve", "reason": "ExternalEvent"},
        {"actionType": 5, "fireAt": "2020-01-01T13:00:00.000000Z", "isCanceled": True}]}
    history = [*started(), timer_created(0, at(3600)), h.orchestrator_completed(at(0)),
               h.orchestrator_started(at(5)), h.event_raised(at(4), "Approve", '{"by": "bob"}')]
    result = replay(state(race, done=True), history).result()
    assert result.all_actions_done and not result.has_open_tasks


def test_task_any_leaves_the_loser_open():
    race = {"actionType": 11, "compoundActions": [call("a"), call("b")]}
    history = [*started(), scheduled(0, "a"), scheduled(1, "b"), h.orchestrator_completed(at(0)),
               h.orchestrator_started(at(1)), h.task_completed(at(1), 0, "1")]
    result = replay(state(race, done=True), history).result()
    assert result.all_actions_done and result.has_open_tasks


def test_one_event_satisfies_only_one_wait():
    wait = {"actionType": 6, "externalEventName": "E", "reason": "ExternalEvent"}
    history = [*started(), h.orchestrator_completed(at(0)), h.orchestrator_started(at(1)),
               h.event_raised(at(1), "E", "1")]
    assert not replay(state(wait, wait, done=True), history).result().all_actions_done
    history.append(h.event_raised(at(2), "E", "2"))
    assert replay(state(wait, wait, done=True), history).result().all_actions_done


def test_continue_as_new_is_reported_once_reached():
    result = replay(state(call("a"), {"actionType": 4, "input": '{"n": 2}'}, done=True),
                    [*started(), scheduled(0, "a"), h.orchestrator_completed(at(0)),
                     h.orchestrator_started(at(1)), h.task_completed(at(1), 0, "1")]).result()
    assert result.continue_as_new is not None and result.continue_as_new.input == '{"n": 2}'


def test_sub_orchestration_default_instance_id_is_execution_and_sequence():
    action = {"actionType": 2, "functionName": "child", "input": "null", "instanceId": None, "version": None}
    result = replay(state(call("a"), action), [*started(), scheduled(0, "a"), h.orchestrator_completed(at(0)),
                    h.orchestrator_started(at(1)), h.task_completed(at(1), 0, "1")], "exec1").result()
    assert [(t.task_id, t.kind, t.instance_id) for t in result.new_tasks] == [
        (1, TaskKind.SUB_ORCHESTRATION, "exec1:1")]


def test_incremental_extension_equals_a_full_replay():
    history = [*started(), scheduled(0, "a"), h.orchestrator_completed(at(0)),
               h.orchestrator_started(at(1)), h.task_completed(at(1), 0, "1")]
    shim = replay(state(call("a")), history)
    assert shim.extend(state(call("a"), call("b")))
    assert shim.result() == replay(state(call("a"), call("b")), history).result()
    assert not shim.extend(state(call("z")))  # not a continuation: the caller must replay
