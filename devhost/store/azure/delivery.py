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
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from ..base import ActivityWorkItem, Message
from . import envelopes
from .activities import WorkItems
from .envelopes import WORK_ITEM, Send
from .hub import Hub
from .inbox import Inbox

Original = Message | ActivityWorkItem


class Delivery:
    def __init__(
        self,
        hub: Hub,
        inbox: Inbox,
        work_items: WorkItems,
        owns: Callable[[int], bool],
        consumed: Callable[[str, str], bool],
    ) -> None:
        self.hub = hub
        self.inbox = inbox
        self.work_items = work_items
        self.owns = owns
        self.consumed = consumed

    async def send(
        self, sends: Sequence[Send], originals: Mapping[str, Original] | None = None, *, early: bool = False
    ) -> None:
        """Put ``sends`` where they belong.  ``early``: the sender keeps them durable until this
        returns (a checkpoint's outbox, an activity's locked work item), so messages for this
        host are handed to its episodes at once, while their puts are still on the way."""
        originals = originals or {}
        control: dict[str, list[Send]] = {}
        for send in sends:
            if send.kind != WORK_ITEM:
                control.setdefault(send.instance_id, []).append(send)
        await asyncio.gather(
            *(self._work_item(s, originals.get(s.message_id)) for s in sends if s.kind == WORK_ITEM),
            *(self._control(sorted(group, key=lambda s: s.sequence), originals, early) for group in control.values()),
        )

    async def _work_item(self, send: Send, original: Original | None) -> None:
        await self.work_items.put(send, original if isinstance(original, ActivityWorkItem) else None)

    async def _control(self, sends: list[Send], originals: Mapping[str, Original], early: bool) -> None:
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
        if early:
            self._hold(partition, held)
        invisible = self.hub.options.lock_seconds
        receipts = await asyncio.gather(*(queue.put(s.body, invisible_for=invisible) for s in fresh))
        if not self.owns(partition):
            return  # lost the partition meanwhile: its new owner receives them when they show
        if not early:
            self._hold(partition, held)
        copies = []
        for receipt, (message, sequence) in zip(receipts, held, strict=True):
            if early and not self.inbox.has(message.instance_id, message.message_id):
                if self.consumed(message.instance_id, message.message_id):
                    copies.append(queue.delete(receipt))  # an episode took it before the put returned
                continue
            self.inbox.add(message, partition, receipt, sequence)
        await asyncio.gather(*copies)

    def _hold(self, partition: int, held: list[tuple[Message, int]]) -> None:
        for message, sequence in held:
            self.inbox.hold(message, partition, sequence)
        self.hub.work.set()

    async def _message(self, send: Send, original: Original | None) -> tuple[Message, int]:
        if isinstance(original, Message):
            return original, send.sequence or envelopes.next_sequence()
        data = await envelopes.read_body(send.body, self.hub.payloads)
        return envelopes.to_message(data), envelopes.sequence_of(data)
