"""Queue trigger: poll a storage queue as the WebJobs queues extension does.

* messages are fetched in batches (``batchSize``) and a new batch is fetched when the in-flight
  count falls to ``newBatchThreshold``; an empty queue backs off exponentially (with jitter)
  from 100 ms to ``maxPollingInterval``;
* a message stays invisible while its function runs (10 minutes, renewed);
* success deletes the message; failure makes it visible again after ``visibilityTimeout``;
  after ``maxDequeueCount`` attempts it is moved to ``<queue>-poison`` (a message fetched with
  a dequeue count already above the limit, e.g. after a crash, is moved before running);
* with ``messageEncoding`` ``base64`` (the default) a message that is not valid base64 is moved
  to the poison queue at once, as the extension's decoding-failure handler does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import random
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.functions import meta
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient

from ..loader import TriggerFunction
from .bindings import BindingContext, Invocation, invoke, metadata_datum
from .expressions import resolve_settings
from .options import QueuesOptions

log = logging.getLogger("devhost.triggers.queue")

MIN_POLLING_INTERVAL = 0.1
INVISIBLE_WHILE_RUNNING = 600  # seconds, as the extension's default
RENEW_EVERY = INVISIBLE_WHILE_RUNNING / 2


class PoisonMessage(Exception):
    """A message that cannot be delivered to the function (not valid base64)."""


def poison_queue_name(queue_name: str) -> str:
    return f"{queue_name}-poison"


class QueueListener:
    """Runs one queue-triggered function until cancelled."""

    def __init__(self, function: TriggerFunction, ctx: BindingContext, options: QueuesOptions) -> None:
        self.function = function
        self.ctx = ctx
        self.options = options
        self.queue_name = resolve_settings(str(function.trigger["queueName"])).lower()
        self.connection = function.trigger.get("connection")
        self.in_flight: set[asyncio.Task[None]] = set()
        self.processed = 0
        self.poisoned = 0

    @property
    def queue(self) -> QueueClient:
        return self.ctx.storage.queue(self.connection, self.queue_name)

    async def run(self) -> None:
        delay = MIN_POLLING_INTERVAL
        try:
            while True:
                fetched = 0
                if len(self.in_flight) <= self.options.batch_threshold:
                    try:
                        fetched = await self._fetch()
                    except AzureError as exc:
                        log.warning("polling queue '%s' failed (%s); backing off", self.queue_name, exc)
                if fetched:
                    delay = MIN_POLLING_INTERVAL
                    await asyncio.sleep(0)
                    continue
                await asyncio.sleep(delay * random.uniform(0.8, 1.0))
                delay = min(delay * 2, max(self.options.max_polling_interval, MIN_POLLING_INTERVAL))
        finally:
            for task in list(self.in_flight):
                task.cancel()
            await asyncio.gather(*self.in_flight, return_exceptions=True)

    async def _fetch(self) -> int:
        wanted = self.options.batch_size
        messages: list[QueueMessage] = []
        try:
            pager = self.queue.receive_messages(
                messages_per_page=wanted, max_messages=wanted, visibility_timeout=INVISIBLE_WHILE_RUNNING
            )
            messages = [m async for m in pager]
        except ResourceNotFoundError:
            return 0  # the queue does not exist yet: like the host, wait for it
        for message in messages:
            task = asyncio.ensure_future(self._guarded(message))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
        return len(messages)

    async def _guarded(self, message: QueueMessage) -> None:
        try:
            await self._process(message)
        except AzureError as exc:  # storage failed around the invocation: the message comes back later
            log.warning("message %s on queue '%s': storage call failed (%s); it will be delivered again",
                        message.id, self.queue_name, exc)

    async def _process(self, message: QueueMessage) -> None:
        if (message.dequeue_count or 0) > self.options.max_dequeue_count:
            await self._poison(message, f"dequeue count {message.dequeue_count} exceeds maxDequeueCount")
            return
        try:
            body = self._decode(message)
        except PoisonMessage as exc:
            await self._poison(message, str(exc))
            return
        renewer = asyncio.ensure_future(self._keep_invisible(message))
        try:
            await invoke(self.ctx, self._invocation(message, body))
        except Exception as exc:
            renewer.cancel()
            await self._failed(message, exc)
            return
        finally:
            renewer.cancel()
        with contextlib.suppress(ResourceNotFoundError):
            await self.queue.delete_message(message.id, message.pop_receipt)
        self.processed += 1

    def _decode(self, message: QueueMessage) -> str | bytes:
        content = message.content or ""
        if self.options.message_encoding != "base64":
            return content
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PoisonMessage("the message is not valid base64 (extensions.queues.messageEncoding is base64)") \
                from exc
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw

    def _invocation(self, message: QueueMessage, body: str | bytes) -> Invocation:
        text = body if isinstance(body, str) else body.decode("utf-8", "replace")
        fields: dict[str, Any] = {
            "QueueTrigger": text,
            "Id": message.id,
            "DequeueCount": int(message.dequeue_count or 0),
            "ExpirationTime": _iso(message.expires_on),
            "InsertionTime": _iso(message.inserted_on),
            "NextVisibleTime": _iso(message.next_visible_on),
            "PopReceipt": message.pop_receipt,
        }
        binding_data = dict(fields)
        with contextlib.suppress(ValueError):
            parsed = json.loads(text)
            if isinstance(parsed, dict):
                binding_data = {**parsed, **fields}
        return Invocation(
            function=self.function,
            value=metadata_datum(body) if isinstance(body, str) else meta.Datum(body, "bytes"),
            metadata={k: metadata_datum(v) for k, v in fields.items() if v is not None},
            binding_data=binding_data,
        )

    async def _keep_invisible(self, message: QueueMessage) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            updated = await self.queue.update_message(
                message.id, message.pop_receipt, visibility_timeout=INVISIBLE_WHILE_RUNNING
            )
            message.pop_receipt = updated.pop_receipt

    async def _failed(self, message: QueueMessage, exc: Exception) -> None:
        if (message.dequeue_count or 0) >= self.options.max_dequeue_count:
            await self._poison(message, f"{type(exc).__name__}: {exc}")
            return
        log.warning(
            "Functions.%s failed on message %s (dequeue count %s of %s); it will be retried",
            self.function.name, message.id, message.dequeue_count, self.options.max_dequeue_count,
        )
        with contextlib.suppress(ResourceNotFoundError):
            await self.queue.update_message(
                message.id, message.pop_receipt, visibility_timeout=int(self.options.visibility_timeout)
            )

    async def _poison(self, message: QueueMessage, reason: str) -> None:
        poison = await self.ctx.storage.ensure_queue(self.connection, poison_queue_name(self.queue_name))
        await poison.send_message(message.content or "")
        with contextlib.suppress(ResourceNotFoundError):
            await self.queue.delete_message(message.id, message.pop_receipt)
        self.poisoned += 1
        log.error(
            "Message %s has reached MaxDequeueCount of %s or cannot be delivered; moved to queue '%s' (%s)",
            message.id, self.options.max_dequeue_count, poison_queue_name(self.queue_name), reason,
        )


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None
