"""Event tests run the real app (repo root) in devhost on Azurite: ``BATON_STORAGE`` is Azurite,
so the inbox blob trigger, the ``workflow-requests`` queue trigger and the lifecycle publisher
are served.  The inbox container and the requests queue have the fixed names users use; each
test's blobs and messages carry a unique marker, and the events queue and receipts container
are the test's own.

devhost indexes an app once per process, and which functions baton registers depends on the
settings at that moment (``BATON_EVENTS_QUEUE`` turns the lifecycle publisher on), so these
tests run their own copy of the app's entry point (the packages it imports are the repo's).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from tests.workflows.conftest import agent_env, wait_until, workflow_env

__all__ = ["agent_env", "workflow_env"]
INBOX = "inbox"
REQUESTS = "workflow-requests"


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def devhost_app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app with the lifecycle publisher on: function_app.py and host.json, loaded in this copy."""
    app = tmp_path_factory.mktemp("events-app")
    for name in ("function_app.py", "host.json"):
        shutil.copy2(ROOT / name, app / name)
    return app


@pytest.fixture(autouse=True)
def events_env(workflow_env: dict[str, str], agent_env: pytest.MonkeyPatch) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    values = {"BATON_STORAGE": workflow_env["AzureWebJobsStorage"], "BATON_EVENTS_QUEUE": f"events-{suffix}",
              "BATON_EVENTS_RECEIPTS_CONTAINER": f"receipts-{suffix}", "BATON_INBOX_WORKFLOW": "sequential",
              "DEVHOST_BLOB_SCAN_SECONDS": "0.2"}
    for name, value in values.items():
        agent_env.setenv(name, value)
    return {**workflow_env, **values}


class Storage:
    """The test's view of Azurite: inbox blobs, the requests queue, the lifecycle events."""

    def __init__(self, connection: str, env: dict[str, str]) -> None:
        self.blobs = BlobServiceClient.from_connection_string(connection)
        self.queues = QueueServiceClient.from_connection_string(connection)
        self.env = env
        self.uploaded: list[str] = []
        self.events: dict[str, list[dict[str, Any]]] = {}

    async def upload(self, name: str, text: str) -> str:
        """Upload ``inbox/name``; its ETag."""
        container = self.blobs.get_container_client(INBOX)
        with contextlib.suppress(ResourceExistsError):
            await container.create_container()
        self.uploaded.append(name)
        result = await container.get_blob_client(name).upload_blob(text.encode(), overwrite=True)
        return str(result["etag"]).strip('"')

    async def send(self, queue: str, text: str) -> None:
        client = self.queues.get_queue_client(queue)
        with contextlib.suppress(ResourceExistsError):
            await client.create_queue()
        await client.send_message(base64.b64encode(text.encode()).decode())

    async def drain_events(self) -> None:
        """Move the lifecycle events published so far into ``self.events`` (by instance id)."""
        queue = self.queues.get_queue_client(self.env["BATON_EVENTS_QUEUE"])
        with contextlib.suppress(ResourceNotFoundError):
            async for message in queue.receive_messages(max_messages=32):
                event = json.loads(base64.b64decode(message.content))
                self.events.setdefault(event["instance_id"], []).append(event)
                await queue.delete_message(message)

    async def event_of(self, instance_id: str, timeout: float = 60) -> dict[str, Any]:
        async def found() -> list[dict[str, Any]] | None:
            await self.drain_events()
            return self.events.get(instance_id)

        events = await wait_until(found, what=f"the lifecycle event of {instance_id}", timeout=timeout)
        return events[0]

    async def poisoned(self, marker: str, timeout: float = 60) -> list[str]:
        """Messages on ``workflow-requests-poison`` holding ``marker`` (removed from the queue)."""
        queue = self.queues.get_queue_client(f"{REQUESTS}-poison")
        found: list[str] = []

        async def got() -> list[str]:
            with contextlib.suppress(ResourceNotFoundError):
                async for message in queue.receive_messages(max_messages=32, visibility_timeout=1):
                    text = base64.b64decode(message.content).decode()
                    if marker in text:
                        found.append(text)
                        await queue.delete_message(message)
            return found

        return await wait_until(got, what=f"poison messages holding {marker}", timeout=timeout)

    async def close(self) -> None:
        container = self.blobs.get_container_client(INBOX)
        for name in self.uploaded:
            with contextlib.suppress(ResourceNotFoundError):
                await container.delete_blob(name)
        for name in (self.env["BATON_EVENTS_QUEUE"],):
            with contextlib.suppress(ResourceNotFoundError):
                await self.queues.delete_queue(name)
        with contextlib.suppress(ResourceNotFoundError):
            await self.blobs.delete_container(self.env["BATON_EVENTS_RECEIPTS_CONTAINER"])
        await self.blobs.close()
        await self.queues.close()


@pytest.fixture
async def storage(events_env: dict[str, str]) -> AsyncIterator[Storage]:
    store = Storage(events_env["BATON_STORAGE"], events_env)
    try:
        yield store
    finally:
        await asyncio.shield(store.close())
