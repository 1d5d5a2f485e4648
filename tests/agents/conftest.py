"""Fixtures of the agents tests: clean settings for every test, the fake OpenAI server, Azurite."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.fakes.fixtures import agent_env, azure_backend, azurite_or_skip, fake_openai, openai_backend

__all__ = ["agent_env", "azure_backend", "blob_storage", "fake_openai", "openai_backend"]


@pytest.fixture(autouse=True)
def _clean_agent_settings(agent_env: pytest.MonkeyPatch) -> None:
    """Every agents test starts offline, without storage, with nothing remembered."""


@dataclass(frozen=True)
class BlobStorage:
    connection_string: str
    cache_container: str
    bundle_container: str


@pytest.fixture
def blob_storage(request: pytest.FixtureRequest, agent_env: pytest.MonkeyPatch) -> BlobStorage:
    """Azurite as the app's storage, with containers no other test uses (skipped, saying so, without it)."""
    suffix = uuid.uuid4().hex[:12]
    storage = BlobStorage(azurite_or_skip(request), f"cache-{suffix}", f"bundles-{suffix}")
    agent_env.setenv("AzureWebJobsStorage", storage.connection_string)
    agent_env.setenv("BATON_CACHE_CONTAINER", storage.cache_container)
    agent_env.setenv("BATON_BUNDLE_CONTAINER", storage.bundle_container)
    return storage
