"""Finishing checkpoints that a host left open, without running finished work again.

The outbox of a checkpoint whose follow-up steps did not all happen (see
:mod:`.orchestrations`) is sent again by whoever finds it.  Control messages are idempotent
(a receiver drops an id it holds or consumed) but activity work items are not: one resent
while its original is still queued, or after it ran, runs again.  So a work item is resent
only if it left no trace: no result in the instance's history or in the inbox, and no copy
queued, prefetched, running or completed on this host.

Traces of a host that died are hidden for a while: the results it put for its own
partitions and the work items it held stay invisible until their locks run out, at most
``lock_seconds`` after it died.  So when a checkpoint inherited with a partition has work
items in its outbox, they wait for the partition's *horizon*, ``lock_seconds`` (plus a
margin) after the partition was acquired; then the partition's control queue is received
to the end, the work-item queue is swept into the prefetch buffer (up to ``max_buffered``),
and only work items without a trace are resent.  The instance takes no episode meanwhile
(its messages wait in the inbox).  No wait is needed when the outbox holds control messages
only.  (The row is written at the same time as the outbox is sent, so a row behind the
checkpoint says nothing about what was sent.)  None of this traffic is on a steady-state path.

What this cannot see: a work item of the dead host that another *live* host received after
its lock ran out (invisible to this host's sweep) may run twice.  A copy resent while the
original was past the sweep's limit is recognised by this host, which runs only one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ...engine.history import EventType
from ...errors import StoreError
from .activities import WorkItems
from .checkpoint import Outbox
from .delivery import Original
from .envelopes import WORK_ITEM, Send
from .hub import Hub
from .inbox import Inbox
from .queues import MAX_RECEIVE
from .state import InstanceState


class Orchestrations(Protocol):
    """What recovery uses of :class:`~devhost.store.azure.orchestrations.Orchestrations`."""

    locks: dict[str, str]

    def holds(self, partition: int) -> bool: ...
    async def state(self, instance_id: str) -> InstanceState: ...
    async def _write_row(self, state: InstanceState, columns: dict) -> None: ...  # type: ignore[type-arg]
    async def _send(self, outbox: Outbox, originals: dict[str, Original]) -> None: ...
    async def _mark(self, state: InstanceState) -> None: ...
    def _lock(self, instance_id: str) -> str: ...
    def _unlock(self, instance_id: str, token: str) -> None: ...


log = logging.getLogger("devhost.store.azure")
HORIZON_MARGIN = 1.0
"""Seconds added to ``lock_seconds``: a request of the dead host may reach the service late."""
_COMPLETIONS = (EventType.TaskCompleted, EventType.TaskFailed)


@dataclass
class _Partition:
    """A partition acquired recently: its inherited checkpoints wait for ``horizon``."""

    horizon: float
    pending: set[str] = field(default_factory=set)
    ready: bool = False


class Recovery:
    def __init__(
        self, hub: Hub, inbox: Inbox, orchestrations: Orchestrations, work_items: WorkItems,
        receive: Callable[[int], Awaitable[int]],
    ) -> None:
        self.hub = hub
        self.inbox = inbox
        self.orchestrations = orchestrations
        self.work_items = work_items
        self.receive = receive
        """Receive one batch from a partition's control queue into the inbox; how many came."""
        self.partitions: dict[int, _Partition] = {}

    def ready(self, partition: int) -> bool:
        """Every trace the previous owner of ``partition`` left is visible to this host."""
        record = self.partitions.get(partition)
        return record is None or record.ready

    def waiting(self, instance_id: str) -> bool:
        """The instance waits for its partition's horizon (it must not take an episode)."""
        record = self.partitions.get(self.hub.names.partition(instance_id))
        return record is not None and not record.ready and instance_id in record.pending

    def begin(self, partition: int) -> asyncio.Task[None]:
        """The partition was just acquired: finish what its previous owner left open."""
        record = _Partition(time.monotonic() + self.hub.options.lock_seconds + HORIZON_MARGIN)
        self.partitions[partition] = record
        return asyncio.ensure_future(self._run(partition, record))

    def forget(self, partition: int) -> None:
        self.partitions.pop(partition, None)

    # --- one instance ---------------------------------------------------------------------------
    async def finish(self, state: InstanceState) -> bool:
        """Finish the last checkpoint of an instance (row, outbox, mark); ``False`` when its
        outbox waits for the partition's horizon (the instance is then pending) or the
        partition is not this host's any more."""
        sentinel = state.sentinel
        assert sentinel is not None
        if not self.orchestrations.holds(state.partition):
            return False
        row_behind = state.row_etag is None or state.row_checkpoint < sentinel.checkpoint
        outbox = Outbox()
        if not sentinel.complete:  # its outbox, and what it carries of earlier ones (.deferred)
            own = sentinel.outbox_text
            if sentinel.outbox_blob:
                own = await self.hub.payloads.download(sentinel.outbox_blob)
            outbox = Outbox.decode(own)
            for text in await asyncio.gather(*(self.hub.payloads.download(b) for b in sentinel.carried_blobs)):
                outbox += Outbox(tuple(s for s in Outbox.decode(text).sends if s.kind == WORK_ITEM))
        orchestrations = self.orchestrations
        if row_behind and sentinel.snapshot and state.instance is not None:
            await orchestrations._write_row(state, dict(sentinel.snapshot))  # at once: it sends nothing
        work = any(s.kind == WORK_ITEM for s in outbox.sends)  # control messages are idempotent
        if work and not self.ready(state.partition):
            self.partitions[state.partition].pending.add(state.instance_id)
            return False
        log.info("finishing checkpoint %d of instance %s", sentinel.checkpoint, state.instance_id)
        if not sentinel.complete:
            sends = tuple(s for s in outbox.sends if not self._traced(state, s))
            await orchestrations._send(Outbox(sends, outbox.children), {})
            await orchestrations._mark(state)
        state.needs_recovery = False
        return True

    def _traced(self, state: InstanceState, send: Send) -> bool:
        """A work item that left a trace must not be sent again."""
        if send.kind != WORK_ITEM:
            return False
        if self.work_items.knows(send.message_id):
            return True
        if state.instance is None or send.execution_id != state.instance.execution_id:
            return False
        events = [*state.history, *(b.message.event for b in self.inbox.messages(state.instance_id)
                                    if b.message.execution_id in (None, send.execution_id))]
        return any(e.get("EventType") in _COMPLETIONS and e.get("TaskScheduledId") == send.task_id for e in events)

    # --- one partition --------------------------------------------------------------------------
    async def _run(self, partition: int, record: _Partition) -> None:
        try:
            instance_ids = await self.hub.history.incomplete(partition)
        except StoreError as exc:  # they are found when their messages come
            log.warning("could not look for unfinished checkpoints in partition %d: %s", partition, exc)
            instance_ids = []
        for instance_id in instance_ids:
            if self.hub.names.partition(instance_id) == partition and self.partitions.get(partition) is record:
                await self._finish(instance_id)  # rows written; what was never sent is sent now
        await asyncio.sleep(max(0.0, record.horizon - time.monotonic()))
        while record.pending and self.partitions.get(partition) is record:
            try:
                await self._reveal(partition, record.horizon)
                break
            except StoreError as exc:
                log.warning("could not read the queues to recover partition %d: %s", partition, exc)
                await asyncio.sleep(1.0)
        record.ready = True
        while record.pending and self.partitions.get(partition) is record:
            await self._finish(record.pending.pop())
        if self.partitions.get(partition) is record:
            del self.partitions[partition]

    async def _reveal(self, partition: int, horizon: float) -> None:
        """Receive the partition's control queue to the end and sweep the work-item queue."""
        limit = self.hub.options.max_buffered
        while self.inbox.count(partition) < limit and await self.receive(partition) >= MAX_RECEIVE:
            pass
        await self.work_items.sweep(after=horizon)

    async def _finish(self, instance_id: str) -> None:
        """Load the instance under its lock, which finishes its checkpoint if it can."""
        orchestrations = self.orchestrations
        while instance_id in orchestrations.locks:
            await asyncio.sleep(0.05)
        token = orchestrations._lock(instance_id)
        try:
            await orchestrations.state(instance_id)
        except StoreError as exc:  # tried again when it is next loaded
            log.warning("could not recover instance %s: %s", instance_id, exc)
        finally:
            orchestrations._unlock(instance_id, token)
