"""Shared fixtures: Azurite for every test that touches storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost import azurite

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def azurite_connection_string() -> Iterator[str]:
    """Connection string of a running Azurite (started here when nothing listens)."""
    started = azurite.ensure_running(ROOT / ".azurite" / "tests", search_from=ROOT)
    try:
        yield azurite.connection_string()
    finally:
        if started is not None:
            started.stop()
