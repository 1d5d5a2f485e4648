"""Sends a checkpoint hands to this host itself, kept in memory and never put.

A checkpoint's outbox is durable in its sentinel from the commit on.  What it sends to this
host -- control messages to instances of partitions it owns (sub-orchestration starts,
their replies, events) and activity work items it runs itself -- needs no queue message:
it is handed to the inbox or the prefetch buffer, and the checkpoint stays *open*
(``IsCheckpointComplete = false``) until each such send is *settled*:

* a control message when the checkpoint of its receiver consumed it;
* a work item when its completion was put (the completion is durable before the activity
  counts as done, :meth:`~.activities.WorkItems.complete`);
* either, when it was put after all (:meth:`~.delivery.Delivery.flush`: its receiver's
  partition is handed back or lost, the host shuts down).

A later checkpoint of the sender *carries* what is still open: inline in its outbox, or, for
work items, by naming the outbox blob of the checkpoint that holds them (recovery takes only
work items from such a blob: they are skipped once their completion is in the history, while
a control message consumed long ago may be past its receiver's consumed-message record).
So whenever the host dies, the last sentinel names every send not settled, and recovery
sends them again (:mod:`.recovery`: control messages are idempotent; a work item runs again
only if it left no trace).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .envelopes import WORK_ITEM, Send


@dataclass
class Kept:
    sender: str
    """The instance whose checkpoint's outbox holds the send."""
    send: Send
    blob: str | None
    """The outbox blob that holds the send (``None``: it is inline in the sender's outbox)."""
    completion: str | None = None
    """A work item's completion message, once handed over: consuming it settles the work item."""

    @property
    def is_work_item(self) -> bool:
        return self.send.kind == WORK_ITEM


@dataclass(frozen=True)
class Carried:
    """What a sender's next checkpoint names as still open."""

    sends: tuple[Send, ...] = ()
    blobs: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sends or self.blobs)


class Deferred:
    """The kept sends of this host, by message id and by sender."""

    def __init__(self, settled: Callable[[str], None]) -> None:
        self._kept: dict[str, Kept] = {}
        self._by_sender: dict[str, dict[str, Kept]] = {}
        self._settled = settled
        """Called with a sender whose sends are all settled (its checkpoint can be marked)."""

    def __len__(self) -> int:
        return len(self._kept)

    def keep(self, sender: str, send: Send, blob: str | None) -> None:
        kept = Kept(sender, send, blob)
        self._kept[send.message_id] = kept
        self._by_sender.setdefault(sender, {})[send.message_id] = kept

    def get(self, message_id: str) -> Kept | None:
        return self._kept.get(message_id)

    def completing(self, message_id: str, completion_id: str) -> None:
        """The kept work item ``message_id`` completed with the message ``completion_id``."""
        kept = self._kept.get(message_id)
        if kept is not None:
            kept.completion = completion_id

    def open(self, sender: str) -> bool:
        """``sender`` has sends not settled yet."""
        return sender in self._by_sender

    def sends(self, sender: str) -> list[Kept]:
        return list(self._by_sender.get(sender, {}).values())

    def matching(self, test: Callable[[Kept], bool]) -> list[Kept]:
        return [k for k in self._kept.values() if test(k)]

    def carried(self, sender: str, consumed: Iterable[str] = ()) -> Carried:
        """What the next checkpoint of ``sender`` must name (sends it consumes itself aside)."""
        kept = self._by_sender.get(sender)
        if not kept:
            return Carried()
        skip = set(consumed)
        sends: list[Send] = []
        blobs: dict[str, None] = {}
        for kept_send in kept.values():
            if kept_send.send.message_id in skip or kept_send.completion in skip:
                continue  # settled by the checkpoint that carries the rest
            if kept_send.blob is not None and kept_send.is_work_item:
                blobs[kept_send.blob] = None
            else:
                sends.append(kept_send.send)
        return Carried(tuple(sends), tuple(blobs))

    def moved(self, sender: str, blob: str | None) -> None:
        """The sender's new checkpoint carried its inline sends into ``blob`` (if it has one)."""
        if blob is None:
            return
        for kept in self._by_sender.get(sender, {}).values():
            if kept.blob is None:
                kept.blob = blob

    def settle(self, message_ids: Iterable[str]) -> None:
        done = {sender for m in message_ids if (sender := self._pop(m)) is not None}
        for sender in done:
            self._settled(sender)

    def forget(self, message_ids: Iterable[str]) -> None:
        """Drop kept sends of a checkpoint that will never be written (nothing is settled)."""
        for message_id in message_ids:
            self._pop(message_id)

    def _pop(self, message_id: str) -> str | None:
        """Remove a kept send; its sender if that was the sender's last one."""
        kept = self._kept.pop(message_id, None)
        if kept is None:
            return None
        by_sender = self._by_sender[kept.sender]
        del by_sender[message_id]
        if by_sender:
            return None
        del self._by_sender[kept.sender]
        return kept.sender
