"""The workflow API's answers to client mistakes: 4xx with a JSON body naming the problem."""

from __future__ import annotations

import pytest

GOOD = {"text": "Revenue grew strongly this quarter and customers are happy with the new store."}


async def error_of(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json")
    body = await response.json()
    assert "Traceback" not in str(body)
    return body


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"text": 42}, "text", "valid string"),
        ({}, None, "exactly one of 'text', 'documents' or 'blobs'"),
        ({"text": "a", "documents": [{"text": "b"}]}, None, "exactly one of"),
        ({"documents": [{"title": "no text"}]}, "documents.0.text", "Field required"),
        ({"documents": []}, "documents", "at least 1"),
        ({"text": "a", "summary_words": "many"}, "summary_words", "valid integer"),
        ({"text": "a", "taxonomy": ["only-one"]}, "taxonomy", "at least 2"),
        ({"text": "a", "instance_id": "bad id!"}, "instance_id", "pattern"),
        ({"text": "a", "surprise": True}, "surprise", "Extra inputs"),
        ({"text": "a", "summary_words": 5}, "summary_words", "greater than or equal to 10"),
        ({"blobs": ["azure-webjobs-secrets/app/host.json"]}, "blobs.0", "'azure-webjobs-secrets' is not readable"),
        ({"blobs": ["workflow-results/pipeline/x.json"]}, "blobs.0", "'workflow-results' is not readable"),
        ({"blobs": ["inbox"]}, "blobs.0", "must be 'container/name'"),
    ],
)
async def test_invalid_bodies_are_400_naming_the_field(devhost_http, body, field, message):
    async with devhost_http.post("/api/workflows/parallel", json=body) as response:
        assert response.status == 400
        error = await error_of(response)
    assert error.get("field") == field
    assert message in error["error"]


async def test_malformed_json_is_400(devhost_http):
    headers = {"Content-Type": "application/json"}
    async with devhost_http.post("/api/workflows/parallel", data=b'{"text": ', headers=headers) as response:
        assert response.status == 400
        assert (await error_of(response))["error"].startswith("malformed JSON")


async def test_a_json_array_is_not_a_request(devhost_http):
    async with devhost_http.post("/api/workflows/parallel", json=["text"]) as response:
        assert response.status == 400
        assert "JSON object" in (await error_of(response))["error"]


async def test_unknown_workflow_is_404_listing_the_known_ones(devhost_http):
    async with devhost_http.post("/api/workflows/nope", json=GOOD) as response:
        assert response.status == 404
        body = await error_of(response)
    assert body["workflows"] == ["approval", "parallel", "pipeline", "sequential"]  # the registry, by name


async def test_body_over_the_limit_is_413(devhost_http, monkeypatch):
    monkeypatch.setenv("BATON_MAX_BODY_BYTES", "1000")
    async with devhost_http.post("/api/workflows/parallel", json={"text": "x" * 2000}) as response:
        assert response.status == 413
        assert "limit is 1000 bytes" in (await error_of(response))["error"]


async def test_unknown_instance_is_404_and_bad_ids_are_400(devhost_http):
    async with devhost_http.get("/api/workflows/no-such-instance") as response:
        assert response.status == 404
        assert "no-such-instance" in (await error_of(response))["error"]
    async with devhost_http.post("/api/workflows/no-such-instance/terminate") as response:
        assert response.status == 404
    async with devhost_http.post("/api/workflows/no-such-instance/events/approval", json={"approved": True}) as r:
        assert r.status == 404
    async with devhost_http.get("/api/workflows/bad%20id") as response:
        assert response.status == 400 and (await error_of(response))["field"] == "instance_id"


async def test_approval_decisions_are_strict_booleans(devhost_http):
    async with devhost_http.post("/api/workflows/x-1/events/approval", json={"approved": "on"}) as response:
        assert response.status == 400 and (await error_of(response))["field"] == "approved"


async def test_approval_event_body_is_validated(devhost_http):
    async with devhost_http.post("/api/workflows/some-id/events/approval", json={"approved": "maybe"}) as response:
        assert response.status == 400
        assert (await error_of(response))["field"] == "approved"


async def test_listing_rejects_unknown_status_and_bad_top(devhost_http):
    async with devhost_http.get("/api/workflows", params={"status": "Sleeping"}) as response:
        assert response.status == 400 and (await error_of(response))["field"] == "status"
    async with devhost_http.get("/api/workflows", params={"top": "0"}) as response:
        assert response.status == 400 and (await error_of(response))["field"] == "top"


async def test_openapi_document_is_generated_from_the_models(devhost_http):
    async with devhost_http.get("/api/openapi.json") as response:
        assert response.status == 200
        document = await response.json()
    assert document["openapi"].startswith("3.")
    schemas = document["components"]["schemas"]
    request = schemas["WorkflowRequest"]
    instance_id = request["properties"]["instance_id"]["anyOf"]
    assert {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"} in instance_id
    refs = [ref for ref in _refs(document["paths"])]
    assert refs and all(ref.split("/")[-1] in schemas for ref in refs)
    assert set(document["paths"]) == {
        "/api/workflows/{id}", "/api/workflows",
        "/api/workflows/{instance_id}/events/{event}", "/api/workflows/{instance_id}/terminate",
        "/api/workflows/{instance_id}/graph", "/api/definitions",
    }
    assert [branch["required"] for branch in request["oneOf"]] == [["text"], ["documents"], ["blobs"]]
    start = document["paths"]["/api/workflows/{id}"]["post"]
    assert start["parameters"][0]["schema"]["enum"] == ["approval", "parallel", "pipeline", "sequential"]


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)
