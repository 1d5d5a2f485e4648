"""``pipeline`` writes each checkpoint while the next stage runs, not before it.

The Python SDK schedules a task when the orchestrator yields it (alone, or inside ``task_any`` /
``task_all``), not when it is created, so a checkpoint must be waited for together with the next
stage to run alongside it.  The devhost of this test runs on the system clock (the ``devhost``
fixture's virtual clock gives every event the same time): a task scheduled in the same episode as
another has the same ``ScheduledTime``, one scheduled in a later episode a later one.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from devhost.host import unique_hub_name
from devhost.testing import DevHost
from tests.workflows.conftest import friendly_status, start

ROOT = Path(__file__).resolve().parents[2]
BODY = {"title": "Q3", "text": "Revenue grew 12% to $4.2 billion and the outlook was raised. Investors were pleased."}


async def test_checkpoints_are_scheduled_with_the_next_stage():
    async with (DevHost.start(ROOT, store="memory", clock="system", hub_name=unique_hub_name()) as host,
                aiohttp.ClientSession(host.url) as http):
        instance_id = await start(http, "pipeline", BODY)
        await host.wait_for_instance(instance_id, timeout=60)
        status = await friendly_status(http, instance_id)
        async with http.get(f"/runtime/webhooks/durabletask/instances/{instance_id}",
                            params={"showHistory": "true"}) as response:
            events = (await response.json())["historyEvents"]

    assert status["runtimeStatus"] == "Completed" and status["output"]["outcome"] == "succeeded"
    assert [c["after"] for c in status["output"]["checkpoints"]] == ["collect", "analysis"]
    saves = [e["ScheduledTime"] for e in events if e.get("FunctionName") == "save_workflow_result"]
    branches = {e["ScheduledTime"] for e in events if e["EventType"] == "SubOrchestrationInstanceCompleted"}
    aggregate = next(e["ScheduledTime"] for e in events if e.get("FunctionName") == "aggregate")
    assert len(saves) == 3 and len(branches) == 1  # the three branches: one episode
    assert saves[0] == branches.pop()  # the collect checkpoint: with the branches
    assert saves[1] == aggregate  # the analysis checkpoint: with the aggregator
    assert saves[2] > aggregate  # the final state: after it
