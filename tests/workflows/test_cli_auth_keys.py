"""``python -m baton --key`` against ``devhost start --auth keys``: the README's "Call the deployed
API" works locally with the host key devhost prints (needs Azurite, like every workflow test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devhost.host import DevHost, unique_hub_name
from tests.workflows.test_cli import EXAMPLE, ROOT, baton

pytestmark = pytest.mark.azurite


@pytest.fixture
async def keyed_app() -> AsyncIterator[DevHost]:
    async with DevHost.start(ROOT, store="memory", clock="virtual", hub_name=unique_hub_name(), auth="keys") as host:
        yield host


async def test_cli_key_works_against_devhost_with_keys(keyed_app):
    url, key = keyed_app.url, keyed_app.keys.host["default"]
    code, out, err = await baton("list", "--url", url)
    assert code != 0 and "401" in err + out
    code, out, err = await baton("run", "sequential", "--input", str(EXAMPLE), "--url", url, "--key", key,
                                 "--interval", "0.05")
    assert code == 0, err + out
    code, out, err = await baton("list", "--url", url, "--key", key)
    assert code == 0, err + out
