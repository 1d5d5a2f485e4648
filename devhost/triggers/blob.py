"""Blob trigger: scan a container for new and changed blobs; process each version once.

Both kinds the SDK offers (polling, and ``source="EventGrid"``, which in Azure is driven by
``BlobCreated`` events) are served by scanning the container, oldest first.  As the Functions
host does, devhost keeps a *receipt* per function and blob version (ETag) in the
``azure-webjobs-hosts`` container (``blobreceipts/<host id>/Host.Functions.<name>/<etag>/
<container>/<blob>``): a blob version with a completed receipt is never processed again, also
after a restart.  The receipt is leased while the function runs, so two hosts sharing the
storage account do not both process a version.  A version that fails ``maxDequeueCount`` times
(host.json ``extensions.queues``, default 5) is reported on the ``webjobs-blobtrigger-poison``
queue, with the host's message shape, and not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from typing import Any
from urllib.parse import unquote

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.functions import meta
from azure.storage.blob import BlobProperties

from ..loader import TriggerFunction
from .bindings import BindingContext, Invocation, encode_message, invoke, metadata_datum
from .expressions import BlobPathPattern

log = logging.getLogger("devhost.triggers.blob")

HOSTS_CONTAINER = "azure-webjobs-hosts"
POISON_QUEUE = "webjobs-blobtrigger-poison"
RECEIPT_LEASE_SECONDS = 60
SCAN_INTERVAL = float(os.environ.get("DEVHOST_BLOB_SCAN_SECONDS", "1"))


class BlobListener:
    """Runs one blob-triggered function until cancelled."""

    def __init__(self, function: TriggerFunction, ctx: BindingContext, host_id: str, max_attempts: int,
                 parallelism: int) -> None:
        self.function = function
        self.ctx = ctx
        self.host_id = host_id
        self.max_attempts = max_attempts
        self.pattern = BlobPathPattern.compile(str(function.trigger["path"]))
        self.connection = function.trigger.get("connection")
        self._slots = asyncio.Semaphore(parallelism)
        self._completed: set[str] = set()  # receipts known complete: later scans skip them without a request
        self.processed = 0
        self.poisoned = 0
        self.scans = 0

    @property
    def function_id(self) -> str:
        return f"Host.Functions.{self.function.name}"

    async def run(self) -> None:
        while True:
            try:
                await self.scan()
            except AzureError as exc:
                log.warning("scan of container '%s' failed: %s", self.pattern.container, exc)
            await asyncio.sleep(SCAN_INTERVAL)

    async def scan(self) -> int:
        """Process every matching blob version that has no completed receipt; how many ran."""
        container = self.ctx.storage.container(self.connection, self.pattern.container)
        candidates: list[tuple[BlobProperties, dict[str, str]]] = []
        try:
            async for blob in container.list_blobs(name_starts_with=self.pattern.prefix or None,
                                                   include=["metadata"]):
                params = self.pattern.match(blob.name)
                if params is not None:
                    candidates.append((blob, params))
        except ResourceNotFoundError:
            self.scans += 1
            return 0  # the container does not exist yet
        candidates.sort(key=lambda c: c[0].last_modified)
        results = await asyncio.gather(*(self._guarded(blob, params) for blob, params in candidates))
        self.scans += 1
        return sum(results)

    async def process_blob(self, blob_name: str) -> int:
        """Process one blob now (an Event Grid ``BlobCreated`` event named it); 0 when it does not match."""
        params = self.pattern.match(blob_name)
        if params is None:
            return 0
        client = self.ctx.storage.container(self.connection, self.pattern.container).get_blob_client(blob_name)
        try:
            blob = await client.get_blob_properties()
        except ResourceNotFoundError:
            return 0
        blob.name = blob_name
        return await self._guarded(blob, params)

    def blob_name_of(self, url: str) -> str | None:
        """The blob name in ``url`` when it lies in this trigger's container."""
        container_url = self.ctx.storage.container(self.connection, self.pattern.container).url.rstrip("/")
        if not url.startswith(container_url + "/"):
            return None
        return unquote(url[len(container_url) + 1:])

    async def _guarded(self, blob: BlobProperties, params: dict[str, str]) -> int:
        async with self._slots:
            return await self._process(blob, params)

    def _receipt_name(self, blob: BlobProperties) -> str:
        etag = str(blob.etag).strip('"')
        return f"blobreceipts/{self.host_id}/{self.function_id}/{etag}/{self.pattern.container}/{blob.name}"

    async def _process(self, blob: BlobProperties, params: dict[str, str]) -> int:
        name = self._receipt_name(blob)
        if name in self._completed:
            return 0
        hosts = self.ctx.storage.container(self.connection, HOSTS_CONTAINER)
        receipt = hosts.get_blob_client(name)
        try:
            properties = await receipt.get_blob_properties()
        except ResourceNotFoundError:
            properties = None
        if properties is not None and properties.metadata.get("Completed") == "true":
            self._completed.add(name)
            return 0
        if properties is None:
            await self.ctx.storage.ensure_container(self.connection, HOSTS_CONTAINER)
            with contextlib.suppress(ResourceExistsError):
                await receipt.upload_blob(b"", overwrite=False)
        try:
            lease = await receipt.acquire_lease(lease_duration=RECEIPT_LEASE_SECONDS)
        except HttpResponseError:
            return 0  # another host holds it
        try:
            current = await receipt.get_blob_properties(lease=lease)
            if current.metadata.get("Completed") == "true":
                self._completed.add(name)
                return 0
            failures = int(current.metadata.get("Failures", "0"))
            try:
                invocation = await self._invocation(blob, params)
            except (ResourceNotFoundError, ResourceModifiedError):
                return 0  # the blob was deleted or changed under us: a newer version will be seen
            try:
                await invoke(self.ctx, invocation)
            except Exception as exc:
                failures += 1
                if failures >= self.max_attempts:
                    await self._poison(blob, exc)
                    await receipt.set_blob_metadata({"Completed": "true", "Failures": str(failures)}, lease=lease)
                    self._completed.add(name)
                else:
                    await receipt.set_blob_metadata({"Failures": str(failures)}, lease=lease)
                return 1
            await receipt.set_blob_metadata({"Completed": "true"}, lease=lease)
            self._completed.add(name)
            self.processed += 1
            return 1
        finally:
            with contextlib.suppress(HttpResponseError):
                await lease.release()

    async def _invocation(self, blob: BlobProperties, params: dict[str, str]) -> Invocation:
        client = self.ctx.storage.container(self.connection, self.pattern.container).get_blob_client(blob.name)
        downloader = await client.download_blob(etag=blob.etag, match_condition=MatchConditions.IfNotModified)
        data = await downloader.readall()
        properties = {
            "ContentLength": blob.size,
            "ContentType": blob.content_settings.content_type if blob.content_settings else None,
            "ETag": str(blob.etag),
            "LastModified": blob.last_modified.isoformat() if blob.last_modified else None,
            "Created": blob.creation_time.isoformat() if blob.creation_time else None,
            "BlobType": str(getattr(blob.blob_type, "value", blob.blob_type) or "BlockBlob"),
        }
        fields: dict[str, Any] = {
            "BlobTrigger": f"{self.pattern.container}/{blob.name}",
            "Uri": client.url,
            "Properties": properties,
            "Metadata": dict(blob.metadata or {}),
        }
        return Invocation(
            function=self.function,
            value=meta.Datum(data, "bytes"),
            metadata={k: metadata_datum(v) for k, v in fields.items()},
            binding_data={**fields, **params},
        )

    async def _poison(self, blob: BlobProperties, exc: Exception) -> None:
        queue = await self.ctx.storage.ensure_queue(self.connection, POISON_QUEUE)
        message = json.dumps({
            "Type": "BlobTrigger",
            "FunctionId": self.function_id,
            "BlobType": "BlockBlob",
            "ContainerName": self.pattern.container,
            "BlobName": blob.name,
            "ETag": str(blob.etag),
        })
        await queue.send_message(encode_message(message, self.ctx.queue_encoding))
        self.poisoned += 1
        log.error(
            "Functions.%s failed %s times on blob '%s/%s' (ETag %s); reported on queue '%s' and not retried: %s",
            self.function.name, self.max_attempts, self.pattern.container, blob.name, blob.etag, POISON_QUEUE, exc,
        )
