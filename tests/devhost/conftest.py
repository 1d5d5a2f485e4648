"""devhost end-to-end tests run the fixture app in tests/devhost/apps/patterns, on every store."""

from pathlib import Path

import pytest

from tests.devhost.browser import browser, chromium_driver, screenshot_dir  # noqa: F401 (dashboard tests)
from tests.devhost.store_kit import durable, store, stores  # noqa: F401 (store fixtures for the store tests)
from tests.devhost.triggers_kit import trigger_storage  # noqa: F401 (storage names for the trigger tests)

PATTERNS_APP = Path(__file__).parent / "apps" / "patterns"


@pytest.fixture
def devhost_app_dir() -> Path:
    return PATTERNS_APP


@pytest.fixture(params=["memory", pytest.param("azurite", marks=pytest.mark.azurite)])
def devhost_store(request: pytest.FixtureRequest) -> str:
    """Every devhost test runs on the memory store and on Azure Storage (Azurite)."""
    if request.param == "azurite":
        request.getfixturevalue("azurite_connection_string")  # starts Azurite when nothing listens
    return request.param
