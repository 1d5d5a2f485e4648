"""A small HTTP client of the workflow API (works against devhost, ``func start`` and Azure)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import aiohttp

from .endpoint import Endpoint, resolve

TERMINAL = {"Completed", "Failed", "Terminated", "Canceled"}


class ApiError(Exception):
    """The API answered with an error status; ``status`` and the server's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Unreachable(OSError):
    """Nothing answers at the API's URL."""

    def __init__(self, endpoint: Endpoint, reason: str) -> None:
        where = "" if endpoint.source in ("--url", "default") else f" (from {endpoint.source})"
        super().__init__(
            f"nothing answers at {endpoint.url}{where}: {reason}. Start the app with `make serve` in the baton "
            "checkout (or `devhost start`, `func start`), or give its URL with --url or $BATON_URL."
        )
        self.endpoint = endpoint


class BatonClient:
    """``async with BatonClient(url, key) as api: ...``"""

    def __init__(self, url: str | None = None, key: str | None = None, *, timeout: float = 30.0) -> None:
        self.endpoint = resolve(url)
        self.url = self.endpoint.url
        key = key or os.environ.get("BATON_FUNCTION_KEY")
        self.headers = {"x-functions-key": key} if key else {}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> BatonClient:
        self._session = aiohttp.ClientSession(headers=self.headers, timeout=self.timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._session is not None, "use 'async with BatonClient(...)'"
        try:
            response = await self._session.request(method, f"{self.url}{path}", **kwargs)
        except aiohttp.ClientConnectorError as exc:
            raise Unreachable(self.endpoint, str(exc.os_error.strerror or exc.os_error)) from exc
        async with response:
            text = await response.text()
            try:
                body = await response.json(content_type=None) if text else None
            except ValueError:
                body = text
            if response.status >= 400:
                message = body.get("error", text) if isinstance(body, dict) else text
                raise ApiError(response.status, str(message) or response.reason or "error")
            return body

    async def graph(self, instance_id: str) -> str:
        """The instance's mermaid graph with node states."""
        return str(await self._call("GET", f"/api/workflows/{instance_id}/graph"))

    async def definitions(self) -> dict[str, Any]:
        return await self._call("GET", "/api/definitions")

    async def start(self, workflow: str, request: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/api/workflows/{workflow}", json=request)

    async def status(self, instance_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/workflows/{instance_id}")

    async def list(self, status: str | None = None, top: int = 50) -> dict[str, Any]:
        params = {"top": str(top), **({"status": status} if status else {})}
        return await self._call("GET", "/api/workflows", params=params)

    async def raise_event(self, instance_id: str, event: str, data: Any) -> dict[str, Any]:
        return await self._call("POST", f"/api/workflows/{instance_id}/events/{event}", json=data)

    async def terminate(self, instance_id: str, reason: str) -> dict[str, Any]:
        return await self._call("POST", f"/api/workflows/{instance_id}/terminate", json={"reason": reason})

    async def wait(
        self, instance_id: str, on_status: Callable[[dict[str, Any]], None] | None = None,
        *, interval: float = 0.5, timeout: float | None = None,
    ) -> dict[str, Any]:
        """Poll until the instance ends; ``on_status`` sees every status (for progress)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            status = await self.status(instance_id)
            if on_status is not None:
                on_status(status)
            if status.get("runtimeStatus") in TERMINAL:
                return status
            if deadline is not None and loop.time() > deadline:
                raise TimeoutError(f"{instance_id} is still {status.get('runtimeStatus')}")
            await asyncio.sleep(interval)
