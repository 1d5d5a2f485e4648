"""collect_data: request forms, blobs, and large bundles passed by reference (Azurite)."""

from __future__ import annotations

import json

import pytest
from azure.storage.blob.aio import BlobServiceClient

from agents.analyze import NAME as ANALYZE
from agents.categorize import NAME as CATEGORIZE
from agents.collect_data import NAME as COLLECT_DATA
from agents.registry import AGENTS
from agents.runner import run_agent as run_agent_of
from agents.summarize import NAME as SUMMARIZE
from tests.agents.texts import COMPLAINT, FINANCE, REVIEW

DURABLE_MESSAGE_LIMIT = 48 * 1024


async def run_agent(name: str, payload: object) -> dict:
    return await run_agent_of(AGENTS[name], payload, AGENTS)


def failure_of(result: dict) -> dict:
    assert result["output"] == {} and result["failure"]["permanent"] is True, result
    return result["failure"]


def size(value: object) -> int:
    return len(json.dumps(value).encode("utf-8"))


async def test_plain_text_becomes_an_inline_bundle():
    result = await run_agent(COLLECT_DATA, {"request": {"text": "  Hello world.\r\n\r\n\r\nSecond paragraph.  "}})
    bundle = result["output"]
    assert bundle["documents"] == [{"title": "", "text": "Hello world.\n\nSecond paragraph.", "source": "request"}]
    assert (bundle["title"], bundle["words"], bundle["chars"]) == ("Hello world.", 4, 31)
    assert (result["backend"], result["model"], result["cost_usd"]) == ("offline", "collect-data-v1", 0.0)


async def test_documents_and_options_ride_along_at_the_top_level():
    request = {"documents": [{"title": "Q3", "text": FINANCE}, {"title": "Review", "text": REVIEW}],
               "taxonomy": ["finance", "food"], "summary_words": 30}
    bundle = (await run_agent(COLLECT_DATA, request))["output"]
    assert [d["title"] for d in bundle["documents"]] == ["Q3", "Review"]
    assert bundle["options"] == {"taxonomy": ["finance", "food"], "summary_words": 30}
    categorized = await run_agent(CATEGORIZE, {"bundle": bundle})
    assert categorized["output"]["category"] in ("finance", "food")
    summarized = await run_agent(SUMMARIZE, {"bundle": bundle, "options": {"summary_words": 12}})
    assert summarized["output"]["word_count"] <= 12  # the call's options win over the bundle's


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({}, "exactly one of 'text', 'documents' or 'blobs'"),
        ({"text": "a", "blobs": ["inbox/b"]}, "exactly one of"),
        ({"blobs": ["inbox"]}, "must be 'container/name'"),
        ({"blobs": ["azure-webjobs-secrets/app/host.json"]}, "container 'azure-webjobs-secrets' is not readable"),
        ({"documents": [{"title": "x"}]}, "request.documents.0.text: Field required"),
        ({"text": "   \n  "}, "the request contains no text"),
    ],
)
async def test_bad_requests_are_permanent_input_failures(request_body, message):
    failure = failure_of(await run_agent(COLLECT_DATA, {"request": request_body}))
    assert failure["kind"] == "input" and message in failure["error"]


@pytest.mark.azurite
async def test_blobs_are_read_from_the_allowed_input_containers(blob_storage, monkeypatch):
    container = f"docs-{blob_storage.bundle_container}"
    monkeypatch.setenv("BATON_INPUT_CONTAINERS", f"inbox,{container}")
    async with BlobServiceClient.from_connection_string(blob_storage.connection_string) as service:
        await service.create_container(container)
        await service.get_blob_client(container, "reviews/luigi.txt").upload_blob(REVIEW.encode())
        await service.get_blob_client(container, "q3.json").upload_blob(json.dumps({"text": FINANCE}).encode())
    result = await run_agent(COLLECT_DATA, {"blobs": [f"{container}/reviews/luigi.txt", f"{container}/q3.json"]})
    documents = result["output"]["documents"]
    assert [(d["title"], d["source"]) for d in documents] == [
        ("luigi.txt", f"blob:{container}/reviews/luigi.txt"), ("q3.json", f"blob:{container}/q3.json")]
    assert documents[0]["text"] == REVIEW and documents[1]["text"] == FINANCE
    failure = failure_of(await run_agent(COLLECT_DATA, {"blobs": [f"{container}/missing.txt"]}))
    assert failure["kind"] == "input" and "does not exist" in failure["error"]


async def test_blobs_without_storage_settings_are_a_configuration_error():
    assert failure_of(await run_agent(COLLECT_DATA, {"blobs": ["inbox/name.txt"]}))["kind"] == "config"


def big_request() -> dict:
    texts = [FINANCE, REVIEW, COMPLAINT] * 33  # ~54 KB of text, 99 documents (the limit is 100)
    return {"documents": [{"title": f"doc {i}", "text": t} for i, t in enumerate(texts)]}


@pytest.mark.azurite
async def test_large_bundles_travel_by_reference_and_load_transparently(blob_storage):
    collected = await run_agent(COLLECT_DATA, {"request": big_request(), "instance_id": "i-1"})
    ref = collected["output"]
    assert set(ref) == {"ref", "sha256", "title", "documents", "chars", "words", "bytes"}
    assert ref["ref"] == f"{blob_storage.bundle_container}/{ref['sha256']}.json" and ref["documents"] == 99
    assert ref["bytes"] > 32 * 1024 and size(collected) < DURABLE_MESSAGE_LIMIT
    async with BlobServiceClient.from_connection_string(blob_storage.connection_string) as service:
        stored = json.loads(await (await service.get_blob_client(
            blob_storage.bundle_container, f"{ref['sha256']}.json").download_blob()).readall())
    assert len(stored["documents"]) == 99
    by_ref = await run_agent(ANALYZE, {"bundle": ref})
    inline = await run_agent(ANALYZE, {"bundle": stored})
    assert by_ref["output"] == inline["output"]
    assert size(by_ref) < DURABLE_MESSAGE_LIMIT


@pytest.mark.azurite
async def test_a_reference_that_does_not_match_its_content_is_refused(blob_storage):
    ref = (await run_agent(COLLECT_DATA, big_request()))["output"]
    from agents import bundles

    bundles._memo.clear()  # force a read from storage
    failure = failure_of(await run_agent(SUMMARIZE, {"bundle": {**ref, "sha256": "0" * 64}}))
    assert "does not" in failure["error"]


async def test_large_bundle_without_storage_stays_inline(caplog):
    collected = await run_agent(COLLECT_DATA, big_request())
    assert "documents" in collected["output"] and "ref" not in collected["output"]
    assert "no storage is configured" in caplog.text
