"""A real HTTP proxy in front of Azurite's queue service that holds back chosen puts, for tests.

It forwards every request unchanged (Shared Key signatures stay valid: the account path is
kept), except that a put whose body names ``held`` waits until ``release_after`` other puts
have been answered.  So a test can make the network answer a host's puts out of order,
deterministically, and check what the host does with that::

    async with QueueProxy.start(upstream) as proxy:
        proxy.hold("m0", release_after=9)      # m0 is answered after 9 other puts
        store = open_store(proxy.connection_string(azurite_connection_string))
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from tests.fakes.storage_relay import relay, serve

WAIT = 30.0


class QueueProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = 0
        self.held: str | None = None
        self.release_after = 0
        self.puts_answered = 0
        self.held_answered = 0
        self._answered = asyncio.Condition()
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, upstream: str) -> AsyncIterator[QueueProxy]:
        proxy = cls(upstream)
        async with serve(proxy._forward) as port, aiohttp.ClientSession(auto_decompress=False) as session:
            proxy.port, proxy._session = port, session
            yield proxy

    def hold(self, marker: str, *, release_after: int) -> None:
        self.held, self.release_after, self.puts_answered = marker, release_after, 0

    @staticmethod
    def queue_endpoint(azurite: str) -> str:
        """The ``scheme://host:port`` of the queue service in a connection string."""
        found = re.search(r"QueueEndpoint=(http://[^/;]+)", azurite)
        assert found, "the connection string names no QueueEndpoint"
        return found.group(1)

    def connection_string(self, azurite: str) -> str:
        """``azurite``'s connection string with the queue endpoint pointing here."""
        return re.sub(r"QueueEndpoint=http://[^/;]+", f"QueueEndpoint=http://127.0.0.1:{self.port}", azurite)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        put = request.method == "POST" and request.path.endswith("/messages")
        held = put and self.held is not None and self.held.encode() in body
        if held:
            async with self._answered:
                await asyncio.wait_for(
                    self._answered.wait_for(lambda: self.puts_answered >= self.release_after), WAIT
                )
        response = await relay(self._session, self.upstream, request, body)
        if put:
            async with self._answered:
                self.puts_answered += not held
                self.held_answered += held
                self._answered.notify_all()
        return response
