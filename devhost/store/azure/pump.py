"""The store's background loops: leases, queue polling, housekeeping.

* leases: every ``lease_seconds / 3`` renew, claim, hand back (:mod:`.leases`);
* one poller per control queue this host owns, and one for the work-item queue: receive
  when there is room, back off from ``poll_min_seconds`` to ``poll_max_seconds`` while the
  queue is empty (a message this host sends to itself needs no poll at all);
* housekeeping: lazy checkpoint marks, unfinished checkpoints, work-item lock renewal.

A loop that fails logs and tries again after a pause; it never takes the store down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ...aio import wait_event
from .activities import WorkItems
from .hub import Hub
from .inbox import Inbox
from .leases import PartitionLeases
from .orchestrations import Orchestrations
from .queues import MAX_RECEIVE

log = logging.getLogger("devhost.store.azure")


class Pump:
    def __init__(
        self, hub: Hub, leases: PartitionLeases, inbox: Inbox, orchestrations: Orchestrations, work_items: WorkItems
    ) -> None:
        self.hub = hub
        self.leases = leases
        self.inbox = inbox
        self.orchestrations = orchestrations
        self.work_items = work_items
        self.pokes = [asyncio.Event() for _ in range(hub.names.partition_count)]
        self._receiving = [asyncio.Lock() for _ in range(hub.names.partition_count)]
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        options = self.hub.options
        self._spawn("leases", self.leases.tick, lambda: options.lease_seconds / 3)
        self._spawn("housekeeping", self._housekeeping, lambda: min(1.0, options.lock_seconds / 6))
        for partition in range(self.hub.names.partition_count):
            self.tasks.append(asyncio.ensure_future(self._poll_control(partition)))
        self.tasks.append(asyncio.ensure_future(self._poll_work_items()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []

    def poke(self, partition: int) -> None:
        self.pokes[partition].set()

    async def poll_once(self, partition: int) -> int:
        """Receive one batch from a control queue this host owns; how many arrived.  One at a
        time per queue, so a batch that returns short means every visible message is in."""
        async with self._receiving[partition]:
            received = await self.hub.control[partition].receive(MAX_RECEIVE, self.hub.options.lock_seconds)
            await self.orchestrations.arrive(partition, received)
        return len(received)

    # --- loops --------------------------------------------------------------------------------
    def _spawn(self, name: str, step: Callable[[], Awaitable[None]], interval: Callable[[], float]) -> None:
        async def loop() -> None:
            while True:
                await self.hub.wall.sleep(interval())
                try:
                    await step()
                except Exception:
                    log.warning("%s of task hub %s failed; retrying", name, self.hub.names.hub, exc_info=True)

        self.tasks.append(asyncio.ensure_future(loop()))

    async def _housekeeping(self) -> None:
        await self.orchestrations.housekeeping(self.hub.options.row_writes_per_round)
        await self.work_items.renew_due()

    async def _poll_control(self, partition: int) -> None:
        options = self.hub.options
        delay = options.poll_min_seconds
        while True:
            try:
                busy = self.leases.owns(partition) and self.inbox.count(partition) < options.max_buffered
                got = await self.poll_once(partition) if busy else 0
            except Exception:
                log.warning("polling %s failed", self.hub.control[partition].name, exc_info=True)
                got = 0
                delay = options.poll_max
            if got >= MAX_RECEIVE:
                continue
            delay = options.poll_min_seconds if got else min(delay * 2, options.poll_max)
            await _wait(self.pokes[partition], delay)

    async def _poll_work_items(self) -> None:
        """Refill the prefetch buffer once half of it is taken; receive again at once after
        a full batch (more is waiting), back off while the queue is empty."""
        options = self.hub.options
        delay = options.poll_min_seconds
        while True:
            room = self.work_items.room
            if room <= 0 or (room < options.prefetch // 2 and self.work_items.prefetched):
                await _wait(self.work_items.room_freed, options.poll_max)
                continue
            asked = min(room, MAX_RECEIVE)
            try:
                got = await self.work_items.poll(asked)
            except Exception:
                log.warning("polling %s failed", self.hub.work_items.name, exc_info=True)
                got, delay = 0, options.poll_max
            if got >= asked:
                continue
            delay = options.poll_min_seconds if got else min(delay * 2, options.poll_max)
            await self.hub.wall.sleep(delay)


async def _wait(event: asyncio.Event, timeout: float) -> None:
    await wait_event(event, timeout)
    event.clear()
