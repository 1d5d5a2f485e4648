"""Putting prepared messages where they belong.

A control message for a partition this host owns is put invisible and kept in the inbox at
once (no receive round trip, and no put at all when its id is already queued or consumed);
one for another host's partition is put visible for that host to receive.  Work items go
to :class:`~.activities.WorkItems`.

Messages to one instance keep their send order, as the Durable extension guarantees for
operations from one sender to one entity (``EntityScheduler/MessageSorter.cs``): those for
this host enter the inbox together once all are put (an episode never takes a later one
without the earlier ones), those for another host are put one after the other.  Messages
to different instances, and work items, go concurrently.

A client's message for a partition this host owns is *gated* instead: handed over at once and
put meanwhile; the checkpoint that consumes it waits for the put (:meth:`Delivery.passed`), and
if the put fails the message is withdrawn (the client's call fails).

What a checkpoint sends to this host itself may be *kept* instead (:mod:`.deferred`): handed
over and never put, unless :meth:`Delivery.flush` puts it after all.

The completion of a kept work item, for an instance of this host, is *handed over*
(:meth:`Delivery.hand_over`): held in memory until the checkpoint that consumes it is
durable, and put only if that takes longer than ``handover_seconds`` (once the checkpoint
that scheduled it is written: it may be postponed, :mod:`.postponed`).  Another completion
for an instance of this host is *parked* in its own work-item
message instead of being put to a control queue (:meth:`Delivery.park`): one update of a
message the host holds anyway, and that message is what the consuming episode deletes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ...errors import StoreError
from ..base import ActivityWorkItem, Message
from . import envelopes
from .activities import WorkItems
from .deferred import Deferred, Kept
from .envelopes import WORK_ITEM, Send
from .hub import Hub
from .inbox import Inbox
from .queues import Receipt

log = logging.getLogger("devhost.store.azure")
Original = Message | ActivityWorkItem
_WITHDRAWN = 1000
Keep = tuple[str, str | None]
"""``(sender, outbox blob)``: the checkpoint of ``sender`` (its outbox in that blob, if any) keeps
what this host can take itself; it need not be put (:mod:`.deferred`)."""


class Delivery:
    def __init__(
        self,
        hub: Hub,
        inbox: Inbox,
        work_items: WorkItems,
        owns: Callable[[int], bool],
        consumed: Callable[[str, str], bool],
        deferred: Deferred,
        write_postponed: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.hub = hub
        self.inbox = inbox
        self.work_items = work_items
        self.owns = owns
        self.consumed = consumed
        self.deferred = deferred
        self.write_postponed = write_postponed or _nothing_postponed
        self._handovers: dict[str, asyncio.Future[None]] = {}
        self._gates: dict[str, asyncio.Future[bool]] = {}
        self._withdrawn: OrderedDict[str, None] = OrderedDict()

    async def send(
        self, sends: Sequence[Send], originals: Mapping[str, Original] | None = None, *, early: bool = False,
        keep: Keep | None = None, gated: bool = False,
    ) -> None:
        """Put ``sends`` where they belong.  ``early``: the sender keeps them durable until this
        returns (a checkpoint's outbox, an activity's locked work item), so messages for this
        host are handed to its episodes at once, while their puts are still on the way.
        ``keep``: what this host takes itself is not put at all (implies ``early``).
        ``gated`` (a client's messages): handed over at once too, but consumed only once put."""
        originals = originals or {}
        if not (self.hub.options.keep_local and self.hub.options.dispatch):
            keep = None
        control: dict[str, list[Send]] = {}
        for send in sends:
            if send.kind != WORK_ITEM:
                control.setdefault(send.instance_id, []).append(send)
        await asyncio.gather(
            *(self._work_item(s, originals.get(s.message_id), keep) for s in sends if s.kind == WORK_ITEM),
            *(self._control(sorted(group, key=lambda s: s.sequence), originals, early or keep is not None, keep,
                            gated) for group in control.values()),
        )

    @property
    def keeps(self) -> bool:
        """Whether this host keeps what it sends itself (:mod:`.deferred`)."""
        return self.hub.options.keep_local and self.hub.options.dispatch

    # --- ahead: what an episode sends this host, handed over while its checkpoint is written ------
    def ahead(self, sends: Sequence[Send], originals: Mapping[str, Original]) -> list[Send]:
        """Hand this host's share of ``sends`` over before the checkpoint that sends them is
        written, when this host keeps what it sends itself: work items run meanwhile
        (:meth:`~.activities.WorkItems.ahead`) and messages for instances of its partitions
        enter the inbox, so their episodes run meanwhile too.  Nothing of that counts before
        :meth:`confirm`: a completion waits for it, and so does a checkpoint that consumes such
        a message (:meth:`passed`).  The sends handed over."""
        if not self.keeps:
            return []
        held = self.work_items.ahead(sends, originals)
        groups: dict[str, list[Send]] = {}
        for send in sends:
            if send.kind != WORK_ITEM:
                groups.setdefault(send.instance_id, []).append(send)
        for instance_id, group in groups.items():
            partition = self.hub.names.partition(instance_id)
            if not self.owns(partition) or not all(self._can_hand_over(s, originals.get(s.message_id)) for s in group):
                continue  # all of an instance's messages or none: they arrive in send order
            for send in sorted(group, key=lambda s: s.sequence):
                original = originals[send.message_id]
                assert isinstance(original, Message)
                self.inbox.hold(original, partition, send.sequence or envelopes.next_sequence())
                self._gates[send.message_id] = asyncio.get_running_loop().create_future()
                held.append(send)
        if held:
            self.hub.work.set()
        return held

    def _can_hand_over(self, send: Send, original: Original | None) -> bool:
        return (isinstance(original, Message) and original.visible_at is None
                and not self.inbox.has(send.instance_id, send.message_id)
                and not self.consumed(send.instance_id, send.message_id))

    def confirm(self, held: Sequence[Send], keep: Keep | None) -> list[Send]:
        """The checkpoint that sends ``held`` is durable (``keep``: it keeps them from now on,
        :mod:`.deferred`), or was never written (``None``: they are withdrawn).  Returns the
        messages to send as usual after all (their partition went meanwhile)."""
        self.work_items.confirm([s for s in held if s.kind == WORK_ITEM], keep)
        rest: list[Send] = []
        for send in held:
            if send.kind == WORK_ITEM:
                continue
            gate = self._gates.pop(send.message_id, None)
            if keep is None:
                self.inbox.remove(send.instance_id, [send.message_id])
                self._withdraw(send.message_id)
            elif self.inbox.has(send.instance_id, send.message_id):
                self.deferred.keep(keep[0], send, keep[1])
            else:
                rest.append(send)
            if gate is not None and not gate.done():
                gate.set_result(keep is not None)
        return rest

    async def passed(self, message_ids: Sequence[str]) -> bool:
        """Whether every message handed over :meth:`ahead` among ``message_ids`` is durable at its
        sender (waiting for checkpoints still being written); ``False``: one was withdrawn."""
        gates = [asyncio.shield(g) for m in message_ids if (g := self._gates.get(m)) is not None]
        confirmed = await asyncio.gather(*gates) if gates else []
        return all(confirmed) and not any(m in self._withdrawn for m in message_ids)

    async def flush(self, kept: Sequence[Kept]) -> None:
        """Put kept sends after all, visible: whoever owns the receiver then receives them (the
        receiver's partition was handed back or lost, or this host is shutting down)."""
        async def put(send: Send) -> None:
            if send.kind == WORK_ITEM:
                await self.work_items.queue.put(send.body)
            else:
                await self.hub.control_queue(send.instance_id)[1].put(send.body)
            self.deferred.settle([send.message_id])

        await asyncio.gather(*(put(k.send) for k in kept))

    async def park(
        self, send: Send, original: Message, update: Callable[[str], Awaitable[Receipt | None]]
    ) -> bool | None:
        """Keep an activity's completion in its work-item message (``update`` rewrites that
        message, still locked, with the completion's body) when the instance is this host's:
        ``True`` when parked (the work item must stay), ``False`` when it went to the control
        queue instead (its work item was taken back meanwhile), ``None`` when this is not for
        here (another host's instance, or a completion already known): send it as usual."""
        partition, queue = self.hub.control_queue(send.instance_id)
        if not (self.hub.options.dispatch and self.owns(partition)):
            return None
        if self.inbox.has(send.instance_id, send.message_id) or self.consumed(send.instance_id, send.message_id):
            return None
        message, sequence = await self._message(send, original)
        self._hold(partition, [(message, sequence)])  # the episode may run while the update is on the way
        receipt = await update(send.body)
        parked = receipt is not None
        if receipt is not None:
            receipt = replace(receipt, queue=self.work_items.queue.name)
        else:
            receipt = await queue.put(send.body, invisible_for=self.hub.options.lock_seconds)
        await self._copy(message, partition, receipt, sequence)
        return parked

    async def flush_partition(self, partition: int | None) -> None:
        """Put the kept messages to ``partition`` (every partition: ``None``) after all: it is
        handed back or lost, or the host shuts down."""
        names = self.hub.names
        try:
            await self.flush(self.deferred.matching(lambda k: not k.is_work_item and (
                partition is None or names.partition(k.send.instance_id) == partition)))
        except StoreError as exc:  # their senders' checkpoints stay open: recovery sends them
            log.warning("could not put the messages kept for partition %s: %s", partition, exc)

    async def hand_over(self, send: Send, original: Message, void: Callable[[], bool] = lambda: False) -> bool:
        """Hold a completion (of a work item that has no queue message) for an instance of this
        host, and return once it is durable: consumed by a checkpoint of the instance, or put
        after ``handover_seconds``.  ``False``: not for here (send it as usual).  Dropped (``True``)
        once ``void`` says the work item was let go of (:meth:`void`)."""
        partition, queue = self.hub.control_queue(send.instance_id)
        if not (self.hub.options.dispatch and self.owns(partition)):
            return False
        if self.inbox.has(send.instance_id, send.message_id) or self.consumed(send.instance_id, send.message_id):
            return False
        message, sequence = await self._message(send, original)
        if void():
            return True
        waiter = self._handovers[send.message_id] = asyncio.get_running_loop().create_future()
        self._hold(partition, [(message, sequence)])
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), self.hub.options.handover_seconds)
                    return True
                if self.consumed(send.instance_id, send.message_id):
                    return True
                written = await self.write_postponed(send.instance_id)  # its schedule first
                if void():
                    return True
                if written:
                    break
        finally:
            self._handovers.pop(send.message_id, None)
        if self.consumed(send.instance_id, send.message_id) or void():
            return True
        receipt = await queue.put(send.body, invisible_for=self.hub.options.lock_seconds)
        await self._copy(message, partition, receipt, sequence)
        return True

    def void(self, instance_id: str, work_item_ids: Sequence[str]) -> None:
        """Let go of kept work items of ``instance_id`` whose checkpoint will never be written
        (:meth:`~.activities.WorkItems.void`), and of the completions held for them."""
        completions = [k.completion for m in work_item_ids if (k := self.deferred.get(m)) and k.completion]
        self.work_items.void(work_item_ids)
        self.inbox.remove(instance_id, completions)
        for completion in completions:
            waiter = self._handovers.get(completion)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)  # its hand-over sees the work item let go of

    def durable(self, message_ids: Sequence[str]) -> None:
        """A checkpoint that consumed ``message_ids`` is durable: handed-over completions are done."""
        for message_id in message_ids:
            waiter = self._handovers.get(message_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def completion_found(self, content: str, data: dict[str, Any], receipt: Receipt) -> None:
        """A completion parked in the work-item queue came back (its host gave it up or died):
        ``content`` is the queue message's text, ``data`` its envelope."""
        message = envelopes.to_message(data)
        receipt = replace(receipt, queue=self.work_items.queue.name)
        partition, queue = self.hub.control_queue(message.instance_id)
        if self.hub.options.dispatch and self.owns(partition):
            if self.consumed(message.instance_id, message.message_id):
                await self.work_items.queue.delete(receipt)
                return
            self.inbox.add(message, partition, receipt, envelopes.sequence_of(data))
            self.hub.work.set()
            return
        await queue.put(content)  # its instance's owner receives it from the control queue
        await self.work_items.queue.delete(receipt)

    async def _copy(self, message: Message, partition: int, receipt: Receipt, sequence: int) -> None:
        """Add the queue copy of a message held early; delete it if an episode consumed it first."""
        if self.inbox.has(message.instance_id, message.message_id):
            self.inbox.add(message, partition, receipt, sequence)
        elif self.consumed(message.instance_id, message.message_id):
            await self.hub.holder(partition, receipt.queue).delete(receipt)

    async def _work_item(self, send: Send, original: Original | None, keep: Keep | None) -> None:
        item = original if isinstance(original, ActivityWorkItem) else None
        if keep is not None and await self.work_items.keep(send, item):
            self.deferred.keep(keep[0], send, keep[1])
            return
        await self.work_items.put(send, item)

    async def _control(
        self, sends: list[Send], originals: Mapping[str, Original], early: bool, keep: Keep | None = None,
        gated: bool = False,
    ) -> None:
        """Messages to one instance, in send order."""
        partition, queue = self.hub.control_queue(sends[0].instance_id)
        if not (self.hub.options.dispatch and self.owns(partition)):
            for send in sends:  # the receiving host must not see a later one first
                await queue.put(send.body)
            return
        fresh = [s for s in sends if not (self.inbox.has(s.instance_id, s.message_id)
                                          or self.consumed(s.instance_id, s.message_id))]
        if not fresh:
            return  # already queued, or consumed: sending again is a no-op
        held = await asyncio.gather(*(self._message(s, originals.get(s.message_id)) for s in fresh))
        if gated and not early:
            await self._gated(partition, queue, fresh, held)
            return
        if early:
            self._hold(partition, held)
        if keep is not None:  # held, never put: the sender's checkpoint keeps them (timers are put)
            for send, (message, _) in zip(fresh, held, strict=True):
                if message.visible_at is None:
                    self.deferred.keep(keep[0], send, keep[1])
            pairs = [(s, h) for s, h in zip(fresh, held, strict=True) if h[0].visible_at is not None]
            if not pairs:
                return
            fresh, held = [s for s, _ in pairs], [h for _, h in pairs]
        await self._put(partition, queue, fresh, held, hold=not early)

    async def _put(self, partition: int, queue: Any, sends: list[Send], held: list[tuple[Message, int]], *,
                   hold: bool) -> None:
        """Put ``sends`` (invisible: this host holds them) and add the queue copies to the inbox
        (``hold``: hold them there first)."""
        invisible = self.hub.options.lock_seconds
        receipts = await asyncio.gather(*(queue.put(s.body, invisible_for=invisible) for s in sends))
        if not self.owns(partition):
            return  # lost the partition meanwhile: its new owner receives them when they show
        if hold:
            self._hold(partition, held)
        await asyncio.gather(*(self._copy(message, partition, receipt, sequence)
                               for receipt, (message, sequence) in zip(receipts, held, strict=True)))

    async def _gated(self, partition: int, queue: Any, sends: list[Send], held: list[tuple[Message, int]]) -> None:
        """Hand ``sends`` over while they are put; a checkpoint consuming one waits for its put."""
        loop = asyncio.get_running_loop()
        gates = [self._gates.setdefault(s.message_id, loop.create_future()) for s in sends]
        self._hold(partition, held)
        put = True
        try:
            await self._put(partition, queue, sends, held, hold=False)
        except BaseException:
            put = False
            for send in sends:
                self.inbox.remove(send.instance_id, [send.message_id])
                self._withdraw(send.message_id)
            raise
        finally:
            for send, gate in zip(sends, gates, strict=True):
                self._gates.pop(send.message_id, None)
                if not gate.done():
                    gate.set_result(put)

    def _withdraw(self, message_id: str) -> None:
        self._withdrawn[message_id] = None
        while len(self._withdrawn) > _WITHDRAWN:
            self._withdrawn.popitem(last=False)

    def _hold(self, partition: int, held: list[tuple[Message, int]]) -> None:
        for message, sequence in held:
            self.inbox.hold(message, partition, sequence)
        self.hub.work.set()

    async def _message(self, send: Send, original: Original | None) -> tuple[Message, int]:
        if isinstance(original, Message):
            return original, send.sequence or envelopes.next_sequence()
        data = await envelopes.read_body(send.body, self.hub.payloads)
        return envelopes.to_message(data), envelopes.sequence_of(data)


async def _nothing_postponed(_instance_id: str) -> bool:
    return True
