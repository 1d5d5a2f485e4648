"""Issue 10, the app's side: every bad input is a 4xx with a JSON body, and the OpenAPI document says so.

The app runs in devhost (memory store, offline agents, no storage). The schema-based fuzz run
over the same rules is tests/workflows/test_api_fuzz.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from tests.workflows.conftest import start, wait_until

GOOD = {"text": "Revenue grew strongly this quarter and customers are happy with the new store."}
JSON = {"Content-Type": "application/json"}
# Every endpoint that reads a JSON body; the instance does not exist (the body is refused first).
JSON_ENDPOINTS = ("/api/workflows/parallel", "/api/workflows/x-1/events/approval", "/api/workflows/x-1/events/other",
                  "/api/workflows/x-1/terminate")


def deep_array(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int) -> bytes:
    return b'{"a": ' * levels + b"1" + b"}" * levels


async def error_of(response, status: int) -> dict:
    """The response is ``status`` with a JSON error body (never a traceback, never plain text)."""
    text = await response.text()
    assert response.status == status, text
    assert response.headers["Content-Type"].startswith("application/json"), text
    body = json.loads(text)
    assert isinstance(body.get("error"), str) and "Traceback" not in text
    return body


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("body", [deep_array(5000), deep_object(5000), deep_array(65)], ids=["array", "object", "65"])
async def test_deeply_nested_json_is_400_on_every_json_endpoint(devhost_http, path, body):
    async with devhost_http.post(path, data=body, headers=JSON) as response:
        assert "nests deeper than 64 levels" in (await error_of(response, 400))["error"]


async def test_json_at_the_depth_limit_is_read(devhost_http):
    """64 levels pass the reader (the unknown instance is the next answer)."""
    async with devhost_http.post("/api/workflows/x-1/events/other", data=deep_array(64), headers=JSON) as response:
        assert "no workflow instance 'x-1'" in (await error_of(response, 404))["error"]


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "application/jsonx", None,
])
async def test_a_json_body_must_be_sent_as_json(devhost_http, content_type):
    """415 for anything but a JSON media type, and for an untyped body (see api/body.py for why)."""
    headers = {"Content-Type": content_type} if content_type else {}
    skip = () if content_type else ("Content-Type",)
    for path in JSON_ENDPOINTS:
        async with devhost_http.post(path, data=json.dumps(GOOD).encode(), headers=headers,
                                     skip_auto_headers=skip) as response:
            assert "application/json" in (await error_of(response, 415))["error"]


async def test_json_media_types_with_utf8_are_accepted(devhost_http):
    for content_type in ("application/json; charset=UTF-8", "application/vnd.baton+json"):
        async with devhost_http.post("/api/workflows/parallel", data=json.dumps(GOOD).encode(),
                                     headers={"Content-Type": content_type}) as response:
            assert response.status == 202, await response.text()


async def test_an_empty_optional_body_needs_no_content_type(devhost_http):
    async with devhost_http.post("/api/workflows/x-1/terminate", skip_auto_headers=("Content-Type",)) as response:
        assert "no workflow instance" in (await error_of(response, 404))["error"]


@pytest.mark.parametrize(("data", "message"), [
    (json.dumps(GOOD).encode("utf-16"), "not UTF-8"),
    (json.dumps(GOOD).encode("utf-16-le"), "not UTF-8"),
    (json.dumps(GOOD).encode("utf-32"), "not UTF-8"),
    ('{"text": "café"}'.encode("latin-1"), "not valid UTF-8"),
])
async def test_a_body_that_is_not_utf8_is_refused(devhost_http, data, message):
    async with devhost_http.post("/api/workflows/parallel", data=data, headers=JSON) as response:
        assert message in (await error_of(response, 400))["error"]


@pytest.mark.parametrize("approved", ["on", "true", 1, 0, None, "yes"])
async def test_approval_takes_only_json_booleans(devhost_http, approved):
    async with devhost_http.post("/api/workflows/x-1/events/approval", json={"approved": approved}) as response:
        assert (await error_of(response, 400))["field"] == "approved"


@pytest.mark.parametrize("value", [927.0, 1e2])
async def test_an_integral_number_is_an_integer_as_json_schema_says(devhost_http, value):
    async with devhost_http.post("/api/workflows/parallel", json={**GOOD, "summary_words": value}) as response:
        assert response.status == 202, await response.text()
    async with devhost_http.post("/api/workflows/parallel", json={**GOOD, "summary_words": value + 0.5}) as response:
        assert (await error_of(response, 400))["field"] == "summary_words"


@pytest.mark.parametrize("name", [
    "{inbox}/../{results}/pipeline/x.json", "{inbox}/./a", "{inbox}/a//b", "{inbox}/a/", "{inbox}/a\\b", "{inbox}/a\nb",
    "{results}/pipeline/x.json", "azure-webjobs-secrets/app/host.json", "{inbox}",
])
async def test_bad_blob_names_are_400_before_anything_starts(devhost_http, workflow_env, name):
    name = name.format(inbox=workflow_env["BATON_INPUT_CONTAINERS"], results=workflow_env["BATON_RESULTS_CONTAINER"])
    good = f"{workflow_env['BATON_INPUT_CONTAINERS']}/q3/review.txt"
    async with devhost_http.post("/api/workflows/parallel", json={"blobs": [good, name]}) as response:
        assert (await error_of(response, 400))["field"] == "blobs.1"
    async with devhost_http.get("/api/workflows") as response:
        assert (await response.json())["count"] == 0  # refused at the API: no instance, no agent attempts


@pytest.mark.parametrize("event", ["a%0Ab", "a%0A", "a%20b", "%C3%A9v", "a" * 101, "a.b"])
async def test_event_names_outside_the_pattern_are_400_json(devhost_http, event):
    async with devhost_http.post(f"/api/workflows/x-1/events/{event}", json={}) as response:
        assert (await error_of(response, 400))["field"] == "event"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/workflows/x-1/events/approval"), ("DELETE", "/api/workflows/x-1"), ("PUT", "/api/workflows/parallel"),
    ("GET", "/api/workflows/x-1/terminate"), ("POST", "/api/definitions"), ("GET", "/api/no/such/route"),
])
async def test_a_method_a_function_does_not_accept_is_a_json_404_as_on_the_functions_host(devhost_http, method, path):
    """azure-functions-host#10098: a function's methods are part of its route, so the host answers 404."""
    async with devhost_http.request(method, path) as response:
        await error_of(response, 404)
        assert "Allow" not in response.headers


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/workflows", {"top": ""}, "top"), ("/api/workflows", {"top": "1.5"}, "top"),
    ("/api/workflows", {"status": "running"}, "status"), ("/api/workflows", {"status": ""}, "status"),
    ("/api/workflows", {"status": "Running, Failed"}, "status"), ("/api/workflows", {"surprise": "1"}, "surprise"),
    ("/api/definitions", {"x": "1"}, "x"), ("/api/workflows/x-1/graph", {"format": ""}, "format"),
    ("/api/workflows/x-1", {"verbose": "1"}, "verbose"),
])
async def test_query_parameters_are_checked_as_documented(devhost_http, path, params, field):
    async with devhost_http.get(path, params=params) as response:
        assert (await error_of(response, 400))["field"] == field


async def test_documented_query_parameters_and_the_key_parameter_are_accepted(devhost_http):
    params = {"status": "Running,Failed", "top": "5", "code": "a-function-key"}
    async with devhost_http.get("/api/workflows", params=params) as response:
        assert response.status == 200, await response.text()


async def test_the_openapi_document_states_the_rules(devhost_http, workflow_env, monkeypatch):
    monkeypatch.setenv("BATON_INPUT_CONTAINERS", f"{workflow_env['BATON_INPUT_CONTAINERS']},docs,azure-webjobs-hosts")
    async with devhost_http.get("/api/openapi.json") as response:
        document = await response.json()
    request = document["components"]["schemas"]["WorkflowRequest"]
    assert request["oneOf"] == [
        {"required": [s], "properties": {s: {"not": {"type": "null"}}}} for s in ("text", "documents", "blobs")]
    blob = next(s for s in request["properties"]["blobs"]["anyOf"] if s["type"] == "array")["items"]
    pattern = re.compile(blob["pattern"])
    inbox = workflow_env["BATON_INPUT_CONTAINERS"]
    assert pattern.search(f"{inbox}/a/b.txt") and pattern.search("docs/x")
    for refused in ("azure-webjobs-hosts/x", f"{inbox}/../x", f"{inbox}/", "other/x", f"{inbox}/a\\b"):
        assert not pattern.search(refused), refused
    words = next(s for s in request["properties"]["summary_words"]["anyOf"] if s["type"] == "integer")
    assert (words["minimum"], words["maximum"]) == (10, 2000)
    paths = document["paths"]
    for path, method in (("/api/workflows/{id}", "post"), ("/api/workflows/{instance_id}/events/{event}", "post"),
                         ("/api/workflows/{instance_id}/terminate", "post")):
        operation = paths[path][method]
        assert {"400", "401", "404", "413", "415"} <= set(operation["responses"]), path
        assert list(operation["requestBody"]["content"]) == ["application/json"]
    event = paths["/api/workflows/{instance_id}/events/{event}"]["post"]["parameters"][1]
    assert event["schema"]["pattern"] == "^[A-Za-z0-9_-]{1,100}$"
    status = paths["/api/workflows"]["get"]["parameters"][0]["schema"]["pattern"]
    assert re.fullmatch(status, "Running,Failed") and not re.fullmatch(status, "running")
    assert "404" in document["info"]["description"] and "405" in document["info"]["description"]
    assert {"functionKey", "functionKeyQuery"} == set(document["components"]["securitySchemes"])
    templates = [re.sub(r"\{[^}]+\}", "{}", path) for path in paths]
    assert len(templates) == len(set(templates)), "OpenAPI: no two paths may differ only in parameter names"


async def test_each_stage_line_is_logged_once(devhost, devhost_http, caplog):
    """The approval workflow on the virtual clock: its timer fires, so it escalates through the error handler."""
    caplog.set_level(logging.INFO, logger="baton.workflows")
    instance = await start(devhost_http, "approval", GOOD)

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if f"instance={instance} " in r.getMessage()]

    async def finished() -> bool:
        return any("finished: " in line for line in lines())

    await wait_until(finished, what=f"{instance} to finish")
    stages = [m.group(1) for line in lines() if (m := re.search(r"stage (\S+) started", line))]
    assert stages == ["collect", "analysis", "aggregate", "awaiting_approval", "error_handler"], lines()


async def test_a_client_that_disconnects_mid_request_is_no_error(devhost, caplog):
    """A start whose body never arrives, and one whose client leaves before the answer: no ERROR, no traceback."""
    caplog.set_level(logging.INFO)
    host, port = devhost.url.removeprefix("http://").split(":")
    body = json.dumps(GOOD).encode()
    for declared, sent in ((1000, body[:10]), (len(body), body)):
        _reader, writer = await asyncio.open_connection(host, int(port))
        head = (f"POST /api/workflows/parallel HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n")
        writer.write(head.encode() + sent)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def one_started_and_one_disconnect() -> bool:
        messages = [r.getMessage() for r in caplog.records]
        return any("disconnected" in m for m in messages) and any("stage collect started" in m for m in messages)

    await wait_until(one_started_and_one_disconnect, what="the disconnect line and the complete start")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
