"""Helpers for end-to-end tests: drive a devhost only through HTTP, as a user would."""

from __future__ import annotations

from typing import Any

import aiohttp

WEBHOOK = "/runtime/webhooks/durabletask"


async def start(http: aiohttp.ClientSession, name: str, body: Any = None, instance_id: str | None = None) -> dict:
    """POST the fixture app's starter; returns the check-status payload."""
    path = f"/api/orchestrators/{name}" + (f"/{instance_id}" if instance_id else "")
    async with http.post(path, json=body) as response:
        assert response.status == 202, await response.text()
        payload = await response.json()
        assert response.headers["Location"] == payload["statusQueryGetUri"]
        return payload


async def status(http: aiohttp.ClientSession, instance_id: str, **query: str) -> tuple[int, Any]:
    async with http.get(f"{WEBHOOK}/instances/{instance_id}", params=query) as response:
        body = await response.json() if response.content_length != 0 else None
        return response.status, body


async def post(http: aiohttp.ClientSession, path: str, **kwargs: Any) -> int:
    async with http.post(WEBHOOK + path, **kwargs) as response:
        await response.read()
        return response.status
