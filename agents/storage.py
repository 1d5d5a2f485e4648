"""The app's Blob storage, as ``BATON_STORAGE`` (else ``AzureWebJobsStorage``) describes it.

Either a connection string (``UseDevelopmentStorage=true`` is expanded here to Azurite at
127.0.0.1:10000 with the emulator's published development key), or identity-based settings
as in Azure: ``BATON_STORAGE__blobServiceUri`` / ``__accountName``, with
``__clientId`` for a user-assigned managed identity (``DefaultAzureCredential``).

:func:`blob_service_client` returns a new async client for ``async with``;
:func:`shared_blob_service` a long-lived one (quick retries, short timeouts) that the
result cache, the bundle store and the result save reuse; :func:`upload_blob` writes
through it and creates the container only when the service says it is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobServiceClient, LinearRetry

from .settings import Settings, StorageSettings

EMULATOR_ACCOUNT = "devstoreaccount1"
# The development-storage account key that Azure's documentation publishes for the emulator.
EMULATOR_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
EMULATOR_BLOB = f"http://127.0.0.1:10000/{EMULATOR_ACCOUNT}"


class StorageNotConfigured(RuntimeError):
    """Neither ``BATON_STORAGE`` nor ``AzureWebJobsStorage`` (nor their identity-based settings) are set."""


def expand_connection_string(value: str) -> str:
    """``UseDevelopmentStorage=true`` -> the explicit Azurite connection string."""
    if value.replace(" ", "").lower().startswith("usedevelopmentstorage=true"):
        return (
            f"DefaultEndpointsProtocol=http;AccountName={EMULATOR_ACCOUNT};AccountKey={EMULATOR_KEY};"
            f"BlobEndpoint={EMULATOR_BLOB};"
        )
    return value


def blob_service_client(storage: StorageSettings | None = None, **options: Any) -> BlobServiceClient:
    """A new async client for the app's storage account (close it, e.g. with ``async with``).

    Unless the environment names a proxy (or a netrc file), the client does not look for one:
    aiohttp's ``trust_env`` look-ups are two thread hops on every request."""
    storage = storage or Settings.from_env().storage
    options.setdefault("use_env_settings", proxy_configured())
    if storage.connection_string:
        return BlobServiceClient.from_connection_string(expand_connection_string(storage.connection_string), **options)
    if storage.blob_service_uri:
        return BlobServiceClient(storage.blob_service_uri, credential=_credential(storage.client_id), **options)
    raise StorageNotConfigured("set BATON_STORAGE (or AzureWebJobsStorage), or its __blobServiceUri / __accountName")


def proxy_configured(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment sets a proxy (or a netrc file) for the Azure SDK clients to use."""
    return any(env.get(name) or env.get(name.lower()) for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NETRC"))


_shared: dict[tuple[Any, ...], BlobServiceClient] = {}
_credentials: dict[str | None, Any] = {}


def shared_blob_service(storage: StorageSettings) -> BlobServiceClient:
    """A long-lived client per storage configuration and event loop: one quick retry, short timeouts."""
    key = (storage.connection_string, storage.blob_service_uri, storage.client_id, asyncio.get_running_loop())
    client = _shared.get(key)
    if client is None:
        client = _shared[key] = blob_service_client(
            storage,
            retry_policy=LinearRetry(backoff=1, retry_total=1, random_jitter_range=0),
            connection_timeout=5,
            read_timeout=30,
        )
    return client


async def upload_blob(storage: StorageSettings, container: str, name: str, body: bytes,
                      content_type: str = "application/json") -> None:
    """Write ``container/name`` (overwriting) with the shared client: one round trip while the container
    exists; on ``ContainerNotFound`` the container is created and the upload made again."""
    client = shared_blob_service(storage).get_container_client(container)
    settings = ContentSettings(content_type=content_type)
    try:
        await client.upload_blob(name, body, overwrite=True, content_settings=settings)
    except ResourceNotFoundError as exc:
        if exc.error_code != "ContainerNotFound":
            raise
        with contextlib.suppress(ResourceExistsError):
            await client.create_container()
        await client.upload_blob(name, body, overwrite=True, content_settings=settings)


async def close_shared() -> None:
    """Close the shared clients of the running event loop (tests, shutdown)."""
    loop = asyncio.get_running_loop()
    for key in [k for k in _shared if k[-1] is loop]:
        await _shared.pop(key).close()


def _credential(client_id: str | None) -> Any:
    credential = _credentials.get(client_id)
    if credential is None:
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=client_id) if client_id else (
            DefaultAzureCredential()
        )
        _credentials[client_id] = credential
    return credential
