"""Storage queues, thinly: put, receive, delete, and change visibility, counted and mapped.

Messages are put with ``time_to_live=-1`` (a durable timer may wait longer than the
default seven days).  A message this host puts for itself is put *invisible* for the lock
period and kept with the pop receipt the put returned, so it needs no receive round trip;
if this host dies, the message becomes visible again when the period ends.  A pop receipt
stays valid until the message is received again, so delete and update tolerate a receipt
made stale by a re-receive (404 / 400) and report it instead of raising.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient

from ...errors import StoreError
from .calls import StorageCalls

MAX_RECEIVE = 32


@dataclass(frozen=True)
class Receipt:
    """Proof of the current lock on one queue message (``queue``: the queue's name when it is
    not the one the holder assumes, e.g. a completion kept in the work-item queue)."""

    queue_id: str
    pop_receipt: str
    queue: str = ""


class StorageQueue:
    def __init__(self, client: QueueClient, calls: StorageCalls, limiter: asyncio.Semaphore) -> None:
        self.client = client
        self.calls = calls
        self.limiter = limiter

    @property
    def name(self) -> str:
        return str(self.client.queue_name)

    async def create(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            await self.calls.call("queue.create", self.client.create_queue(), allow=(ResourceExistsError,))

    async def put(self, body: str, *, invisible_for: int = 0) -> Receipt:
        """Enqueue ``body``; invisible for ``invisible_for`` seconds (0: visible now)."""
        async with self.limiter:
            message = await self.calls.call(
                "queue.put", self.client.send_message(body, visibility_timeout=invisible_for or None, time_to_live=-1)
            )
        return Receipt(message.id, message.pop_receipt)

    async def receive(self, count: int, lock_seconds: int) -> list[QueueMessage]:
        """Up to ``count`` visible messages, each locked for ``lock_seconds``."""
        pager = self.client.receive_messages(
            messages_per_page=min(count, MAX_RECEIVE), max_messages=min(count, MAX_RECEIVE),
            visibility_timeout=lock_seconds,
        )
        self.calls.count("queue.receive")
        try:
            return [m async for m in pager]
        except AzureError as exc:
            raise StoreError(f"receiving from {self.name} failed: {exc}") from exc

    async def delete(self, receipt: Receipt) -> bool:
        """Delete the message; ``False`` if it was gone or its receipt stale."""
        async with self.limiter:
            try:
                await self.calls.call(
                    "queue.delete", self.client.delete_message(receipt.queue_id, receipt.pop_receipt),
                    allow=(HttpResponseError,),
                )
            except HttpResponseError as exc:
                if exc.status_code in (400, 404):
                    return False
                raise _store_error(self.name, exc) from exc
        return True

    async def set_visibility(
        self, receipt: Receipt, seconds: int, kind: str = "queue.update", *, content: str | None = None
    ) -> Receipt | None:
        """Keep the message invisible ``seconds`` more (0: release it now), its text replaced by
        ``content`` if given; the new receipt, or ``None`` if the message is gone or the receipt stale."""
        async with self.limiter:
            try:
                message = await self.calls.call(
                    kind, self.client.update_message(
                        receipt.queue_id, receipt.pop_receipt, content=content, visibility_timeout=seconds),
                    allow=(HttpResponseError,),
                )
            except HttpResponseError as exc:
                if exc.status_code in (400, 404):
                    return None
                raise _store_error(self.name, exc) from exc
        return Receipt(receipt.queue_id, message.pop_receipt, receipt.queue)


def _store_error(queue: str, exc: HttpResponseError) -> StoreError:
    return StoreError(f"queue {queue}: {exc.message}")
