"""The README's "Call the deployed API", locally: ``devhost start --auth keys`` enforces the API's
function auth level as the Functions host does, and every way the README passes the key works
(``x-functions-key``, ``?code=``, the CLI's ``--key`` and ``BATON_FUNCTION_KEY``). Memory store,
offline agents, no storage: no Azurite."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from devhost.host import DevHost, unique_hub_name
from tests.workflows.test_cli import EXAMPLE, ROOT

GOOD = {"text": "Quarterly revenue rose 12% while costs fell; customers are happy."}


@pytest.fixture
async def keyed_app() -> AsyncIterator[DevHost]:
    async with DevHost.start(ROOT, store="memory", clock="virtual", hub_name=unique_hub_name(), auth="keys") as host:
        yield host


async def baton_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", *args, cwd=ROOT, env={**os.environ, "NO_COLOR": "1", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode()


async def test_the_function_key_in_the_header_or_as_code(keyed_app):
    key = keyed_app.keys.host["default"]
    own = keyed_app.keys.functions["start_workflow"]["default"]
    async with aiohttp.ClientSession(keyed_app.url) as http:
        async with http.post("/api/workflows/parallel", json=GOOD) as response:
            assert response.status == 401  # the host's answer: no body
        async with http.post("/api/workflows/parallel", json=GOOD, headers={"x-functions-key": "wrong"}) as response:
            assert response.status == 401
        async with http.post("/api/workflows/parallel", json=GOOD, headers={"x-functions-key": key}) as response:
            assert response.status == 202, await response.text()
            instance = (await response.json())["id"]
        async with http.get(f"/api/workflows/{instance}", params={"code": key}) as response:
            assert response.status == 200 and (await response.json())["id"] == instance
        async with http.post("/api/workflows/parallel", json=GOOD, params={"code": own}) as response:
            assert response.status == 202, await response.text()  # the function's own key
        async with http.get(f"/api/workflows/{instance}", params={"code": own}) as response:
            assert response.status == 401  # ... is not another function's key
        async with http.get("/api/openapi.json") as response:
            assert response.status == 200  # anonymous: "every endpoint except /api/openapi.json needs a key"


async def test_the_cli_takes_the_key_from_key_or_the_environment(keyed_app):
    key = keyed_app.keys.host["default"]
    code, out = await baton_cli("list", "--url", keyed_app.url, env={"BATON_FUNCTION_KEY": ""})
    assert code != 0 and "401" in out
    code, out = await baton_cli("run", "sequential", "--input", str(EXAMPLE), "--url", keyed_app.url, "--key", key,
                                "--interval", "0.05", env={"BATON_FUNCTION_KEY": ""})
    assert code == 0, out
    code, out = await baton_cli("list", env={"BATON_URL": keyed_app.url, "BATON_FUNCTION_KEY": key, "COLUMNS": "200"})
    assert code == 0 and "1 instances" in out, out
