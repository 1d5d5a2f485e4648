"""Putting prepared messages where they belong.

A control message for a partition this host owns is put invisible and kept in the inbox at
once (no receive round trip, and no put at all when its id is already queued or consumed);
one for another host's partition is put visible for that host to receive.  Work items go
to :class:`~.activities.WorkItems`.
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

    async def send(self, sends: Sequence[Send], originals: Mapping[str, Original] | None = None) -> None:
        originals = originals or {}
        await asyncio.gather(*(self._one(s, originals.get(s.message_id)) for s in sends))

    async def _one(self, send: Send, original: Original | None) -> None:
        if send.kind == WORK_ITEM:
            await self.work_items.put(send, original if isinstance(original, ActivityWorkItem) else None)
            return
        partition, queue = self.hub.control_queue(send.instance_id)
        if not (self.hub.options.dispatch and self.owns(partition)):
            await queue.put(send.body)
            return
        if self.inbox.has(send.instance_id, send.message_id) or self.consumed(send.instance_id, send.message_id):
            return  # already queued, or consumed: sending it again is a no-op
        receipt = await queue.put(send.body, invisible_for=self.hub.options.lock_seconds)
        if isinstance(original, Message):
            message, sequence = original, send.sequence
        else:
            data = await envelopes.read_body(send.body, self.hub.payloads)
            message, sequence = envelopes.to_message(data), envelopes.sequence_of(data)
        if self.owns(partition):
            self.inbox.add(message, partition, receipt, sequence or envelopes.next_sequence())
            self.hub.work.set()
