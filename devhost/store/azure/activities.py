"""Activity work items: the shared ``{hub}-workitems`` queue, seen from one host.

A host keeps a few work items *prefetched* (received, or put invisible by itself when its
own episode scheduled them) and the ones it is running.  Both stay invisible to other
hosts for ``lock_seconds`` and are renewed before that runs out, so an activity is never
run twice by live hosts; if the host dies its work items reappear and run again (the only
work a crash repeats).  A work item is deleted only after its result message was put.
A work item this host puts for itself is prefetched at once, before its put returns (the
checkpoint that sent it keeps it durable meanwhile): its receipt follows when the put is done.
A work item *kept* (:mod:`.deferred`) is never put: it has no receipt, its completion is
handed over (:meth:`~.delivery.Delivery.hand_over`), and it is settled once that completion
is durable (or it is put after all when the host shuts down before running it).
Copies of one work item (a crash-recovery resend) are recognised by message id: this host
runs one and deletes the others.  Crash recovery may :meth:`~WorkItems.sweep` the whole
queue into the prefetch buffer, past its size, to learn which work items are still queued.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from azure.storage.queue import QueueMessage

from ...errors import StoreError, WorkItemLost
from ..base import ActivityWorkItem, Message
from . import envelopes
from .deferred import Deferred
from .envelopes import WORK_ITEM, Send
from .hub import Hub
from .queues import MAX_RECEIVE, Receipt, StorageQueue

log = logging.getLogger("devhost.store.azure")


class Completions(Protocol):
    """Where completions go (:class:`~.delivery.Delivery`)."""

    async def park(
        self, send: Send, original: Message, update: Callable[[str], Awaitable[Receipt | None]]
    ) -> bool | None: ...

    async def hand_over(self, send: Send, original: Message, void: Callable[[], bool] = ...) -> bool: ...

    async def completion_found(self, content: str, data: dict[str, Any], receipt: Receipt) -> None: ...

_RECENT = 10_000


@dataclass
class _Held:
    item: ActivityWorkItem
    receipt: Receipt | None  # None while this host's own put is on the way
    deadline: float
    attempts: int
    completing: bool = False
    put: asyncio.Event | None = None
    kept: Send | None = None
    """The send of a kept work item (never put)."""
    ahead: asyncio.Future[bool] | None = None
    """Held before the checkpoint that schedules it was written: whether it was (:meth:`WorkItems.ahead`)."""
    token: str | None = None
    """The lock token of the run in progress (a run let go of is told from a new one by it)."""
    void: bool = False
    """Let go of: the checkpoint that scheduled it will never be written (:meth:`WorkItems.void`)."""

    async def settled_receipt(self) -> Receipt | None:
        """The receipt once this host's put is done (``None``: that put failed)."""
        if self.put is not None:
            await self.put.wait()
        return self.receipt


class WorkItems:
    def __init__(self, hub: Hub, deliver: Callable[[Message], Awaitable[None]], deferred: Deferred) -> None:
        self.hub = hub
        self.queue: StorageQueue = hub.work_items
        self.deliver = deliver
        self.deferred = deferred
        self.delivery: Completions  # set by the store (delivery needs the work items too)
        self.prefetched: OrderedDict[str, _Held] = OrderedDict()
        self.running: dict[str, _Held] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self.room_freed = asyncio.Event()
        self.swept_at = float("-inf")
        self._receiving = asyncio.Lock()
        self._sweeping = asyncio.Lock()

    @property
    def room(self) -> int:
        if not self.hub.options.dispatch:
            return 0
        return self.hub.options.prefetch - len(self.prefetched)

    def knows(self, message_id: str) -> bool:
        """Prefetched, running, or recently completed on this host."""
        return message_id in self.prefetched or message_id in self.running or message_id in self._recent

    # --- arrival ------------------------------------------------------------------------------
    async def put(self, send: Send, original: ActivityWorkItem | None) -> None:
        """Enqueue a work item; keep it for this host while prefetch has room."""
        if self.knows(send.message_id):
            return  # already here: a resend of the same work item
        if self.room <= 0:
            await self.queue.put(send.body)
            return
        item = original or envelopes.to_work_item(await envelopes.read_body(send.body, self.hub.payloads), 1)
        if self.knows(send.message_id):  # another copy was received meanwhile: keep that one
            return
        done = asyncio.Event()
        held = _Held(item, None, self._deadline(), 1, put=done)
        self.prefetched[item.message_id] = held
        self.hub.work.set()
        try:
            held.receipt = await self.queue.put(send.body, invisible_for=self.hub.options.lock_seconds)
        finally:
            done.set()

    async def keep(self, send: Send, original: ActivityWorkItem | None) -> bool:
        """Hold a work item this host's checkpoint sends, without putting it, while fewer than
        ``keep_work_items`` are held; ``False``: put it as usual."""
        if self.knows(send.message_id) or len(self.prefetched) >= self.hub.options.keep_work_items:
            return False
        item = original or envelopes.to_work_item(await envelopes.read_body(send.body, self.hub.payloads), 1)
        if self.knows(send.message_id):
            return False
        self.prefetched[item.message_id] = _Held(item, None, self._deadline(), 1, kept=send)
        self.hub.work.set()
        return True  # nothing awaits from here: the caller records the keep before the item can run

    def ahead(self, sends: Sequence[Send], originals: Mapping[str, Any]) -> list[Send]:
        """Hold the work items an episode of this host schedules while its checkpoint is being
        written, so they run meanwhile (an activity runs at least once, as ever: a host that
        dies now runs it again from the checkpoint, or not at all if it was never written).
        A completion counts only once :meth:`confirm` says the checkpoint is durable.  The
        sends held (they are kept: never put)."""
        held: list[Send] = []
        for send in sends:
            item = originals.get(send.message_id)
            if (send.kind != WORK_ITEM or not isinstance(item, ActivityWorkItem) or self.knows(send.message_id)
                    or len(self.prefetched) >= self.hub.options.keep_work_items):
                continue
            future = asyncio.get_running_loop().create_future()
            self.prefetched[send.message_id] = _Held(item, None, self._deadline(), 1, kept=send, ahead=future)
            held.append(send)
        if held:
            self.hub.work.set()
        return held

    def confirm(self, sends: Sequence[Send], keep: tuple[str, str | None] | None) -> None:
        """The checkpoint of work items held :meth:`ahead` is durable (``keep``: its instance and
        outbox blob, which keeps them from now on), or was not written (``None``: they are dropped,
        and a completion that comes is discarded)."""
        for send in sends:
            held = self.prefetched.get(send.message_id) or self.running.get(send.message_id)
            if keep is not None:
                self.deferred.keep(keep[0], send, keep[1])
            elif held is not None:
                self._let_go(held)
            if held is not None and held.ahead is not None and not held.ahead.done():
                held.ahead.set_result(keep is not None)

    def void(self, message_ids: Sequence[str]) -> None:
        """Let go of kept work items whose checkpoint will never be written (a postponed one that
        was dropped, :mod:`.postponed`): one not run yet never runs, a running one's completion
        counts for nothing, and the id is free for the instance to schedule again."""
        for message_id in message_ids:
            held = self.prefetched.get(message_id) or self.running.get(message_id)
            if held is not None and held.kept is not None:
                self._let_go(held)
        self.deferred.forget(message_ids)

    def _let_go(self, held: _Held) -> None:
        held.void = True
        message_id = held.item.message_id
        for table in (self.prefetched, self.running):
            if table.get(message_id) is held:
                del table[message_id]

    async def poll(self, count: int) -> int:
        """Receive up to ``count`` work items into the prefetch buffer; how many came."""
        async with self._receiving:  # a sweep must not miss a batch still being taken in
            received = await self.queue.receive(count, self.hub.options.lock_seconds)
            await self.arrive(received)
        return len(received)

    async def sweep(self, after: float) -> None:
        """Receive every visible work item (past the prefetch size, up to ``max_buffered``),
        unless a sweep that began at ``after`` (monotonic) or later already did."""
        async with self._sweeping:
            if self.swept_at >= after:
                return
            began = time.monotonic()
            while len(self.prefetched) < self.hub.options.max_buffered and await self.poll(MAX_RECEIVE) >= MAX_RECEIVE:
                pass
            self.swept_at = began

    async def arrive(self, messages: list[QueueMessage]) -> None:
        """Work items received by the poller."""
        for message in messages:
            receipt = Receipt(message.id, message.pop_receipt)
            try:
                data = await envelopes.read_body(message.content, self.hub.payloads)
                if envelopes.is_completion(data):
                    await self.delivery.completion_found(message.content, data, receipt)
                    continue
                item = envelopes.to_work_item(data, message.dequeue_count or 1)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("dropping unreadable work item %s from %s: %s", message.id, self.queue.name, exc)
                await self.queue.delete(receipt)
                continue
            held = self.prefetched.get(item.message_id) or self.running.get(item.message_id)
            if held is not None and held.receipt is not None and held.receipt.queue_id == receipt.queue_id:
                held.receipt, held.deadline = receipt, self._deadline()  # our own copy, received again
            elif held is not None or item.message_id in self._recent:
                await self.queue.delete(receipt)  # a second copy of a work item this host has
            else:
                self.prefetched[item.message_id] = _Held(item, receipt, self._deadline(), item.dequeue_count)
        if messages:
            self.hub.work.set()

    # --- the activity dispatcher's calls -------------------------------------------------------
    async def lock(self) -> ActivityWorkItem | None:
        while self.prefetched:
            message_id, held = self.prefetched.popitem(last=False)
            try:
                if held.deadline - time.monotonic() < self.hub.options.lock_seconds / 3 and not await self._renew(held):
                    continue  # its lock ran out: it is back in the queue for whoever receives it
            except StoreError:
                self.prefetched[message_id] = held
                self.prefetched.move_to_end(message_id, last=False)
                raise
            held.token = uuid.uuid4().hex
            self.running[held.item.message_id] = held
            self.room_freed.set()
            return replace(held.item, dequeue_count=held.attempts, lock_token=held.token)
        return None

    def _held(self, item: ActivityWorkItem) -> _Held:
        """The running work item locked as ``item`` (a new run of its id is another one)."""
        held = self.running.get(item.message_id)
        if held is None or held.token != item.lock_token:
            raise WorkItemLost(f"activity work item {item.message_id} is not locked")
        return held

    async def renew(self, item: ActivityWorkItem) -> ActivityWorkItem:
        if not await self._renew(self._held(item)):
            raise WorkItemLost(f"activity work item {item.message_id} is not locked")
        return item  # the token names the run, which goes on

    async def complete(self, item: ActivityWorkItem, result: Message) -> None:
        held = self._held(item)
        held.completing = True  # no renewal from here: it would make the receipt below stale
        if held.ahead is not None and not await asyncio.shield(held.ahead):
            self._let_go(held)
            raise WorkItemLost(f"activity work item {item.message_id} was scheduled by a checkpoint never written")
        try:
            parked = await self._park(held, result)
            if not parked:
                await self.deliver(result)
        finally:
            held.completing = False
        if held.void:
            raise WorkItemLost(f"activity work item {item.message_id} was scheduled by a checkpoint never written")
        del self.running[item.message_id]
        self._remember(item.message_id)
        if held.kept is not None:
            self.deferred.settle([item.message_id])  # its completion is durable now
        receipt = await held.settled_receipt()
        if parked or receipt is None:
            return  # parked: the episode that consumes the completion deletes the message
        if not await self.queue.delete(receipt):
            log.info("work item %s was already taken back when its result arrived", item.message_id)

    async def _park(self, held: _Held, result: Message) -> bool:
        """Rewrite the work item's own message with its completion, for an instance of this host
        (one round trip instead of a put and two deletes); ``False``: deliver it as usual."""
        receipt = await held.settled_receipt()
        if receipt is None and held.kept is None:
            return False  # this host's put failed: deliver it as usual
        send = await envelopes.prepare_message(result, self.hub.payloads)
        if receipt is None:  # kept, never put: nothing to park in
            self.deferred.completing(held.item.message_id, result.message_id)
            return await self.delivery.hand_over(send, result, lambda: held.void)

        async def update(body: str) -> Receipt | None:
            return await self.queue.set_visibility(receipt, self.hub.options.lock_seconds, content=body)

        return bool(await self.delivery.park(send, result, update))

    async def abandon(self, item: ActivityWorkItem) -> None:
        held = self.running.get(item.message_id)
        if held is not None and held.token == item.lock_token:
            del self.running[item.message_id]
            held.attempts += 1
            self.prefetched[item.message_id] = held
            self.hub.work.set()

    # --- housekeeping --------------------------------------------------------------------------
    async def renew_due(self) -> None:
        """Keep held work items invisible; drop prefetched ones whose lock could not be kept."""
        margin = self.hub.options.lock_seconds / 3
        for table in (self.running, self.prefetched):
            for message_id, held in list(table.items()):
                if held.completing or held.deadline - time.monotonic() >= margin:
                    continue
                if not await self._renew(held, background=True):
                    if table is self.prefetched:
                        self.prefetched.pop(message_id, None)
                    else:
                        log.warning("lost the lock of running activity work item %s", message_id)

    async def release(self) -> None:
        """Give prefetched work items back to the queue (graceful shutdown)."""
        held, self.prefetched = list(self.prefetched.values()), OrderedDict()
        for h in held:
            try:
                if h.ahead is not None and not (h.ahead.done() and h.ahead.result()):
                    continue  # its checkpoint is not durable: recovery sends it if it becomes so
                if h.kept is not None:  # never put: put it now, for whoever runs it
                    await self.queue.put(h.kept.body)
                    self.deferred.settle([h.item.message_id])
                    continue
                receipt = await h.settled_receipt()  # this host's own put may still be on the way
                if receipt is not None:
                    await self.queue.set_visibility(receipt, 0)
            except StoreError as exc:
                log.debug("could not release work item %s: %s", h.item.message_id, exc)

    def _deadline(self) -> float:
        return time.monotonic() + self.hub.options.lock_seconds

    async def _renew(self, held: _Held, *, background: bool = False) -> bool:
        if held.receipt is None:
            return True  # this host's put is on the way: the lock it asks for is fresh
        kind = "queue.renew" if background else "queue.update"
        receipt = await self.queue.set_visibility(held.receipt, self.hub.options.lock_seconds, kind)
        if receipt is None:
            return False
        held.receipt, held.deadline = receipt, self._deadline()
        return True

    def _remember(self, message_id: str) -> None:
        self._recent[message_id] = None
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
