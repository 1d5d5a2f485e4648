"""The SDK's executor, built per replay, defines its namedtuple class once (devhost.engine.fastexecutor)."""

from __future__ import annotations

import json

from azure.durable_functions.models.TaskOrchestrationExecutor import TaskOrchestrationExecutor

from devhost.engine import fastexecutor


def test_each_executor_then_shares_one_class_with_the_same_fields():
    fastexecutor.install()
    first, second = TaskOrchestrationExecutor(), TaskOrchestrationExecutor()
    a = next(iter(first.event_to_SetTaskValuePayload.values()))
    b = next(iter(second.event_to_SetTaskValuePayload.values()))
    assert type(a) is type(b) and type(a)._fields == ("is_success", "task_id_key")
    assert first.event_to_SetTaskValuePayload == second.event_to_SetTaskValuePayload


def test_other_uses_of_namedtuple_are_left_as_they_were():
    made = fastexecutor.namedtuple("P", "x y", defaults=(0,))
    assert made(1) == (1, 0) and made._fields == ("x", "y")
    assert fastexecutor.namedtuple("Q", ["a"]) is fastexecutor.namedtuple("Q", ("a",))


def test_a_replay_gives_the_same_actions_with_the_executor_patched(monkeypatch):
    import collections

    import azure.durable_functions as df
    from azure.durable_functions.models import TaskOrchestrationExecutor as module

    def orchestrator(context: df.DurableOrchestrationContext):
        first = yield context.call_activity("hello", "a")
        second = yield context.call_activity("hello", first)
        return [first, second]

    handle = df.Orchestrator.create(orchestrator)
    context = json.dumps({"history": [
        {"EventType": 12, "EventId": -1, "IsPlayed": False, "Timestamp": "2024-05-01T10:00:00Z"},
        {"EventType": 0, "EventId": -1, "IsPlayed": False, "Timestamp": "2024-05-01T10:00:00Z", "Name": "o",
         "Version": "", "Input": None},
        {"EventType": 4, "EventId": 0, "IsPlayed": False, "Timestamp": "2024-05-01T10:00:00Z", "Name": "hello"},
        {"EventType": 13, "EventId": -1, "IsPlayed": False, "Timestamp": "2024-05-01T10:00:00Z"},
        {"EventType": 12, "EventId": -1, "IsPlayed": False, "Timestamp": "2024-05-01T10:00:01Z"},
        {"EventType": 5, "EventId": -1, "IsPlayed": False, "Timestamp": "2024-05-01T10:00:01Z",
         "TaskScheduledId": 0, "Result": '"A"'},
    ], "instanceId": "i", "isReplaying": False, "parentInstanceId": None, "input": None})
    monkeypatch.setattr(module, "namedtuple", collections.namedtuple)  # the SDK as shipped
    before = handle(context)
    fastexecutor.install()
    after = handle(context)
    assert json.loads(after) == json.loads(before)
    assert json.loads(after)["actions"][-1][0]["input"] == '"A"'
