"""``ChatBackend.chat`` posts the body as plain JSON: the request is the one ``chat.completions.create`` sends.

The backend skips ``create`` (which walks the body against the SDK's request types first) and
uses the same client's ``post``; these tests send one request each way to the fake server and
compare what arrived: path, query (Azure's ``api-version``), headers and body.
"""

from __future__ import annotations

import pytest

from agents.llm.gateway import select_backend
from agents.settings import Settings
from tests.fakes.openai_server import FakeOpenAIServer

MESSAGES = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": '{"text": "café"}'}]
SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False}
VARYING = {"idempotency-key"}  # a new one per request, by design


def seen(server: FakeOpenAIServer, index: int) -> tuple:
    request = server.requests[index]
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() not in VARYING}
    return request.method, request.path, request.query, headers, request.body


FORMATS = pytest.mark.parametrize("response_format", [
    {"type": "json_schema", "json_schema": {"name": "Out", "schema": SCHEMA, "strict": True}}, {"type": "json_object"},
    None,
])


async def sent_both_ways(server: FakeOpenAIServer, response_format: dict | None) -> None:
    backend = select_backend(Settings.from_env())
    reply = await backend.chat(MESSAGES, temperature=0.2, max_tokens=50, response_format=response_format, agent="t")
    extra = {} if response_format is None else {"response_format": response_format}
    created = await backend.client.chat.completions.create(
        model=backend.model, messages=MESSAGES, temperature=0.2, **{backend.token_param: 50}, timeout=backend.timeout,
        **extra)

    assert len(server.requests) == 2 and seen(server, 0) == seen(server, 1)
    assert reply.content == created.choices[0].message.content
    assert reply.usage.total_tokens == created.usage.total_tokens > 0


@FORMATS
async def test_openai_requests_are_what_create_sends(openai_backend: FakeOpenAIServer, response_format):
    await sent_both_ways(openai_backend, response_format)


@FORMATS
async def test_azure_openai_requests_are_what_create_sends(azure_backend: FakeOpenAIServer, response_format):
    await sent_both_ways(azure_backend, response_format)
    assert azure_backend.requests[0].deployment == "chat"
