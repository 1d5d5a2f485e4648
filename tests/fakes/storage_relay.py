"""A real HTTP server in front of one Azurite service that forwards every request unchanged
(Shared Key signatures stay valid: the account path is kept), for test proxies to build on."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web
from yarl import URL

_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


@contextlib.asynccontextmanager
async def serve(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[int]:
    """Serve ``handler`` for every path on a free local port; yields the port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def relay(session: aiohttp.ClientSession, upstream: str, request: web.Request, body: bytes) -> web.Response:
    """Send ``request`` (its ``body`` already read) to ``upstream`` and answer what it answered."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
    url = URL(upstream + request.raw_path, encoded=True)
    async with session.request(  # no Content-Type of aiohttp's own: it is signed
        request.method, url, headers=headers, data=body or None, skip_auto_headers=("Content-Type",)
    ) as answer:
        payload = await answer.read()
        return web.Response(status=answer.status, body=payload,
                            headers={k: v for k, v in answer.headers.items() if k.lower() not in _HOP})
