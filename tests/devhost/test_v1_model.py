"""The Python v1 programming model: function.json folders, ``main = df.Orchestrator.create(...)``.

Matched behaviour (azure-functions-python-worker ``loader``): each function's ``scriptFile``
(default ``__init__.py``) is imported under the ``__app__`` package, so relative imports of
shared code work, and ``entryPoint`` (default ``main``) is the function; the durable name is
the folder name; the durable client arrives as the binding's JSON text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

V1_APP = Path(__file__).parent / "apps" / "v1app"


@pytest.fixture
def devhost_app_dir() -> Path:
    return V1_APP


async def test_v1_app_runs_starter_orchestrator_activity_and_entity(devhost, devhost_http):
    async with devhost_http.post("/api/orchestrators/HelloOrchestrator", json=["Tokyo", "Seattle"]) as response:
        assert response.status == 202
        payload = await response.json()
    status = await devhost.wait_for_instance(payload["id"])
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"] == {"greetings": ["Hello Tokyo!", "Hello Seattle!"], "count": 2}
    assert await devhost.client.read_entity("Counter", "greetings") == "2"


async def test_v1_functions_are_listed_by_folder_name(devhost):
    banner = devhost.describe()
    assert "DurableFunctionsHttpStart: [POST]" in banner
    assert "HelloOrchestrator: orchestrationTrigger" in banner
    assert "Hello: activityTrigger" in banner and "Counter: entityTrigger" in banner
