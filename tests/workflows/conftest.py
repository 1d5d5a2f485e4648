"""Workflow tests run the real app (repo root) in devhost: agents offline or on the fake OpenAI server.

Storage: tests marked ``azurite`` get Azurite for the app's blobs (result cache, bundles, saved
results, input documents) and are skipped, saying why, when Azurite cannot be started; the
others run with no storage at all (the cache is off, saving a result fails and is recorded).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from agents.registry import AGENTS
from tests.fakes.fixtures import AGENT_SETTINGS, agent_env, azurite_or_skip, fake_openai, openai_backend
from tests.fakes.openai_server import RecordedRequest

__all__ = ["agent_env", "fake_openai", "openai_backend"]
SCHEMA_TO_AGENT = {agent.output_model.__name__: name for name, agent in AGENTS.items()}
T = TypeVar("T")


@pytest.fixture(autouse=True)
def workflow_env(agent_env: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> dict[str, str]:
    """Offline agents; for ``azurite`` tests, Azurite storage with containers of this test only.

    LLM settings are set empty (not removed) so a developer's local.settings.json, which
    devhost loads for unset variables only, cannot point the tests at a real model.
    """
    for name in (*AGENT_SETTINGS, "BATON_LLM_BACKEND", "BATON_STORAGE", "BATON_EVENTS_QUEUE"):
        agent_env.setenv(name, "")
    suffix = uuid.uuid4().hex[:10]
    values = {
        "AzureWebJobsStorage": "",
        "BATON_CACHE_CONTAINER": f"cache-{suffix}",
        "BATON_BUNDLE_CONTAINER": f"bundles-{suffix}",
        "BATON_RESULTS_CONTAINER": f"results-{suffix}",
        "BATON_INPUT_CONTAINERS": f"inbox-{suffix}",
        "BATON_RETRY_FIRST_MS": "1000",
        "BATON_RETRY_MAX_ATTEMPTS": "3",
    }
    if request.node.get_closest_marker("azurite"):
        values["AzureWebJobsStorage"] = azurite_or_skip(request)
    for name, value in values.items():
        agent_env.setenv(name, value)
    return values


async def wait_until(check: Callable[[], Awaitable[T]], *, what: str, timeout: float = 60.0) -> T:
    """Await ``check()`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := await check()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.01)
    return value


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


async def wait_for_stage(http, instance_id: str, stage: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        status = await friendly_status(http, instance_id)
        return status if (status.get("progress") or {}).get("stage") == stage else None

    return await wait_until(reached, what=f"{instance_id} to reach stage {stage!r}")
