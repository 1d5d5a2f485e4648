"""Storage accounts named by a binding's ``connection``, resolved as the Functions host does.

A connection name ``X`` (empty means ``AzureWebJobsStorage``) reads the app setting ``X``, else
``AzureWebJobsX``, as a connection string (``UseDevelopmentStorage=true`` means Azurite); or,
identity-based, ``X__blobServiceUri`` / ``X__queueServiceUri`` / ``X__accountName`` with
``DefaultAzureCredential``.  Clients are the async Azure Storage SDK clients, one per account.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob.aio import BlobServiceClient, ContainerClient
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from .. import azurite
from ..errors import DevhostError

DEFAULT_CONNECTION = "AzureWebJobsStorage"
RETRY: dict[str, Any] = {"initial_backoff": 1, "increment_base": 2, "retry_total": 4}
"""The SDK's exponential retry, waiting about 1, 3, 5 and 9 s (its default first wait, 15 s, stalls a poll loop)."""


class ConnectionNotFound(DevhostError):
    """A binding's ``connection`` names no app setting devhost can use."""


def _setting(name: str) -> str | None:
    for key in (name, f"AzureWebJobs{name}"):
        value = os.environ.get(key)
        if value:
            return value
    return None


def _identity_uri(name: str, service: str) -> str | None:
    for key in (name, f"AzureWebJobs{name}"):
        uri = os.environ.get(f"{key}__{service}ServiceUri") or os.environ.get(f"{key}__serviceUri")
        if uri:
            return uri
        account = os.environ.get(f"{key}__accountName")
        if account:
            return f"https://{account}.{service}.core.windows.net"
    return None


class StorageAccounts:
    """Queue and blob service clients per connection name, closed together."""

    def __init__(self) -> None:
        self._queues: dict[str, QueueServiceClient] = {}
        self._blobs: dict[str, BlobServiceClient] = {}
        self._credential: Any = None
        self._created: set[tuple[str, str, str]] = set()

    def queue_service(self, connection: str | None) -> QueueServiceClient:
        name = connection or DEFAULT_CONNECTION
        if name not in self._queues:
            self._queues[name] = self._client(name, "queue", QueueServiceClient)
        return self._queues[name]

    def blob_service(self, connection: str | None) -> BlobServiceClient:
        name = connection or DEFAULT_CONNECTION
        if name not in self._blobs:
            self._blobs[name] = self._client(name, "blob", BlobServiceClient)
        return self._blobs[name]

    def queue(self, connection: str | None, queue_name: str) -> QueueClient:
        return self.queue_service(connection).get_queue_client(queue_name)

    def container(self, connection: str | None, container: str) -> ContainerClient:
        return self.blob_service(connection).get_container_client(container)

    async def ensure_queue(self, connection: str | None, queue_name: str) -> QueueClient:
        """The queue, created first when this process has not yet seen it exist (output bindings do)."""
        queue = self.queue(connection, queue_name)
        key = ("queue", connection or DEFAULT_CONNECTION, queue_name)
        if key not in self._created:
            with contextlib.suppress(ResourceExistsError):
                await queue.create_queue()
            self._created.add(key)
        return queue

    async def ensure_container(self, connection: str | None, container: str) -> ContainerClient:
        """The container, created first when this process has not yet seen it exist."""
        client = self.container(connection, container)
        key = ("container", connection or DEFAULT_CONNECTION, container)
        if key not in self._created:
            with contextlib.suppress(ResourceExistsError):
                await client.create_container()
            self._created.add(key)
        return client

    def forget(self, connection: str | None, kind: str, name: str) -> None:
        """Forget that a queue or container exists (someone deleted it): the next ensure creates it."""
        self._created.discard((kind, connection or DEFAULT_CONNECTION, name))

    def _client(self, name: str, service: str, cls: Any) -> Any:
        value = _setting(name)
        if value:
            return cls.from_connection_string(azurite.expand_connection_string(value), **RETRY)
        uri = _identity_uri(name, service)
        if uri:
            if self._credential is None:
                from azure.identity.aio import DefaultAzureCredential

                self._credential = DefaultAzureCredential()
            return cls(uri, credential=self._credential, **RETRY)
        raise ConnectionNotFound(
            f"connection '{name}': no app setting '{name}' or 'AzureWebJobs{name}' "
            f"(nor '{name}__{service}ServiceUri'); set it in local.settings.json"
        )

    async def close(self) -> None:
        for client in (*self._queues.values(), *self._blobs.values()):
            await client.close()
        self._queues.clear()
        self._blobs.clear()
        if self._credential is not None:
            await self._credential.close()
            self._credential = None
