"""Control messages this host holds for the partitions it owns (in memory).

Every message here is invisible in its queue (received, or put invisible by this host) and
is known by its devhost message id; several queue copies of one id (a message sent twice)
are one entry, handed out once and deleted together.  An entry may have no copy yet while its
put is on the way (:meth:`Inbox.hold`; its sender keeps it durable meanwhile).  Entries stay until an episode
consumes them, so an abandoned work item simply leaves them here for the next one.

The dispatcher asks for ready instances once per dispatch and for the next due time once per
wake, so the answers are kept up to date as entries change rather than found by scanning:
each ready instance's least order among its unlocked visible entries (also as a sorted list),
a heap of the unlocked entries with a ``visible_at`` (the next due time), and a heap of those
not yet visible, shown once ``ready`` is asked at or after their time.  A heap item carries
its entry's stamp; locking, unlocking or removing an entry changes the stamp, so its older
items are stale and skipped.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ..base import Message
from .queues import Receipt

_Timed = tuple[datetime, int, "Buffered", int]  # (visible_at, tie-break, entry, the entry's stamp)


@dataclass
class Buffered:
    message: Message
    partition: int
    order: int
    copies: dict[str, Receipt] = field(default_factory=dict)
    locked: bool = False
    stamp: int = field(default=0, repr=False, compare=False)  # changes when the inbox's indexes must forget it

    def visible(self, now: datetime) -> bool:
        return self.message.visible_at is None or self.message.visible_at <= now


class Inbox:
    def __init__(self) -> None:
        self._by_instance: dict[str, dict[str, Buffered]] = {}
        self._first: dict[str, int] = {}  # ready instances: the least order of their shown entries
        self._ranked: list[tuple[int, str]] = []  # ``_first`` as sorted (order, instance) pairs
        self._ids: list[str] | None = None  # their instances, until ``_ranked`` changes
        self._due: list[_Timed] = []  # unlocked entries with a ``visible_at``
        self._pending: list[_Timed] = []  # those of them not yet shown (after ``_horizon``)
        self._horizon: datetime | None = None  # the latest time ``ready`` was asked for
        self._counts: dict[int, int] = {}
        self._len = 0
        self._ties = itertools.count()

    def __len__(self) -> int:
        return self._len

    def has(self, instance_id: str, message_id: str) -> bool:
        return message_id in self._by_instance.get(instance_id, {})

    def add(self, message: Message, partition: int, receipt: Receipt, order: int) -> bool:
        """Hold ``message`` (another copy of a known id just adds its receipt); ``True`` if new.
        ``order`` is the message's sequence number: work items list messages in that order."""
        entries = self._by_instance.get(message.instance_id)
        entry = entries.get(message.message_id) if entries else None
        if entry is not None:
            entry.copies[receipt.queue_id] = receipt
            return False
        self._new(Buffered(message, partition, order, {receipt.queue_id: receipt}))
        return True

    def hold(self, message: Message, partition: int, order: int) -> bool:
        """Hold a message whose queue copy is still being put (:meth:`add` brings its receipt)."""
        if self.has(message.instance_id, message.message_id):
            return False
        self._new(Buffered(message, partition, order))
        return True

    def ready(self, now: datetime) -> list[str]:
        """Instances with an unlocked message visible at ``now``, oldest message first."""
        if not self._show_until(now):
            return self._scan(now)
        if self._ids is None:
            self._ids = [instance_id for _, instance_id in self._ranked]
        return list(self._ids)

    def iter_ready(self, now: datetime) -> Iterator[str]:
        """:meth:`ready` one at a time while entries change: each step goes on after the last one
        in order (an instance that became ready ahead of it is left to the next call)."""
        if not self._show_until(now):
            yield from self._scan(now)
            return
        ranked, seen = self._ranked, set()
        position = 0
        while position < len(ranked):
            key = ranked[position]
            if key[1] not in seen:
                seen.add(key[1])
                yield key[1]
            position = bisect.bisect_right(ranked, key)

    def visible(self, instance_id: str, now: datetime) -> list[Buffered]:
        entries = self._by_instance.get(instance_id, {}).values()
        return sorted((b for b in entries if not b.locked and b.visible(now)), key=lambda b: b.order)

    def messages(self, instance_id: str) -> list[Buffered]:
        return sorted(self._by_instance.get(instance_id, {}).values(), key=lambda b: b.order)

    def set_locked(self, instance_id: str, message_ids: list[str], locked: bool) -> None:
        entries = self._by_instance.get(instance_id)
        if not entries:
            return
        changed = [entries[m] for m in dict.fromkeys(message_ids) if m in entries and entries[m].locked != locked]
        for entry in changed:
            entry.locked = locked
            if locked:
                entry.stamp += 1
            else:
                self._index(entry)
        if locked:
            self._hidden(instance_id, changed)

    def unlock_all(self, instance_id: str, but: Collection[str] = ()) -> None:
        """Unlock the instance's messages (``but`` those: taken by an episode still to be written)."""
        self.set_locked(instance_id, [m for m in self._by_instance.get(instance_id, {}) if m not in but], False)

    def remove(self, instance_id: str, message_ids: list[str] | None = None) -> list[Buffered]:
        """Take out the given messages of an instance (all of them when ``None``)."""
        entries = self._by_instance.get(instance_id)
        if not entries:
            return []
        ids = list(entries) if message_ids is None else [m for m in dict.fromkeys(message_ids) if m in entries]
        taken = [entries.pop(m) for m in ids]
        for entry in taken:
            entry.stamp += 1
            self._counts[entry.partition] -= 1
        self._len -= len(taken)
        if not entries:
            del self._by_instance[instance_id]
        self._hidden(instance_id, taken)
        return taken

    def remove_partition(self, partition: int) -> list[Buffered]:
        taken: list[Buffered] = []
        for instance_id, entries in list(self._by_instance.items()):
            if any(b.partition == partition for b in entries.values()):
                taken += self.remove(instance_id)
        return taken

    def next_due(self) -> datetime | None:
        """Earliest ``visible_at`` among messages not handed out."""
        due = self._due
        while due and due[0][2].stamp != due[0][3]:
            heapq.heappop(due)
        return due[0][0] if due else None

    def count(self, partition: int) -> int:
        return self._counts.get(partition, 0)

    # --- indexes ----------------------------------------------------------------------------------
    def _new(self, entry: Buffered) -> None:
        self._by_instance.setdefault(entry.message.instance_id, {})[entry.message.message_id] = entry
        self._counts[entry.partition] = self._counts.get(entry.partition, 0) + 1
        self._len += 1
        self._index(entry)

    def _index(self, entry: Buffered) -> None:
        """Index an entry that is new or unlocked again."""
        entry.stamp += 1
        at = entry.message.visible_at
        if at is not None:
            item = (at, next(self._ties), entry, entry.stamp)
            heapq.heappush(self._due, item)
            shown = self._horizon is not None and at <= self._horizon
            if not shown:
                heapq.heappush(self._pending, item)
            self._compact()
            if not shown:
                return
        self._show(entry)

    def _show_until(self, now: datetime) -> bool:
        """Show the entries visible at ``now``; ``False`` if ``now`` is before the time last asked
        (the clock went back: entries already shown may not be visible at ``now``)."""
        if self._horizon is not None and now < self._horizon:
            return False
        self._horizon = now
        pending = self._pending
        while pending and pending[0][0] <= now:
            _, _, entry, stamp = heapq.heappop(pending)
            if entry.stamp == stamp:
                self._show(entry)
        return True

    def _show(self, entry: Buffered) -> None:
        first = self._first.get(entry.message.instance_id)
        if first is None or entry.order < first:
            self._rank(entry.message.instance_id, entry.order)

    def _hidden(self, instance_id: str, gone: list[Buffered]) -> None:
        """``gone`` entries were locked or removed: if one had the instance's least order, find it again."""
        first = self._first.get(instance_id)
        if first is None or all(b.order != first for b in gone):
            return
        horizon = self._horizon
        orders = [
            b.order for b in self._by_instance.get(instance_id, {}).values()
            if not b.locked and (b.message.visible_at is None
                                 or (horizon is not None and b.message.visible_at <= horizon))
        ]
        self._rank(instance_id, min(orders, default=None))

    def _rank(self, instance_id: str, first: int | None) -> None:
        old = self._first.get(instance_id)
        if old == first:
            return
        self._ids = None
        if old is not None:
            del self._ranked[bisect.bisect_left(self._ranked, (old, instance_id))]
        if first is None:
            del self._first[instance_id]
        else:
            self._first[instance_id] = first
            bisect.insort(self._ranked, (first, instance_id))

    def _compact(self) -> None:
        """Drop stale heap items once they outnumber the entries (each is dropped once: amortised)."""
        for heap in (self._due, self._pending):
            if len(heap) > 2 * self._len + 64:
                heap[:] = [item for item in heap if item[2].stamp == item[3]]
                heapq.heapify(heap)

    def _scan(self, now: datetime) -> list[str]:
        firsts = []
        for instance_id, entries in self._by_instance.items():
            orders = [b.order for b in entries.values() if not b.locked and b.visible(now)]
            if orders:
                firsts.append((min(orders), instance_id))
        return [instance_id for _, instance_id in sorted(firsts)]
