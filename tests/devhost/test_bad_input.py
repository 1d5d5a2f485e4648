"""Bad input to devhost's own endpoints is a 4xx with a JSON body, never a 500.

Behaviour matched: the Durable extension's ``HttpApiHandler`` (start reads any Content-Type
as JSON and answers 400 "Invalid JSON content"; raise event answers 404/410 first, then 400
unless the media type is ``application/json``; entity signals parse only JSON media types;
a method the API does not serve on a known path is 404).  Json.NET 13, its parser, refuses
bodies nested deeper than 64 levels.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from devhost.host import DevHost, unique_hub_name
from devhost.server import app as server_app
from devhost.server.json_body import MAX_DEPTH, JsonBodyError, depth_of, parse_json
from devhost.store.base import RuntimeStatus
from tests.devhost.e2e import WEBHOOK, start

RUNNING = frozenset({RuntimeStatus.RUNNING})
RPC = "/durabletask"


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


DEEP = nested(5000)  # about 10 KB, the body from issue 10


def test_reader_limits_depth_and_size_and_is_strict():
    assert depth_of(parse_json(nested(MAX_DEPTH))) == MAX_DEPTH
    for bad in (DEEP, nested(MAX_DEPTH + 1), b"NaN", b'{"a": 1e999}', '"x"'.encode("utf-16"), b'"\xff"', b"{"):
        with pytest.raises(JsonBodyError):
            parse_json(bad)
    with pytest.raises(JsonBodyError, match="larger than 4 bytes"):
        parse_json(b"[1, 2]", max_bytes=4)
    assert parse_json(b'\xef\xbb\xbf{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


async def assert_bad_request(response) -> str:
    assert response.status == 400, await response.text()
    assert response.content_type == "application/json"
    return (await response.json())["ExceptionMessage"]


@pytest.mark.parametrize("base", [WEBHOOK, RPC])
@pytest.mark.parametrize("body", [DEEP, nested(MAX_DEPTH + 1), b'{"a": NaN}', '{"a": 1}'.encode("utf-16")])
async def test_start_with_a_bad_body_is_400(devhost_http, base, body):
    async with devhost_http.post(f"{base}/orchestrators/chain", data=body) as response:
        assert "JSON" in await assert_bad_request(response)


async def test_start_accepts_json_at_the_depth_limit_whatever_the_content_type(devhost, devhost_http):
    body = b'{"steps": 1, "extra": ' + nested(MAX_DEPTH - 1) + b"}"
    headers = {"Content-Type": "text/plain"}
    async with devhost_http.post(f"{WEBHOOK}/orchestrators/chain/deep-ok", data=body, headers=headers) as response:
        assert response.status == 202, await response.text()
    status = await devhost.wait_for_instance("deep-ok")
    assert status["runtimeStatus"] == "Completed"


@pytest.mark.parametrize("base", [WEBHOOK, RPC])
async def test_raise_event_with_a_bad_body_is_400_and_the_instance_keeps_waiting(devhost, devhost_http, base):
    await start(devhost_http, "waits_forever", instance_id="bad-event")
    await devhost.wait_for_instance("bad-event", until=RUNNING)
    url = f"{base}/instances/bad-event/raiseEvent/Go"
    async with devhost_http.post(url, data=DEEP, headers={"Content-Type": "application/json"}) as response:
        assert "nests deeper" in await assert_bad_request(response)
    for headers in ({"Content-Type": "text/plain"}, {}):
        async with devhost_http.post(url, data=b'"x"', headers=headers) as response:
            assert "application/json" in await assert_bad_request(response)
    async with devhost_http.post(url, json="go") as response:
        assert response.status == 202
    assert (await devhost.wait_for_instance("bad-event"))["output"] == "go"


@pytest.mark.parametrize("base", [WEBHOOK, RPC])
async def test_signal_entity_with_a_bad_json_body_is_400(devhost_http, base):
    url = f"{base}/entities/Counter/bad?op=add"
    async with devhost_http.post(url, data=DEEP, headers={"Content-Type": "application/json"}) as response:
        assert "Could not parse JSON content" in await assert_bad_request(response)
    async with devhost_http.post(url, data=b"\xff\xfe", headers={"Content-Type": "text/plain"}) as response:
        await assert_bad_request(response)


async def test_signal_entity_accepts_a_good_body(devhost, devhost_http):
    async with devhost_http.post(f"{WEBHOOK}/entities/Counter/good?op=add", json=5) as response:
        assert response.status == 202
    for _ in range(2000):
        async with devhost_http.get(f"{WEBHOOK}/entities/Counter/good") as response:
            if response.status == 200:
                assert await response.json() == 5
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the entity never got its state")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/orchestrators/chain"), ("PUT", "/instances/x"), ("GET", "/instances/x/raiseEvent/Go"),
     ("PATCH", "/entities/Counter/k"), ("GET", "/instances/x/terminate")],
)
async def test_a_method_the_durable_api_does_not_serve_is_404(devhost_http, method, path):
    for base in (WEBHOOK, RPC):
        async with devhost_http.request(method, base + path) as response:
            assert response.status == 404


async def test_a_client_that_disconnects_mid_body_is_an_info_line(devhost, caplog):
    caplog.set_level(logging.INFO)
    host, port = devhost.url.removeprefix("http://").split(":")
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST {WEBHOOK}/orchestrators/chain HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{\"steps\": ".encode()
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    for _ in range(2000):
        if any("disconnected" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.005)
    lines = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert lines and all(r.levelno == logging.INFO and r.exc_info is None for r in lines)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_body_over_the_size_limit_is_413_with_a_json_message(devhost_app_dir, monkeypatch):
    monkeypatch.setattr(server_app, "MAX_BODY_BYTES", 1000)  # the limit, lowered so the test stays small
    async with (
        DevHost.start(devhost_app_dir, store="memory", hub_name=unique_hub_name()) as host,
        aiohttp.ClientSession(host.url) as http,
    ):
        for path in (f"{WEBHOOK}/orchestrators/chain", "/api/async-echo"):
            async with http.post(path, data=b"[" + b"1," * 1000 + b"1]") as response:
                assert response.status == 413, path
                assert "Message" in await response.json()


async def test_an_unparsable_request_is_400_and_one_info_line(devhost, devhost_http, caplog):
    caplog.set_level(logging.INFO)
    async with devhost_http.post(f"{WEBHOOK}/instances/x/terminate", params={"reason": "r" * 9000}) as response:
        assert response.status == 400
    lines = [r for r in caplog.records if "unparsable" in r.getMessage()]
    assert lines and all(r.levelno == logging.INFO and r.exc_info is None for r in lines)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
