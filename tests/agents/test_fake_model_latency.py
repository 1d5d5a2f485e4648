"""The fake OpenAI server's fixed latency (``Reply.delay``) runs from the request's arrival.

``make bench`` divides a workflow's wall time by its model calls' latency: the fake's own work
on a request (reading it, checking its schema, scripting the answer) is part of that latency,
as a real model's is, not added to it and counted as orchestration overhead.
"""

from __future__ import annotations

import dataclasses
import time

import aiohttp

from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply

LATENCY = 0.25
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def test_the_servers_own_work_is_part_of_the_latency(fake_openai: FakeOpenAIServer) -> None:
    def busy(request: RecordedRequest) -> Reply:
        time.sleep(LATENCY)  # the server's work on the request takes the whole latency already
        return dataclasses.replace(fake_openai.default_reply(request), delay=LATENCY)

    fake_openai.responder = busy
    sent = time.time()
    async with aiohttp.ClientSession() as http, http.post(
        f"{fake_openai.base_url}/chat/completions", json=BODY,
    ) as response:
        assert response.status == 200
    (latency,) = fake_openai.latencies
    assert LATENCY <= latency < 2 * LATENCY  # never early; and the work was not added on top
    assert sent <= fake_openai.requests[0].arrived <= time.time()


async def test_a_quick_request_still_waits_the_whole_latency(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.responder = lambda request: dataclasses.replace(fake_openai.default_reply(request), delay=LATENCY)
    async with aiohttp.ClientSession() as http, http.post(
        f"{fake_openai.base_url}/chat/completions", json=BODY,
    ) as response:
        assert response.status == 200
    assert fake_openai.latencies[0] >= LATENCY
