"""A workflow's state snapshot is the state when it was taken.

``pipeline`` takes the state for a checkpoint save, then notes the checkpoint and starts the
next stage, and only then schedules the save (after the stage's own work, which goes first).
The save must still write the state as it was: the checkpoints before it, not itself.  The
context is the Durable SDK's own, built from a minimal history as the worker receives it.
"""

from __future__ import annotations

import json

import azure.durable_functions as df

from orchestrators.pipeline import WORKFLOW, checkpoint
from orchestrators.workflow import WorkflowRun

START = "2026-12-02T10:00:00.000000Z"


def context() -> df.DurableOrchestrationContext:
    given = json.dumps({"request": {"text": "Revenue grew."}})
    return df.DurableOrchestrationContext.from_json(json.dumps({
        "history": [
            {"EventType": 12, "EventId": -1, "IsPlayed": False, "Timestamp": START},
            {"EventType": 0, "EventId": -1, "IsPlayed": False, "Timestamp": START, "Name": WORKFLOW.name,
             "Version": "", "Input": given},
        ],
        "input": given, "instanceId": "state-1", "isReplaying": False, "parentInstanceId": None,
        "upperSchemaVersion": 2,
    }))


def test_a_snapshot_does_not_change_with_the_checkpoints_noted_after_it():
    run = WorkflowRun(context(), WORKFLOW)
    before_any = run.snapshot()
    checkpoint(run, "collect")
    run.stage("analysis")
    after_collect = run.snapshot()
    checkpoint(run, "analysis")["saved_as"] = "results/pipeline/state-1.json"
    run.stage("aggregate")

    assert "checkpoints" not in before_any
    assert [c["after"] for c in after_collect["checkpoints"]] == ["collect"]
    assert after_collect["timestamps"].keys() == {"started", "analysis"}
    assert [c["after"] for c in run.snapshot()["checkpoints"]] == ["collect", "analysis"]
