"""Idempotency: results cached in Blob storage (Azurite), and what happens when storage is not there."""

from __future__ import annotations

import logging

import pytest
from azure.storage.blob.aio import BlobServiceClient

from agents.llm.gateway import complete
from agents.registry import AGENTS
from agents.summarize import NAME as SUMMARIZE
from tests.agents.texts import SUMMARY, documents_payload
from tests.fakes import Reply

pytestmark = pytest.mark.azurite


async def test_a_repeated_call_is_answered_from_the_cache(openai_backend, blob_storage):
    openai_backend.script(Reply.json(SUMMARY, usage=(800, 40)))
    first = await complete(AGENTS[SUMMARIZE], documents_payload())
    second = await complete(AGENTS[SUMMARIZE], documents_payload())
    assert len(openai_backend.requests) == 1
    assert first.cached is False and second.cached is True
    assert second.output == first.output and (second.backend, second.model) == (first.backend, first.model)
    assert second.usage.total_tokens == 0 and second.cost_usd == 0.0 and second.llm_requests == 0
    async with BlobServiceClient.from_connection_string(blob_storage.connection_string) as service:
        names = [b.name async for b in service.get_container_client(blob_storage.cache_container).list_blobs()]
    assert len(names) == 1 and names[0].startswith(f"{SUMMARIZE}/") and names[0].endswith(".json")


async def test_a_different_input_or_model_is_a_miss(openai_backend, blob_storage, agent_env):
    openai_backend.script(Reply.json(SUMMARY), Reply.json(SUMMARY), Reply.json(SUMMARY))
    await complete(AGENTS[SUMMARIZE], documents_payload())
    await complete(AGENTS[SUMMARIZE], documents_payload(summary_words=25))
    agent_env.setenv("OPENAI_MODEL", "gpt-4o")
    await complete(AGENTS[SUMMARIZE], documents_payload())
    assert len(openai_backend.requests) == 3


async def test_cache_off_calls_the_model_every_time(openai_backend, blob_storage, agent_env):
    agent_env.setenv("BATON_CACHE", "off")
    openai_backend.script(Reply.json(SUMMARY), Reply.json(SUMMARY))
    results = [await complete(AGENTS[SUMMARIZE], documents_payload()) for _ in range(2)]
    assert [r.cached for r in results] == [False, False]
    assert len(openai_backend.requests) == 2


async def test_development_storage_shorthand_reaches_azurite(openai_backend, blob_storage, agent_env):
    agent_env.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    openai_backend.script(Reply.json(SUMMARY))
    await complete(AGENTS[SUMMARIZE], documents_payload())
    assert (await complete(AGENTS[SUMMARIZE], documents_payload())).cached is True
    assert len(openai_backend.requests) == 1


async def test_unreachable_storage_turns_the_cache_off_with_one_warning(openai_backend, agent_env, caplog):
    agent_env.setenv(
        "AzureWebJobsStorage",
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/x;",
    )
    caplog.set_level(logging.WARNING, logger="agents")
    openai_backend.script(Reply.json(SUMMARY), Reply.json(SUMMARY))
    results = [await complete(AGENTS[SUMMARIZE], documents_payload()) for _ in range(2)]
    assert [r.output["summary"] for r in results] == [SUMMARY["summary"]] * 2
    assert len(openai_backend.requests) == 2
    warnings = [r for r in caplog.records if "result cache off" in r.getMessage()]
    assert len(warnings) == 1


async def test_a_corrupt_cache_entry_is_a_miss(openai_backend, blob_storage):
    openai_backend.script(Reply.json(SUMMARY), Reply.json(SUMMARY))
    await complete(AGENTS[SUMMARIZE], documents_payload())
    async with BlobServiceClient.from_connection_string(blob_storage.connection_string) as service:
        container = service.get_container_client(blob_storage.cache_container)
        (name,) = [b.name async for b in container.list_blobs()]
        await container.upload_blob(name, b'{"agent": "summarize", "output": "not a dict"}', overwrite=True)
    again = await complete(AGENTS[SUMMARIZE], documents_payload())
    assert again.cached is False and len(openai_backend.requests) == 2
