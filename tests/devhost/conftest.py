"""devhost end-to-end tests run the fixture app in tests/devhost/apps/patterns."""

from pathlib import Path

import pytest

PATTERNS_APP = Path(__file__).parent / "apps" / "patterns"


@pytest.fixture
def devhost_app_dir() -> Path:
    return PATTERNS_APP
