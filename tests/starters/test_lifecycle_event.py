"""The lifecycle event of each kind of ending, built from the SDK's own status objects (no storage)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from api.responses import ApiError
from events.inbox import instance_id_for, route
from events.lifecycle import lifecycle_event, receipt_name
from events.requests import parse

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def status(runtime: str, output, *, instance_id: str = "abc", created: str = "2026-03-01T11:00:00Z"):
    return DurableOrchestrationStatus.from_json({
        "name": "parallel", "instanceId": instance_id, "runtimeStatus": runtime, "output": output,
        "createdTime": created, "lastUpdatedTime": "2026-03-01T11:05:00Z",
    })


@pytest.mark.parametrize(("runtime", "output", "outcome"), [
    ("Completed", {"outcome": "degraded", "saved_as": "r/parallel/abc.json", "timestamps": {"started": "t0"}},
     "degraded"),
    ("Completed", {"outcome": "escalated", "saved_as": None}, "escalated"),
    ("Failed", "Orchestrator function 'parallel' failed: boom", "crashed"),
    ("Terminated", "not needed", "terminated"),
])
def test_every_ending_has_its_outcome(runtime, output, outcome):
    event = lifecycle_event(status(runtime, output), NOW)
    assert (event["workflow"], event["instance_id"], event["outcome"], event["runtime_status"]) == (
        "parallel", "abc", outcome, runtime)
    assert event["timestamps"]["created"] == "2026-03-01T11:00:00Z" and event["timestamps"]["ended"]
    assert event["timestamps"]["published"] == "2026-03-01T12:00:00Z"
    if runtime == "Completed":
        assert event["saved_as"] == output["saved_as"] and event["error"] is None
    else:
        assert event["saved_as"] is None and event["error"] == output


def test_a_reused_instance_id_is_a_new_event():
    first, second = status("Completed", {}), status("Completed", {}, created="2026-03-02T08:00:00Z")
    assert receipt_name(first) != receipt_name(second)
    assert lifecycle_event(first, NOW)["event_id"] != lifecycle_event(second, NOW)["event_id"]


def test_inbox_names_route_to_workflows_and_ids_hold_no_slash(monkeypatch):
    monkeypatch.delenv("BATON_INBOX_WORKFLOW")
    assert route("parallel/q3.md")[0] == "parallel"
    assert route("parallel/photo.png")[0] is None
    assert route("q3.txt")[0] == route("unknown/q3.txt")[0] == "pipeline"
    one = instance_id_for("parallel", "parallel/q3.md", "0x1")
    assert "/" not in one and len(one) <= 100 and one != instance_id_for("parallel", "parallel/q3.md", "0x2")


def test_a_queue_message_names_a_known_workflow_in_a_json_object():
    assert parse('{"workflow": "parallel", "text": "t"}') == ("parallel", {"text": "t"})
    for bad in ("{", "[1]", '{"text": "t"}', '{"workflow": "nope"}'):
        with pytest.raises(ApiError):
            parse(bad)


def test_bad_events_settings_are_named():
    from events.settings import problems

    assert problems({"BATON_INBOX_WORKFLOW": "pipeline", "BATON_EVENTS_LOOKBACK_HOURS": "24"}) == []
    found = problems({"BATON_INBOX_WORKFLOW": "nope", "BATON_EVENTS_LOOKBACK_HOURS": "soon"})
    assert [line.split()[0] for line in found] == ["BATON_INBOX_WORKFLOW", "BATON_EVENTS_LOOKBACK_HOURS"]
