"""Shared pieces of the trigger tests: per-test queue and container names, storage helpers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

TRIGGERS_APP = Path(__file__).parent / "apps" / "triggers"
TIMER_APP = Path(__file__).parent / "apps" / "triggers_timer"
T = TypeVar("T")


@dataclass
class TriggerStorage:
    """The test's queue and container names (also set as the app settings the app reads)."""

    names: dict[str, str]
    queues: QueueServiceClient
    blobs: BlobServiceClient

    async def send(self, setting: str, text: str, *, encode: bool = True) -> str:
        queue = self.queues.get_queue_client(self.names[setting])
        with contextlib.suppress(ResourceExistsError):
            await queue.create_queue()
        content = base64.b64encode(text.encode()).decode() if encode else text
        return (await queue.send_message(content)).id

    async def receive(self, queue_name: str, count: int = 1, timeout: float = 60) -> list[str]:
        """Wait for ``count`` messages on a queue; their decoded texts (the messages are deleted)."""
        queue = self.queues.get_queue_client(queue_name)
        found: list[str] = []

        async def got_them() -> bool:
            with contextlib.suppress(ResourceNotFoundError):
                async for message in queue.receive_messages(max_messages=32):
                    found.append(base64.b64decode(message.content).decode())
                    await queue.delete_message(message)
            return len(found) >= count

        await wait_until(got_them, timeout)
        return found

    async def peek(self, queue_name: str) -> list[str]:
        try:
            return [m.content for m in await self.queues.get_queue_client(queue_name).peek_messages(max_messages=32)]
        except ResourceNotFoundError:
            return []

    async def upload(self, setting: str, name: str, data: str) -> str:
        container = self.blobs.get_container_client(self.names[setting])
        with contextlib.suppress(ResourceExistsError):
            await container.create_container()
        result = await container.get_blob_client(name).upload_blob(data.encode(), overwrite=True)
        return str(result["etag"])

    async def blob_names(self, setting: str, prefix: str = "") -> list[str]:
        container = self.blobs.get_container_client(self.names[setting])
        try:
            return [b.name async for b in container.list_blobs(name_starts_with=prefix or None)]
        except ResourceNotFoundError:
            return []

    async def read(self, setting: str, name: str) -> str:
        client = self.blobs.get_container_client(self.names[setting]).get_blob_client(name)
        return (await (await client.download_blob()).readall()).decode()


async def wait_until(condition: Callable[[], Awaitable[Any]], timeout: float = 60, what: str = "") -> Any:
    """Poll ``condition`` until it returns something truthy; that value (TimeoutError otherwise)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            for task in asyncio.all_tasks():  # where everything stands, to diagnose the timeout
                task.print_stack(file=sys.stderr)
            raise TimeoutError(f"condition not met within {timeout}s {what}".strip())
        await asyncio.sleep(0.05)


@pytest.fixture
async def trigger_storage(monkeypatch: pytest.MonkeyPatch, azurite_connection_string: str
                          ) -> AsyncIterator[TriggerStorage]:
    """Unique names for this test, set as app settings, and clients to drive them; dropped after."""
    suffix = uuid.uuid4().hex[:10]
    names = {
        "IN_QUEUE": f"in-{suffix}", "OUT_QUEUE": f"out-{suffix}", "JSON_QUEUE": f"json-{suffix}",
        "IN_CONTAINER": f"in-{suffix}", "OUT_CONTAINER": f"out-{suffix}",
    }
    for key, value in names.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AzureWebJobsStorage", azurite_connection_string)
    monkeypatch.setenv("AzureFunctionsWebHost__hostid", f"test-{suffix}")
    queues = QueueServiceClient.from_connection_string(azurite_connection_string)
    blobs = BlobServiceClient.from_connection_string(azurite_connection_string)
    try:
        yield TriggerStorage(names, queues, blobs)
    finally:
        for key, value in names.items():
            for drop in ((queues.delete_queue(value), queues.delete_queue(f"{value}-poison"))
                         if key.endswith("QUEUE") else (blobs.delete_container(value),)):
                with contextlib.suppress(ResourceNotFoundError):
                    await drop
        await queues.close()
        await blobs.close()
