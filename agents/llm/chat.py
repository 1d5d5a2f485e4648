"""One chat-completions request through an openai async client, with our error semantics.

``ChatBackend.chat`` is the seam between the gateway and the network: it sends one request
(the client's own retries are limited by ``BATON_LLM_CLIENT_RETRIES``, default 0, so Durable
retries do not multiply with them), bounds it by the timeout, and turns every failure into a
:class:`TransientAgentError` or :class:`PermanentAgentError`.  On a 429 it first sleeps for
the server's ``Retry-After`` (capped), so the Durable retry that follows is not too early.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import openai

from ..models import Usage
from .classify import classify
from .errors import PermanentAgentError, TransientAgentError
from .structured import estimate_tokens

log = logging.getLogger(__name__)

sleep = asyncio.sleep
"""How the 429 handling waits (a seam: tests record the delay instead of waiting)."""

_HARD_DEADLINE_MARGIN = 1.0
CHAT_COMPLETIONS = "/chat/completions"
"""Posted with the client's ``post``, as the SDK's ``create`` does (same URL, headers, retries, Azure
deployment path, error types), with a body that is plain JSON already: ``create`` would first walk
it against the SDK's request types, about a third of the SDK's CPU per call.  The reply is read as
JSON too (``cast_to=bytes``): building the typed ``ChatCompletion`` cost another 0.5 ms per call
for the four fields we read."""
_POOL_SIZE = 8


@dataclass(frozen=True)
class ChatReply:
    """The assistant's text and what it cost."""

    content: str
    usage: Usage
    model: str
    finish_reason: str | None


@dataclass
class ChatBackend:
    """A configured OpenAI-protocol endpoint (Azure OpenAI or OpenAI-compatible)."""

    name: str
    model: str
    client: openai.AsyncOpenAI
    token_param: str
    response_format: str
    timeout: float
    retry_after_cap: float

    @classmethod
    def configured(cls, name: str, model: str, client: openai.AsyncOpenAI, settings: Any) -> ChatBackend:
        """A backend whose limits (token parameter, format, timeout, Retry-After cap) come from ``settings``."""
        return cls(
            name=name, model=model, client=client, token_param=settings.token_param,
            response_format=settings.response_format, timeout=settings.timeout_seconds,
            retry_after_cap=settings.retry_after_cap_seconds,
        )

    async def chat(
        self, messages: list[dict[str, Any]], *, temperature: float, max_tokens: int,
        response_format: dict[str, Any] | None, agent: str, logger: logging.LoggerAdapter | logging.Logger = log,
    ) -> ChatReply:
        """Send one chat completion; returns the reply or raises an agent error."""
        body: dict[str, Any] = {
            "model": self.model, "messages": messages, "temperature": temperature, self.token_param: max_tokens,
        }
        if response_format is not None:
            body["response_format"] = response_format
        try:
            async with asyncio.timeout(self.timeout + _HARD_DEADLINE_MARGIN):
                raw = await self.client.post(
                    CHAT_COMPLETIONS, cast_to=bytes, body=body, options={"timeout": self.timeout})
        except Exception as exc:
            error = classify(exc, agent, endpoint_host(self.client))
            if error is None:
                raise
            if isinstance(error, TransientAgentError) and error.retry_after is not None:
                delay = min(error.retry_after, self.retry_after_cap)
                logger.warning("%s: rate limited, waiting %.1fs (Retry-After) before failing for a retry",
                               self.name, delay)
                await sleep(delay)
            raise error from None
        return _reply(_decode(raw, agent), messages, agent)


def http_client() -> Any:
    """The SDK's own aiohttp transport (``openai[aiohttp]``), with the SDK's defaults: about a
    quarter less CPU per request than its default httpx transport."""
    return openai.DefaultAioHttpClient()


def endpoint_host(client: openai.AsyncOpenAI) -> str:
    """``host[:port]`` of the client's endpoint, for failure messages (the URL's path and query are left out)."""
    url = client.base_url
    return f"{url.host}:{url.port}" if url.port else url.host


def _decode(raw: bytes, agent: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise TransientAgentError("the server sent a reply that is not JSON", kind="bad_response",
                                  agent=agent) from None
    if not isinstance(data, dict):
        raise TransientAgentError("the server sent a reply that is not a JSON object", kind="bad_response", agent=agent)
    return data


def _reply(response: dict[str, Any], messages: list[dict[str, Any]], agent: str) -> ChatReply:
    choices = response.get("choices")
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise TransientAgentError("the server sent a reply without choices", kind="bad_response", agent=agent)
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    if choice.get("finish_reason") == "content_filter":
        raise PermanentAgentError("the reply was blocked by the content filter", kind="content_filter", agent=agent)
    refusal = message.get("refusal")
    if refusal:
        raise PermanentAgentError(f"the model refused: {str(refusal)[:200]}", kind="refusal", agent=agent)
    content = message.get("content") or ""
    usage = _usage(response.get("usage"), messages, str(content))
    return ChatReply(str(content), usage, str(response.get("model") or ""), choice.get("finish_reason"))


def _usage(reported: Any, messages: list[dict[str, Any]], content: str) -> Usage:
    if isinstance(reported, dict) and reported.get("prompt_tokens") is not None:
        prompt = int(reported.get("prompt_tokens") or 0)
        completion = int(reported.get("completion_tokens") or 0)
        total = int(reported.get("total_tokens") or prompt + completion)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)
    prompt = estimate_tokens("".join(str(m.get("content", "")) for m in messages))
    completion = estimate_tokens(content)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion, estimated=True)


class ClientPool:
    """A few long-lived clients (connection reuse), one per configuration and event loop."""

    def __init__(self, size: int = _POOL_SIZE) -> None:
        self._size = size
        self._clients: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()
        full_key = (key, loop)  # the loop itself, so a dead loop's id is never reused
        client = self._clients.get(full_key)
        if client is None:
            client = factory()
            self._clients[full_key] = client
            while len(self._clients) > self._size:
                _, old = self._clients.popitem(last=False)
                _close_soon(old)
        self._clients.move_to_end(full_key)
        return client

    def clear(self) -> None:
        while self._clients:
            _, old = self._clients.popitem()
            _close_soon(old)


def _close_soon(client: Any) -> None:
    close = getattr(client, "close", None)
    if close is None:
        return
    try:
        task = asyncio.get_running_loop().create_task(close())
    except RuntimeError:  # no running loop: let the client be collected
        return
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


pool = ClientPool()
