"""One keep-alive HTTP session per store: send a signed request, retry what is transient,
turn failed responses into :mod:`.errors`.

Retries follow the Azure SDKs' policies: a connection error, a timeout, or status 408,
429, 500, 502, 503 or 504 is retried with exponential backoff and jitter; any other answer is
final.  A retried write whose first attempt succeeded unseen answers 409 or 412 on the
retry: that conflict is surfaced, as the SDKs surface it, and callers handle it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

import aiohttp
from yarl import URL

from .errors import RestError, TransportError, error_for

log = logging.getLogger("devhost.store.azure.rest")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_TRANSIENT = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)
_XML_CODE = re.compile(rb"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")


class Reply(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes


class RestSession:
    """The shared ``aiohttp.ClientSession`` of one store, created on first use (inside the
    running loop) and closed by :meth:`close`."""

    def __init__(self, *, trust_env: bool = False, limit: int = 128, retries: int = 4, backoff: float = 0.25,
                 connect_timeout: float = 20.0, read_timeout: float = 60.0) -> None:
        self.trust_env = trust_env
        self.limit = limit
        self.retries = retries
        self.backoff = backoff
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            # idle connections are dropped before a server's usual 5 s keep-alive ends
            connector = aiohttp.TCPConnector(limit=self.limit, keepalive_timeout=4.0)
            session = self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, trust_env=self.trust_env,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"), auto_decompress=False,
            )
        return session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                   sign: Callable[[], Mapping[str, str]]) -> Reply:
        """Send ``method url`` (``url`` already percent-encoded); ``sign`` gives the date and
        authorization headers of each attempt.  Raises :class:`RestError` unless 2xx."""
        target = URL(url, encoded=True)
        attempt = 0
        while True:
            try:
                async with self._client().request(method, target, headers={**headers, **sign()}, data=body) as resp:
                    reply = Reply(resp.status, resp.headers, await resp.read())
            except _TRANSIENT as exc:
                if attempt >= self.retries:
                    raise TransportError(f"{method} {target.path}: {type(exc).__name__}: {exc}") from exc
                log.debug("retrying %s %s after %r", method, target.path, exc)
            else:
                if reply.status < 300:
                    return reply
                if reply.status not in RETRY_STATUSES or attempt >= self.retries:
                    raise failure(reply, f"{method} {target.path}")
                log.debug("retrying %s %s after status %s", method, target.path, reply.status)
            await asyncio.sleep(self.backoff * (3**attempt) * (0.8 + 0.4 * random.random()))
            attempt += 1


def failure(reply: Reply, what: str) -> RestError:
    """The error a failed response stands for (code from ``x-ms-error-code`` or the body)."""
    code, message = error_detail(reply.body)
    code = reply.headers.get("x-ms-error-code") or code
    return error_for(reply.status, code, f"{what} failed: {message or reply.status}")


def error_detail(body: bytes) -> tuple[str | None, str]:
    """``(code, first line of the message)`` of an OData JSON or XML error body."""
    if body[:1] == b"{":
        try:
            error = json.loads(body).get("odata.error") or {}
        except ValueError:
            return None, ""
        message = error.get("message")
        text = message.get("value", "") if isinstance(message, dict) else str(message or "")
        return error.get("code"), text.splitlines()[0] if text else ""
    code = _XML_CODE.search(body)
    message = _XML_MESSAGE.search(body)
    return (code.group(1).decode() if code else None,
            message.group(1).decode().splitlines()[0] if message else "")
