"""A real HTTP proxy in front of Azurite's Blob service that records what it forwards, for tests.

Every request goes to Azurite unchanged (Shared Key signatures stay valid: the account path is
kept); the proxy notes the method, the path and query, Azurite's status and the client port
the request came from (one port: one reused connection)::

    async with BlobRecorder.start(azurite_connection_string) as recorder:
        env["AzureWebJobsStorage"] = recorder.connection_string
        ...
        assert [(r.method, r.status) for r in recorder.requests] == [("PUT", 201)]
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from tests.fakes.storage_relay import relay, serve


@dataclass(frozen=True)
class Forwarded:
    method: str
    path_qs: str
    status: int
    client_port: int

    @property
    def creates_container(self) -> bool:
        return self.method == "PUT" and "restype=container" in self.path_qs


class BlobRecorder:
    def __init__(self, azurite: str) -> None:
        found = re.search(r"BlobEndpoint=(http://[^/;]+)", azurite)
        assert found, "the connection string names no BlobEndpoint"
        self.upstream, self.azurite = found.group(1), azurite
        self.requests: list[Forwarded] = []
        self.port = 0
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, azurite: str) -> AsyncIterator[BlobRecorder]:
        recorder = cls(azurite)
        async with serve(recorder._forward) as port, aiohttp.ClientSession(auto_decompress=False) as session:
            recorder.port, recorder._session = port, session
            yield recorder

    @property
    def connection_string(self) -> str:
        """Azurite's connection string with the Blob endpoint pointing here."""
        return re.sub(r"BlobEndpoint=http://[^/;]+", f"BlobEndpoint=http://127.0.0.1:{self.port}", self.azurite)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        response = await relay(self._session, self.upstream, request, body)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(Forwarded(request.method, request.path_qs, response.status, peer[1] if peer else 0))
        return response
