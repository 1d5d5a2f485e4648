"""pytest plugin: fixtures that give tests a started devhost and an HTTP client.

Fixtures (override ``devhost_app_dir`` in a conftest to pick the app):

* ``devhost`` — a :class:`~devhost.host.DevHost` for ``devhost_app_dir`` with its own task
  hub, a virtual clock and the store chosen by ``--devhost-store`` (``memory`` by default).
* ``devhost_http`` — an ``aiohttp.ClientSession`` whose base URL is the host.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from .host import STORES, DevHost, unique_hub_name


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("devhost")
    group.addoption(
        "--devhost-store",
        choices=STORES,
        default="memory",
        help="task hub store for devhost fixtures (default: memory)",
    )


@pytest.fixture
def devhost_app_dir(request: pytest.FixtureRequest) -> Path:
    """The app directory the ``devhost`` fixture runs (default: the pytest rootdir)."""
    return Path(request.config.rootpath)


@pytest.fixture
def devhost_store(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--devhost-store"))


@pytest.fixture
async def devhost(devhost_app_dir: Path, devhost_store: str) -> AsyncIterator[DevHost]:
    async with DevHost.start(
        devhost_app_dir, store=devhost_store, clock="virtual", hub_name=unique_hub_name()
    ) as host:
        yield host
    destroy = getattr(host.store, "destroy", None)
    if destroy is not None:  # a durable store: drop the test's task hub
        await destroy()


@pytest.fixture
async def devhost_http(devhost: DevHost) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(devhost.url) as session:
        yield session
