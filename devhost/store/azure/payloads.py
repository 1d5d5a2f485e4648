"""Large payloads: text over a service limit lives gzip-compressed in ``{hub}-largemessages``.

Table properties hold at most 64 KiB of UTF-16 text and queue messages 64 KiB; like
DurableTask.AzureStorage, a table property over 60 KiB or a queue message over 45 KiB is
uploaded as ``*.json.gz`` and replaced by the blob's name.  Every blob of an instance lives
under its sanitized id (``names.blob_prefix``), which is what purge deletes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import Callable, Iterable

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient

from .calls import StorageCalls

TABLE_PROPERTY_LIMIT = 60 * 1024
"""Bytes of UTF-16 text a table string property may hold before it goes to a blob."""
QUEUE_MESSAGE_LIMIT = 45 * 1024
"""Bytes of a queue message body before the message goes to a blob."""
_THREAD_THRESHOLD = 256 * 1024


def utf16_size(text: str) -> int:
    """Size of ``text`` in UTF-16, as Table storage counts it (cheap for short text)."""
    if len(text) * 4 <= TABLE_PROPERTY_LIMIT:
        return len(text) * 2
    return len(text.encode("utf-16-le", "surrogatepass"))


def too_large_for_table(text: str) -> bool:
    return utf16_size(text) > TABLE_PROPERTY_LIMIT


class LargePayloads:
    """Upload, download and delete compressed text blobs of one task hub."""

    def __init__(self, container: ContainerClient, calls: StorageCalls) -> None:
        self.container = container
        self.calls = calls

    async def create(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            await self.calls.call(
                "blob.create_container", self.container.create_container(), allow=(ResourceExistsError,)
            )

    def url(self, name: str) -> str:
        return f"{self.container.url}/{name}"

    async def upload(self, name: str, text: str) -> str:
        """Store ``text`` under ``name`` (overwriting); returns ``name``."""
        data = await _off_loop(gzip.compress, text.encode("utf-8"), len(text))
        await self.calls.call("blob.upload", self.container.upload_blob(name, data, overwrite=True))
        return name

    async def download(self, name: str) -> str:
        data = await self.calls.call("blob.download", self._read(name))
        return (await _off_loop(gzip.decompress, data, len(data))).decode("utf-8")

    async def download_many(self, names: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(names))
        texts = await asyncio.gather(*(self.download(n) for n in wanted))
        return dict(zip(wanted, texts, strict=True))

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose name starts with ``prefix``; how many were deleted."""
        names = await self.list(prefix)
        await asyncio.gather(*(self._delete(n) for n in names))
        return len(names)

    async def list(self, prefix: str) -> list[str]:
        listing = self.container.list_blobs(name_starts_with=prefix)
        return [b.name async for b in self.calls.pages("blob.list", listing)]

    async def _read(self, name: str) -> bytes:
        downloader = await self.container.download_blob(name)
        return await downloader.readall()

    async def _delete(self, name: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            await self.calls.call("blob.delete", self.container.delete_blob(name), allow=(ResourceNotFoundError,))


async def _off_loop(function: Callable[[bytes], bytes], data: bytes, size: int) -> bytes:
    """Run (de)compression in a thread for big payloads so lease renewal keeps its pace."""
    if size < _THREAD_THRESHOLD:
        return function(data)
    return await asyncio.to_thread(function, data)
