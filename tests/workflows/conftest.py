"""Workflow tests run the real app (repo root) in devhost: agents offline or on the fake OpenAI server,
Azurite for the app's blobs (result cache, bundles, saved results)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from agents.specs import SPECS
from tests.fakes.fixtures import AGENT_SETTINGS, agent_env, fake_openai, openai_backend
from tests.fakes.openai_server import RecordedRequest

__all__ = ["agent_env", "fake_openai", "openai_backend"]
SCHEMA_TO_AGENT = {spec.output_model.__name__: name for name, spec in SPECS.items()}


@pytest.fixture(autouse=True)
def workflow_env(agent_env: pytest.MonkeyPatch, azurite_connection_string: str) -> dict[str, str]:
    """Offline agents, Azurite storage, containers of this test only.

    LLM settings are set empty (not removed) so a developer's local.settings.json, which
    devhost loads for unset variables only, cannot point the tests at a real model.
    """
    for name in (*AGENT_SETTINGS, "BATON_LLM_BACKEND"):
        agent_env.setenv(name, "")
    suffix = uuid.uuid4().hex[:10]
    values = {
        "AzureWebJobsStorage": azurite_connection_string,
        "BATON_CACHE_CONTAINER": f"cache-{suffix}",
        "BATON_BUNDLE_CONTAINER": f"bundles-{suffix}",
        "BATON_RESULTS_CONTAINER": f"results-{suffix}",
        "BATON_RETRY_FIRST_MS": "1000",
        "BATON_RETRY_MAX_ATTEMPTS": "3",
    }
    for name, value in values.items():
        agent_env.setenv(name, value)
    return values


def agent_of(request: RecordedRequest) -> str | None:
    """Which agent sent an LLM request (from the structured-output schema it asked for)."""
    fmt = (request.body or {}).get("response_format") or {}
    return SCHEMA_TO_AGENT.get((fmt.get("json_schema") or {}).get("name", ""))


async def start(http, workflow: str, body: dict[str, Any]) -> str:
    async with http.post(f"/api/workflows/{workflow}", json=body) as response:
        assert response.status == 202, await response.text()
        payload = await response.json()
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    return payload["id"]


async def friendly_status(http, instance_id: str) -> dict[str, Any]:
    async with http.get(f"/api/workflows/{instance_id}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def wait_for_stage(http, instance_id: str, stage: str, attempts: int = 1000) -> dict[str, Any]:
    for _ in range(attempts):
        status = await friendly_status(http, instance_id)
        if (status.get("progress") or {}).get("stage") == stage:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError(f"{instance_id} never reached stage {stage!r}: {status}")
