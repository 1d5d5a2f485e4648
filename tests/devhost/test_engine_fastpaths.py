"""The engine's per-episode shortcuts give exactly what the plain computation gives.

Reused action parses, the context built from cached event texts with the input embedded
as stored, and orjson-encoded events must hand the SDK the same JSON values (pure, no I/O).
"""

import json
import math
from datetime import UTC, datetime

import pytest

from devhost import jsontext
from devhost.engine import history as h
from devhost.engine.actions import parse_state
from devhost.engine.context import build_context, encode_events
from devhost.engine.replay import replay
from devhost.store.base import OrchestrationInstance, RuntimeStatus

T0 = datetime(2020, 1, 1, 12, tzinfo=UTC)


def _state(*actions: dict) -> str:
    return json.dumps({"isDone": False, "schemaVersion": 2, "actions": [list(actions)], "customStatus": None})


def _call(name: str, value: str) -> dict:
    return {"actionType": 0, "functionName": name, "input": value}


def test_a_longer_action_list_reuses_the_parse_of_the_previous_one():
    first = parse_state(_state(_call("a", "1")))
    second = parse_state(_state(_call("a", "1"), _call("b", "2")), first)
    assert second.actions == parse_state(_state(_call("a", "1"), _call("b", "2"))).actions
    assert second.actions[0] is first.actions[0]  # the same object: the replay compares by identity first


def test_an_action_list_that_does_not_continue_the_previous_one_is_parsed_afresh():
    first = parse_state(_state(_call("a", "1"), _call("b", "2")))
    for text in (_state(_call("a", "changed"), _call("b", "2")), _state(_call("a", "1"))):
        again = parse_state(text, first)
        assert again.actions == parse_state(text).actions
        assert again.actions[0] is not first.actions[0]


def test_a_state_with_nan_is_still_parsed_as_python_json_reads_it():
    text = '{"isDone": true, "schemaVersion": 2, "actions": [[]], "output": NaN}'
    assert math.isnan(parse_state(text).output)  # the SDK writes NaN with json.dumps; orjson refuses it


def test_the_incremental_replay_result_equals_a_fresh_one_at_every_step():
    fan = {"actionType": 12, "compoundActions": [_call("a", "1"), _call("b", "2")]}
    actions = parse_state(_state(fan, _call("c", "3"))).actions
    history = [
        h.orchestrator_started(T0),
        h.execution_started(T0, instance_id="i", execution_id="e", name="o", input=None),
        h.event(h.EventType.TaskScheduled, T0, 0, Name="a", Version="", Input=None),
        h.event(h.EventType.TaskScheduled, T0, 1, Name="b", Version="", Input=None),
        h.orchestrator_completed(T0),
        h.orchestrator_started(T0), h.task_completed(T0, 1, "2"),
        h.orchestrator_started(T0), h.task_completed(T0, 0, "1"),
        h.event(h.EventType.TaskScheduled, T0, 2, Name="c", Version="", Input=None),
        h.task_completed(T0, 2, "3"),
    ]
    shim = replay(actions, history[:2])
    for count in range(2, len(history)):
        assert shim.result() == replay(actions, history[:count]).result(), count
        shim.apply(history[count])
    assert shim.result() == replay(actions, history).result()
    assert shim.result().all_actions_done and not shim.result().has_open_tasks


def _instance() -> OrchestrationInstance:
    return OrchestrationInstance(
        instance_id="inst", name="o", execution_id="e", runtime_status=RuntimeStatus.RUNNING,
        created_time=T0, last_updated_time=T0,
    )


def _history(stored_input: str | None) -> list[dict]:
    return [
        h.orchestrator_started(T0),
        h.execution_started(T0, instance_id="inst", execution_id="e", name="o", input=stored_input),
        h.event(h.EventType.TaskScheduled, T0, 0, Name="a", Version="", Input=None),
        h.orchestrator_completed(T0),
        h.orchestrator_started(T0),
        h.task_completed(T0, 0, '"caf\u00e9 \\ud800"'),
    ]


@pytest.mark.parametrize(("stored", "expected"), [
    ('{"n": [1, 2.5, "\u00e9"]}', {"n": [1, 2.5, "\u00e9"]}),  # JSON: the value, as GetInputAsJson gives it
    ("not json", "not json"),  # not JSON: the text itself
    ("", ""),
    ("NaN", "nan"),  # Python's json reads it: decoded as before
    (None, None),
])
def test_the_context_carries_the_input_decoded_once(stored, expected):
    context = json.loads(build_context(_instance(), _history(stored)))
    value = context["input"]
    assert (str(value) if isinstance(value, float) else value) == expected
    assert context["instanceId"] == "inst" and context["isReplaying"] is True
    assert [e["EventType"] for e in context["history"]] == [12, 0, 4, 13, 12, 5]


def test_the_context_from_cached_event_texts_equals_a_fresh_one_and_json_dumps():
    history = _history('"x"')
    cached = encode_events(history[:4]) + encode_events(history[4:])
    fresh = json.loads(build_context(_instance(), history))
    assert json.loads(build_context(_instance(), history, cached)) == fresh
    assert fresh["history"] == json.loads(json.dumps(history))
    first = json.loads(build_context(_instance(), history[:4]))
    assert first["isReplaying"] is False  # ExecutionStarted comes after the last OrchestratorStarted


def test_json_texts_fall_back_to_the_json_module_where_orjson_is_strict():
    lone = {"Reason": "bad \ud800 surrogate", "n": 2**70}
    assert json.loads(jsontext.dumps(lone)) == lone  # orjson refuses both; json writes them
    assert math.isinf(jsontext.loads("Infinity"))
    assert jsontext.strict_fragment("NaN") is None and jsontext.strict_fragment("[1]") is not None


def test_integers_beyond_64_bits_keep_every_digit():
    big = "123456789012345678901234567890"
    assert jsontext.loads(big) == int(big)  # orjson alone would read it as a float
    state = parse_state(json.dumps({"isDone": True, "schemaVersion": 2, "actions": [[]], "output": [int(big)]}))
    assert state.output == [int(big)]


@pytest.mark.parametrize("compound", [12, 11])  # WhenAll, WhenAny
def test_groups_answer_from_their_counts_as_from_their_children(compound):
    nested = {"actionType": 12, "compoundActions": [_call("x", "1"), _call("y", "1")]}
    flat = {"actionType": compound, "compoundActions": [_call("a", "1"), _call("b", "1"), _call("c", "1")]}
    deep = {"actionType": compound, "compoundActions": [_call("a", "1"), nested]}
    for action, ids in ((flat, 3), (deep, 3)):
        actions = parse_state(_state(action)).actions
        start = [
            h.orchestrator_started(T0),
            h.execution_started(T0, instance_id="i", execution_id="e", name="o", input=None),
            *[h.event(h.EventType.TaskScheduled, T0, i, Name="abc"[i] if action is flat else "axy"[i], Version="",
                      Input=None) for i in range(ids)],
        ]
        for outcome in (h.task_completed(T0, 1, "1"), h.task_failed(T0, 1, "boom", None)):
            history = [*start, h.orchestrator_started(T0), outcome]
            shim = replay(actions, history)
            group = shim.top[0]
            assert group.flat is (action is flat)
            group.flat = False  # the general answer, child by child
            slow = group.sdk_settled()
            group.flat = action is flat
            assert group.sdk_settled() == slow
            assert shim.result().blocked is (slow is False)


@pytest.mark.parametrize("text", ["18446744073709551616", "-9223372036854775809", "[1, 1234567890123456789012]"])
def test_integers_at_the_64_bit_edge_read_as_json_reads_them(text):
    assert jsontext.loads(text) == json.loads(text)
    assert jsontext.loads(text.encode()) == json.loads(text)
    assert type(jsontext.loads(text)) is type(json.loads(text))
