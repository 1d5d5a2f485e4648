"""pytest fixtures for code that calls the agents: a fake OpenAI server and clean settings.

Use them from any conftest::

    from tests.fakes.fixtures import agent_env, azure_backend, fake_openai, openai_backend  # noqa: F401

* ``agent_env`` — a clean agents configuration (no LLM, no storage, cache on, nothing
  remembered in process); returns the ``monkeypatch`` to set more variables.
* ``fake_openai`` — a started :class:`~tests.fakes.openai_server.FakeOpenAIServer`.
* ``openai_backend`` — ``fake_openai`` configured as the ``openai`` backend (plain client).
* ``azure_backend`` — ``fake_openai`` configured as the ``azure-openai`` backend, with
  :data:`FAKE_ENTRA_TOKEN` supplied through ``agents.llm.azure.token_provider``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from .openai_server import FakeOpenAIServer

FAKE_ENTRA_TOKEN = "fake-entra-token-7f3a9c1e5b2d"
AGENT_SETTINGS = (
    "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_API_VERSION", "AZURE_CLIENT_ID",
    "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "OPENAI_API_VERSION",
    "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
)


def azurite_or_skip(request: pytest.FixtureRequest) -> str:
    """Azurite's connection string (started when nothing listens), or skip the test saying why."""
    try:
        return request.getfixturevalue("azurite_connection_string")
    except Exception as exc:  # no node_modules, the ports taken by something else, ...
        pytest.skip(f"needs the Azurite storage emulator (marked 'azurite'), which could not be started: {exc}")


def reset_agent_state() -> None:
    """Forget what the agents layer remembers in process (failure memo, degraded cache)."""
    from agents.cache import ResultCache, failures

    failures.clear()
    ResultCache.reset()


@pytest.fixture
def agent_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in list(os.environ):
        if name in AGENT_SETTINGS or name.startswith(("BATON_", "AzureWebJobsStorage")):
            monkeypatch.delenv(name)
    reset_agent_state()
    yield monkeypatch
    reset_agent_state()


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer.start() as server:
        yield server


@pytest.fixture
def openai_backend(fake_openai: FakeOpenAIServer, agent_env: pytest.MonkeyPatch) -> FakeOpenAIServer:
    for name, value in fake_openai.openai_env().items():
        agent_env.setenv(name, value)
    return fake_openai


@pytest.fixture
def azure_backend(fake_openai: FakeOpenAIServer, agent_env: pytest.MonkeyPatch) -> FakeOpenAIServer:
    from agents.llm import azure

    for name, value in fake_openai.azure_env().items():
        agent_env.setenv(name, value)
    agent_env.setattr(azure, "token_provider", lambda: FAKE_ENTRA_TOKEN)
    return fake_openai
