"""Sub-orchestrations a checkpoint starts: the child's row first, then its start message.

A child in a partition this host owns is started *ahead*: it is seeded (no history) and its
start is handed to the inbox while the parent's checkpoint is being written, so its first
episode runs meanwhile.  That episode's checkpoint waits until the parent's is durable and the
child's row was inserted (:meth:`.Delivery.passed`), its row write waits for that insert
(:attr:`.InstanceState.row_inserting`), and if either never happens the start is withdrawn
and the child's episode counts for nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Container, Sequence
from typing import Any

from .delivery import Delivery, Keep, Original
from .envelopes import Send
from .hub import Hub
from .instances import RowConflict
from .state import InstanceState

Child = tuple[str, dict[str, Any], Send]
"""``(instance id, Instances row columns, start message)``."""


class Children:
    def __init__(self, hub: Hub, delivery: Delivery, cache: dict[str, InstanceState],
                 seed: Callable[..., asyncio.Future[None] | None], locked: Callable[[str], bool]) -> None:
        self.hub = hub
        self.delivery = delivery
        self.cache = cache
        self.seed = seed
        self.locked = locked

    def ahead(self, children: Sequence[Child], originals: dict[str, Original]) -> set[str]:
        """Seed the children of this host's partitions and hand their starts over; the start
        message ids handed over."""
        handed: set[str] = set()
        if not self.delivery.keeps:
            return handed
        for child_id, _, start in children:
            if child_id in self.cache or self.seed(child_id, inserting=True) is None:
                continue  # an id known here, another host's partition, or the id is in an episode now
            if self.delivery.ahead([start], originals):
                handed.add(start.message_id)
            else:
                self._forget(child_id)
        return handed

    def withdraw(self, children: Sequence[Child], handed: Container[str]) -> None:
        """The parent's checkpoint was never written: take the starts back."""
        taken = [c for c in children if c[2].message_id in handed]
        self.delivery.confirm([start for _, _, start in taken], None)
        for child_id, _, _ in taken:
            self._forget(child_id)

    async def create(self, children: Sequence[Child], handed: Container[str], keep: Keep | None) -> list[Send]:
        """Insert the children's rows (the parent's checkpoint is durable); the starts to send
        as usual: those not handed over whose row is this checkpoint's, and handed ones whose
        partition went meanwhile."""
        sends = await asyncio.gather(*(self._create(child, child[2].message_id in handed, keep) for child in children))
        return [send for group in sends for send in group]

    async def _create(self, child: Child, handed: bool, keep: Keep | None) -> list[Send]:
        child_id, columns, start = child
        try:
            etag, ours = await self._insert(child_id, columns)
        except BaseException:
            if handed:
                self.withdraw([child], {start.message_id})  # recovery starts it from the checkpoint
            raise
        if not handed:
            if etag is not None:
                self.seed(child_id, etag, columns)
            return [start] if ours else []
        state = self.cache.get(child_id)
        if state is not None and state.row_inserting is not None:
            if etag is not None and state.row_etag is None:
                state.row_etag, state.row_columns, state.row_checkpoint = etag, dict(columns), 0
                state.row_written_at = time.monotonic()
            _resolve(state)
        if not ours:
            self._forget(child_id)
        return self.delivery.confirm([start], keep if ours else None)

    async def _insert(self, child_id: str, columns: dict[str, Any]) -> tuple[str | None, bool]:
        """The new row's ETag (``None``: it existed), and whether the row is this checkpoint's."""
        try:
            return await self.hub.instances.insert(child_id, columns), True
        except RowConflict:
            found = await self.hub.instances.get(child_id)
            return None, found is not None and found[0].get("ExecutionId") == columns.get("ExecutionId")

    def _forget(self, child_id: str) -> None:
        state = self.cache.get(child_id)
        if state is not None:
            _resolve(state)
            if not self.locked(child_id):
                self.cache.pop(child_id, None)


def _resolve(state: InstanceState) -> None:
    if state.row_inserting is not None and not state.row_inserting.done():
        state.row_inserting.set_result(None)
