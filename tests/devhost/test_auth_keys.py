"""``--auth keys``: auth levels enforced with generated keys, as the Functions host enforces them.

Matched behaviour: keys come in the ``x-functions-key`` header or ``?code=``; anonymous needs
none, function takes its own key, a host key or the master key, admin only the master key; a
refused request is 401; the Durable webhook API takes the ``durabletask_extension`` system key
or the master key, and the management URLs the host hands out carry ``code=<system key>``
(``HttpApiHandler.GetClientResponseLinks`` appends the webhook URL's query, which holds it).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import aiohttp
import pytest

from devhost.cli import build_parser
from devhost.host import DevHost, unique_hub_name
from devhost.keys import SYSTEM_KEY

AUTH_APP = Path(__file__).parent / "apps" / "auth"


@pytest.fixture
async def keyed() -> AsyncIterator[DevHost]:
    async with DevHost.start(AUTH_APP, store="memory", hub_name=unique_hub_name(), auth="keys") as host:
        yield host


async def get(url: str, **kwargs) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, **kwargs) as response:
        return response.status, await response.text()


def without_code(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if not p.startswith("code="))
    return urlunsplit(parts._replace(query=query))


async def test_default_is_open_and_the_banner_says_so():
    async with DevHost.start(AUTH_APP, store="memory", hub_name=unique_hub_name()) as host:
        assert host.keys is None
        assert await get(f"{host.url}/api/admin-only") == (200, "admin")
        assert "Auth: open" in host.describe()
    assert build_parser().parse_args(["start"]).auth == "none"
    assert build_parser().parse_args(["start", "--auth", "keys"]).auth == "keys"


async def test_function_and_admin_levels_with_and_without_keys(keyed):
    keys, url = keyed.keys, keyed.url + "/api"
    own, other = keys.functions["guarded"]["default"], keys.functions["other"]["default"]
    host_key, master, system = keys.host["default"], keys.master, keys.system[SYSTEM_KEY]
    assert await get(f"{url}/open") == (200, "open")
    assert (await get(f"{url}/guarded"))[0] == 401
    assert (await get(f"{url}/guarded", headers={"x-functions-key": "wrong"}))[0] == 401
    assert (await get(f"{url}/guarded", headers={"x-functions-key": other}))[0] == 401  # another function's key
    assert (await get(f"{url}/guarded", headers={"x-functions-key": system}))[0] == 401  # system keys are not host keys
    assert await get(f"{url}/guarded", headers={"x-functions-key": own}) == (200, "guarded")
    assert await get(f"{url}/guarded", params={"code": host_key}) == (200, "guarded")
    assert await get(f"{url}/guarded", params={"code": master}) == (200, "guarded")
    assert (await get(f"{url}/admin-only", headers={"x-functions-key": host_key}))[0] == 401
    assert await get(f"{url}/admin-only", headers={"x-functions-key": master}) == (200, "admin")
    assert (await get(f"{url}/nothing-here"))[0] == 404  # routing first, then keys, as on the host


async def test_sdk_client_and_management_urls_carry_the_system_key(keyed):
    keys, url = keyed.keys, keyed.url
    system = keys.system[SYSTEM_KEY]
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/start/waiter") as response:
            assert response.status == 401
        headers = {"x-functions-key": keys.host["default"]}
        async with http.post(f"{url}/api/start/waiter", headers=headers) as response:
            assert response.status == 202, await response.text()  # the SDK's start_new went through
            payload = await response.json()
        for name in ("statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri"):
            assert parse_qs(urlsplit(payload[name]).query)["code"] == [system], name
        status_url = payload["statusQueryGetUri"]
        assert (await get(status_url))[0] == 202  # as handed out: no other key needed
        assert (await get(without_code(status_url)))[0] == 401
        assert (await get(without_code(status_url), headers=headers))[0] == 401  # a host key is not enough
        assert (await get(without_code(status_url), headers={"x-functions-key": keys.master}))[0] == 202
        event_url = payload["sendEventPostUri"].replace("{eventName}", "Go")
        async with http.post(without_code(event_url), json="x") as response:
            assert response.status == 401
        async with http.post(event_url, json="approved") as response:
            assert response.status == 202
    done = await keyed.wait_for_instance(payload["id"])
    assert done["output"] == "approved"
    assert await get(f"{url}/api/status/{payload['id']}", headers=headers) == (200, "Completed")


async def test_webhook_start_answers_with_code_in_every_url(keyed):
    system = keyed.keys.system[SYSTEM_KEY]
    base = f"{keyed.url}/runtime/webhooks/durabletask/orchestrators/waiter"
    async with aiohttp.ClientSession() as http:
        async with http.post(base) as response:
            assert response.status == 401
        async with http.post(base, params={"code": system}) as response:
            assert response.status == 202
            payload = await response.json()
    assert all(f"code={system}" in payload[k] for k in payload if k.endswith("Uri"))
    assert f"code={system}" in response.headers["Location"]


def _outside_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_rpc_api_needs_a_key_from_anywhere_but_loopback():
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to call from")
    async with DevHost.start(
        AUTH_APP, store="memory", hub_name=unique_hub_name(), auth="keys", host="0.0.0.0"
    ) as host:
        port = host.url.rsplit(":", 1)[1]
        assert (await get(f"http://127.0.0.1:{port}/durabletask/instances/x"))[0] == 404  # local: like the host
        assert (await get(f"http://{address}:{port}/durabletask/instances/x"))[0] == 401
        headers = {"x-functions-key": host.keys.master}
        assert (await get(f"http://{address}:{port}/durabletask/instances/x", headers=headers))[0] == 404


async def test_banner_prints_every_key(keyed):
    banner = keyed.describe()
    keys = keyed.keys
    assert "Auth: keys" in banner
    for value in (keys.master, keys.host["default"], keys.system[SYSTEM_KEY], keys.functions["guarded"]["default"]):
        assert value in banner


async def test_other_extension_webhooks_take_their_own_system_key(keyed):
    keys, url = keyed.keys, f"{keyed.url}/runtime/webhooks/eventgrid"
    async with aiohttp.ClientSession() as http:
        for key, refused in ((None, True), (keys.system[SYSTEM_KEY], True), ("wrong", True),
                             (keys.system["eventgrid_extension"], False), (keys.master, False)):
            params = {"functionName": "nothing", **({"code": key} if key else {})}
            async with http.post(url, params=params, json=[]) as response:
                assert (response.status == 401) is refused, (key, response.status)


async def test_dashboard_needs_the_master_key_once_then_a_cookie(keyed):
    """The dashboard acts on every instance (like the admin API), so --auth keys guards it with the master key.

    The banner's URL carries ``?code=<master key>``; that visit sets an HttpOnly same-site cookie, so the
    dashboard's own links and fetches work without the key in every URL.
    """
    keys, base = keyed.keys, keyed.url + "/_devhost/"
    assert keyed.dashboard_url == f"{base}?code={keys.master}"
    assert f"Dashboard: {base}?code={keys.master}" in keyed.describe()
    status, body = await get(base)
    assert status == 401 and "master key" in body
    assert (await get(base, params={"code": keys.host["default"]}))[0] == 401  # a host key is not enough
    assert (await get(base + "entities", headers={"x-functions-key": keys.system[SYSTEM_KEY]}))[0] == 401
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # unsafe: an IP host
        async with http.get(keyed.dashboard_url) as response:
            assert response.status == 200
            cookie = response.cookies["devhost_dashboard_key"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
        async with http.get(base + "entities") as response:  # the cookie alone opens the other pages
            assert response.status == 200


def test_generated_keys_never_start_with_a_dash():
    """``baton run ... --key <key>`` failed when a key began with ``-`` (argparse took it for an option)."""
    from devhost.keys import new_key

    assert not any(new_key().startswith("-") for _ in range(2000))
