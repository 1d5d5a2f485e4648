"""pytest plugin: fixtures that give tests a started devhost and an HTTP client.

Fixtures (override ``devhost_app_dir`` in a conftest to pick the app):

* ``devhost`` — a :class:`~devhost.host.DevHost` for ``devhost_app_dir`` with its own task
  hub, a virtual clock and the store chosen by ``--devhost-store`` (``memory`` by default).
* ``devhost_http`` — an ``aiohttp.ClientSession`` whose base URL is the host.

Installed with devhost (entry point ``devhost.pytest_plugin``), so a project needs no
configuration for the fixtures: they are pytest-asyncio fixtures, which work in its strict
mode (tests marked ``@pytest.mark.asyncio``) and in ``asyncio_mode = "auto"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from .host import STORES, DevHost, unique_hub_name

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # the fixtures then explain what to install
    async_fixture = None

MISSING_ASYNCIO = "devhost's fixtures are async: pip install pytest-asyncio"


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


async def devhost(devhost_app_dir: Path, devhost_store: str) -> AsyncIterator[DevHost]:
    """A started devhost for ``devhost_app_dir`` on its own task hub (dropped afterwards)."""
    async with DevHost.start(
        devhost_app_dir, store=devhost_store, clock="virtual", hub_name=unique_hub_name()
    ) as host:
        yield host
    destroy = getattr(host.store, "destroy", None)
    if destroy is not None:  # a durable store: drop the test's task hub
        await destroy()


async def devhost_http(devhost: DevHost) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session on the ``devhost`` fixture's URL."""
    async with aiohttp.ClientSession(devhost.url) as session:
        yield session


if async_fixture is not None:
    devhost = async_fixture(devhost)
    devhost_http = async_fixture(devhost_http)
else:

    @pytest.fixture(name="devhost")
    def _devhost_without_asyncio() -> None:
        pytest.fail(MISSING_ASYNCIO, pytrace=False)

    @pytest.fixture(name="devhost_http")
    def _devhost_http_without_asyncio() -> None:
        pytest.fail(MISSING_ASYNCIO, pytrace=False)
