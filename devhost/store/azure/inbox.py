"""Control messages this host holds for the partitions it owns (in memory).

Every message here is invisible in its queue (received, or put invisible by this host) and
is known by its devhost message id; several queue copies of one id (a message sent twice)
are one entry, handed out once and deleted together.  An entry may have no copy yet while its
put is on the way (:meth:`Inbox.hold`; its sender keeps it durable meanwhile).  Entries stay until an episode
consumes them, so an abandoned work item simply leaves them here for the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..base import Message
from .queues import Receipt


@dataclass
class Buffered:
    message: Message
    partition: int
    order: int
    copies: dict[str, Receipt] = field(default_factory=dict)
    locked: bool = False

    def visible(self, now: datetime) -> bool:
        return self.message.visible_at is None or self.message.visible_at <= now


class Inbox:
    def __init__(self) -> None:
        self._by_instance: dict[str, dict[str, Buffered]] = {}

    def __len__(self) -> int:
        return sum(len(m) for m in self._by_instance.values())

    def has(self, instance_id: str, message_id: str) -> bool:
        return message_id in self._by_instance.get(instance_id, {})

    def add(self, message: Message, partition: int, receipt: Receipt, order: int) -> bool:
        """Hold ``message`` (another copy of a known id just adds its receipt); ``True`` if new.
        ``order`` is the message's sequence number: work items list messages in that order."""
        entries = self._by_instance.setdefault(message.instance_id, {})
        entry = entries.get(message.message_id)
        if entry is not None:
            entry.copies[receipt.queue_id] = receipt
            return False
        entries[message.message_id] = Buffered(message, partition, order, {receipt.queue_id: receipt})
        return True

    def hold(self, message: Message, partition: int, order: int) -> bool:
        """Hold a message whose queue copy is still being put (:meth:`add` brings its receipt)."""
        entries = self._by_instance.setdefault(message.instance_id, {})
        if message.message_id in entries:
            return False
        entries[message.message_id] = Buffered(message, partition, order)
        return True

    def ready(self, now: datetime) -> list[str]:
        """Instances with an unlocked message visible at ``now``, oldest message first."""
        firsts = []
        for instance_id, entries in self._by_instance.items():
            orders = [b.order for b in entries.values() if not b.locked and b.visible(now)]
            if orders:
                firsts.append((min(orders), instance_id))
        return [instance_id for _, instance_id in sorted(firsts)]

    def visible(self, instance_id: str, now: datetime) -> list[Buffered]:
        entries = self._by_instance.get(instance_id, {}).values()
        return sorted((b for b in entries if not b.locked and b.visible(now)), key=lambda b: b.order)

    def messages(self, instance_id: str) -> list[Buffered]:
        return sorted(self._by_instance.get(instance_id, {}).values(), key=lambda b: b.order)

    def set_locked(self, instance_id: str, message_ids: list[str], locked: bool) -> None:
        entries = self._by_instance.get(instance_id, {})
        for message_id in message_ids:
            if message_id in entries:
                entries[message_id].locked = locked

    def unlock_all(self, instance_id: str) -> None:
        for entry in self._by_instance.get(instance_id, {}).values():
            entry.locked = False

    def remove(self, instance_id: str, message_ids: list[str] | None = None) -> list[Buffered]:
        """Take out the given messages of an instance (all of them when ``None``)."""
        entries = self._by_instance.get(instance_id)
        if not entries:
            return []
        ids = list(entries) if message_ids is None else [m for m in message_ids if m in entries]
        taken = [entries.pop(m) for m in ids]
        if not entries:
            del self._by_instance[instance_id]
        return taken

    def remove_partition(self, partition: int) -> list[Buffered]:
        taken: list[Buffered] = []
        for instance_id, entries in list(self._by_instance.items()):
            if any(b.partition == partition for b in entries.values()):
                taken += self.remove(instance_id)
        return taken

    def next_due(self) -> datetime | None:
        """Earliest ``visible_at`` among messages not handed out."""
        due = [
            b.message.visible_at for e in self._by_instance.values() for b in e.values()
            if b.message.visible_at is not None and not b.locked
        ]
        return min(due, default=None)

    def count(self, partition: int) -> int:
        return sum(1 for e in self._by_instance.values() for b in e.values() if b.partition == partition)
