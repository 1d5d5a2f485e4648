"""Orchestration work items on one host: lock, commit, abandon, and crash recovery.

Commit order (one :meth:`Orchestrations.complete` call per episode):

1. uploads (large fields, message bodies, a large outbox) -- harmless if the host dies here;
2. one table transaction: the new history rows + the sentinel, ``If-Match`` the ETag read
   when the instance was loaded.  This is the commit point; a mismatch means another host
   committed meanwhile and the work item is lost (nothing of it is applied).  What it sends
   this host is handed over while the batch is on the way (work items run, receivers'
   episodes run, children too: :mod:`.children`), but counts only once it is durable
   (:meth:`.Delivery.ahead`).  A child's first checkpoint may instead be postponed and written
   with its second (:mod:`.postponed`);
3. at the same time, as each can be redone from the sentinel, and after the instance's lock
   is released (its next episode runs meanwhile; its checkpoint waits: :mod:`.followups`):
   the ``Instances`` row (from
   the snapshot in the sentinel; put off while only progress changes, :mod:`.rows`); the
   outbox (child instance rows, then their start messages; messages and work items; ids
   are deterministic, and a receiver drops ids it already holds or consumed; what this
   host takes itself is kept, not put: :mod:`.deferred`); the deletion
   of the consumed queue messages (recorded in the sentinel, so a copy that comes back is
   dropped).

A host that dies after 2 leaves a sentinel with ``IsCheckpointComplete = false``: the next
owner of the partition finds it (scan on acquiring the partition, or when loading the
instance), writes the row again and resends the outbox, but no work item that left a trace
(:mod:`.recovery`; it waits until the dead host's locks have run out, to see them all).
Messages that come back after step 3 are recognised by the sentinel's consumed-message record
and deleted unseen.  Once step 3 is done, the checkpoint is marked complete lazily
(superseded for free if another episode commits first).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ...engine.history import EventType
from ...errors import StoreError, WorkItemLost
from ..base import EpisodeCommit, OrchestrationInstance, OrchestrationWorkItem
from . import codec
from .checkpoint import Outbox
from .children import Children
from .commit import Prepared, prepare, prepare_outbox
from .deferred import Deferred
from .delivery import Delivery
from .ended import Ended
from .envelopes import Send
from .followups import FollowUps, FollowUpSteps
from .history import CheckpointConflict
from .hub import Hub
from .inbox import Buffered, Inbox
from .postponed import PostponedSteps, merged
from .state import InstanceState, load

if TYPE_CHECKING:
    from .recovery import Recovery

log = logging.getLogger("devhost.store.azure")


class Orchestrations(FollowUpSteps, PostponedSteps):
    def __init__(self, hub: Hub, inbox: Inbox, owns: Callable[[int], bool], holds: Callable[[int], bool]) -> None:
        self.hub = hub
        self.inbox = inbox
        self.owns = owns
        self.holds = holds
        self.deferred = Deferred(self._settled)
        self.follow_ups = FollowUps()
        self.cache: dict[str, InstanceState] = {}
        self.ended = Ended(hub.options.ended_seconds, hub.options.max_cached_instances)
        self.locks: dict[str, str] = {}
        self.delivery: Delivery  # set by the store (it needs the work items too)
        self.recovery: Recovery  # set by the store (it needs the pump)
        self.children: Children  # set by the store (it needs the delivery)
        self.last_now: datetime | None = None
        self._recent: OrderedDict[tuple[str, str], None] = OrderedDict()

    def consumed(self, instance_id: str, message_id: str) -> bool:
        """Consumed by a checkpoint of the cached instance, or recently by this host (the
        latter also covers instances without a row, whose checkpoints record nothing)."""
        if (instance_id, message_id) in self._recent:
            return True
        state = self.cache.get(instance_id)
        return state is not None and message_id in state.consumed

    def committed(self, instance_id: str) -> OrchestrationInstance | None:
        """A copy of the instance as of its last checkpoint, if this host holds it (the state is
        then the committed one: from the sentinel's snapshot when the row is behind); before
        any, the row its start wrote here; shortly after it ended, its end (:mod:`.ended`)."""
        state = self.cache.get(instance_id)
        if state is None:
            ended = self.ended.get(instance_id)
            return ended if ended is not None and self.holds(self.hub.names.partition(instance_id)) else None
        self.ended.forget(instance_id)
        if state.instance is None or state.fresh or not self.holds(state.partition):
            return None
        if state.sentinel is not None:
            return replace(state.instance)
        row = state.row_columns if state.row_is_instance() else None
        return codec.decode_instance(instance_id, row) if row is not None and not codec.blob_refs(row) else None

    # --- lock -----------------------------------------------------------------------------------
    async def lock(self, now: datetime) -> OrchestrationWorkItem | None:
        self.last_now = now
        for instance_id in self.inbox.iter_ready(now):
            if (instance_id in self.locks or not self.owns(self.hub.names.partition(instance_id))
                    or self.recovery.waiting(instance_id)):
                continue
            token = self._lock(instance_id)
            try:
                item = await self._take(instance_id, token, now)
            except StoreError as exc:  # leave its messages for a later try; other instances may work
                log.warning("could not lock instance %s: %s", instance_id, exc)
                item = None
            except BaseException:
                self._unlock(instance_id, token)
                raise
            if item is not None:
                return item
            self._unlock(instance_id, token)
        return None

    async def _take(self, instance_id: str, token: str, now: datetime) -> OrchestrationWorkItem | None:
        cached = instance_id in self.cache
        state = await self.state(instance_id)
        entries = self.inbox.visible(instance_id, now)
        if cached and _restarted_elsewhere(state, entries):
            self._drop_postponed(self.cache.pop(instance_id))
            state = await self.state(instance_id)
        if state.needs_recovery and not self.follow_ups.pending(instance_id):
            return None  # its last checkpoint waits for the partition's horizon (.recovery)
        if state.adopt_start(b.message for b in entries) and (first := self._drop_postponed(state)):
            await self._delete(instance_id, list(first.consumed))  # started again: superseded
            entries = self.inbox.visible(instance_id, now)
        duplicates = [
            b for b in entries
            if b.message.message_id in state.consumed or (instance_id, b.message.message_id) in self._recent
        ]
        if duplicates:
            await self._delete(instance_id, [b.message.message_id for b in duplicates])
        entries = [b for b in entries if b not in duplicates]
        if not entries:
            return None
        self.inbox.set_locked(instance_id, [b.message.message_id for b in entries], True)
        return OrchestrationWorkItem(
            instance_id=instance_id,
            instance=replace(state.instance) if state.instance else None,
            history=state.replayed(),
            messages=[b.message for b in entries],
            lock_token=token,
        )

    async def state(self, instance_id: str) -> InstanceState:
        """The cached state (loading it, and finishing an interrupted checkpoint, if needed).
        The caller holds the instance's lock."""
        state = self.cache.pop(instance_id, None)
        if state is None:
            state = await load(self.hub, instance_id)
        if self.holds(state.partition):
            self.cache[instance_id] = state  # most recently used last
            self._evict()
        if state.needs_recovery and not self.follow_ups.pending(instance_id):
            await self.recovery.finish(state)
        return state

    # --- complete / abandon -----------------------------------------------------------------------
    async def complete(self, item: OrchestrationWorkItem, commit: EpisodeCommit) -> None:
        instance_id = item.instance_id
        if self.locks.get(instance_id) != item.lock_token:
            raise WorkItemLost(f"instance {instance_id} is not locked by this work item")
        follow_up: asyncio.Future[None] | None = None
        try:
            if not self.holds(self.hub.names.partition(instance_id)):
                raise WorkItemLost(f"this host no longer owns the partition of instance {instance_id}")
            if commit.instance is None:
                await self._complete_without_instance(instance_id, commit)
                return
            state = self.cache.get(instance_id)
            if state is None:
                raise WorkItemLost(f"instance {instance_id} changed while its episode ran")
            handed_first = None
            if state.postponed is not None:
                commit = merged(state.postponed, commit)
            elif self._may_postpone(state, commit):
                handed_first = await self._first_handed(state, commit)
                if handed_first is None:
                    return  # postponed
            carried = self.deferred.carried(instance_id, commit.consumed)
            prepared = await prepare(self.hub, state, commit, self.hub.wall.now(), carried)
            outbox, handed = await self._checkpoint(state, prepared, commit.consumed, handed_first)
            state.postponed = None
            state.instance = replace(commit.instance)
            state.needs_recovery = True  # until the row and the outbox are out
            taken = self._consume(instance_id, list(commit.consumed))
            follow_up = self.follow_ups.start(
                instance_id, self._follow_up(state, prepared, outbox, handed, taken))
        finally:
            self._unlock(instance_id, item.lock_token)  # the next episode may run during the follow-up
        if follow_up is not None:
            await asyncio.shield(follow_up)

    async def abandon(self, item: OrchestrationWorkItem) -> None:
        self._unlock(item.instance_id, item.lock_token)

    async def _checkpoint(self, state: InstanceState, prepared: Prepared, consumed: Sequence[str],
                          ahead: list[Send] | None = None) -> tuple[Outbox, set[str]]:
        """Write the checkpoint once the messages it consumed are durable at their senders,
        handing what it sends this host over meanwhile (:meth:`.Delivery.ahead`,
        :meth:`.Children.ahead`; ``ahead``: handed over already); the rest of its outbox, to send
        now, and the children's starts handed over."""
        etag = state.sentinel.etag if state.sentinel else None
        columns = prepared.sentinel.columns(state.partition, self.hub.wall.now())
        if ahead is None:
            ahead = self.delivery.ahead(prepared.outbox.sends, prepared.originals)
        handed = self.children.ahead(prepared.outbox.children, prepared.originals)
        try:
            if not await self.delivery.passed(consumed):
                raise WorkItemLost(f"instance {state.instance_id} consumed a message of a checkpoint never written")
            await self.follow_ups.wait(state.instance_id)
            if state.needs_recovery:
                raise WorkItemLost(f"the last checkpoint of instance {state.instance_id} is unfinished")
            new_etag = await self.hub.history.write(state.instance_id, prepared.rows, columns, etag)
        except BaseException as exc:
            self.delivery.confirm(ahead, None)
            self.children.withdraw(prepared.outbox.children, handed)
            if isinstance(exc, CheckpointConflict):
                self._drop_postponed(state, written=True)  # storage has the instance's truth now
            if isinstance(exc, StoreError) and (state.postponed is None or isinstance(exc, CheckpointConflict)):
                self.cache.pop(state.instance_id, None)  # committed elsewhere, or unknown outcome: read it again
            if isinstance(exc, CheckpointConflict):
                raise WorkItemLost(f"instance {state.instance_id} was committed by someone else") from exc
            raise
        prepared.sentinel.etag = new_etag
        state.sentinel = prepared.sentinel
        state.history = prepared.history
        state.fresh = False
        self.deferred.moved(state.instance_id, prepared.sentinel.outbox_blob)
        rest = self.delivery.confirm(ahead, (state.instance_id, prepared.sentinel.outbox_blob))
        taken = {s.message_id for s in ahead} - {s.message_id for s in rest}
        sends = tuple(s for s in prepared.outbox.sends if s.message_id not in taken)
        return replace(prepared.outbox, sends=sends), handed

    async def _complete_without_instance(self, instance_id: str, commit: EpisodeCommit) -> None:
        """Messages for an instance that does not exist: send what the commit sends, drop the rest."""
        self.cache.pop(instance_id, None)
        outbox, originals = await prepare_outbox(self.hub, commit.messages, commit.activities, commit.started)
        await self._send(outbox, originals)
        await self._delete(instance_id, list(commit.consumed))

    # --- arrivals and partitions --------------------------------------------------------------------
    def forget_partition(self, partition: int) -> None:
        """Drop what this host held for a partition it no longer owns (no storage calls)."""
        self.inbox.remove_partition(partition)
        self.recovery.forget(partition)
        for instance_id in [i for i, s in self.cache.items() if s.partition == partition]:
            self._drop_postponed(self.cache.pop(instance_id))  # the starts come back to the next owner

    async def drain_partition(self, partition: int, *, wait: bool) -> None:
        """Before handing a partition back: wait for its episodes (if ``wait``: a work item is
        never locked by two hosts), finish its checkpoints, and make its due messages visible
        again so the next owner sees them at once (on shutdown, messages of a work item still
        locked come back when their lock runs out)."""
        while wait and any(self.hub.names.partition(i) == partition for i in self.locks):
            await self.hub.wall.sleep(0.05)
        await self.follow_ups.drain(i for i, s in self.cache.items() if s.partition == partition)
        await self.write_postponed_of(partition)
        await self.delivery.flush_partition(partition)
        for state in [s for s in self.cache.values() if s.partition == partition]:
            if state.mark_due is not None and state.instance_id not in self.locks:
                state.mark_due = 0.0
        await self.housekeeping()
        now = self.last_now
        taken = self.inbox.remove_partition(partition)
        due = [b for b in taken if not b.locked and (b.message.visible_at is None or (now and b.visible(now)))]
        await asyncio.gather(*(self.hub.holder(partition, r.queue).set_visibility(r, 0)
                               for b in due for r in b.copies.values()))

    async def forget_instance(self, instance_id: str) -> None:
        """The instance was started again or purged: drop its state and unlocked messages."""
        self.ended.forget(instance_id)
        if instance_id not in self.locks:
            state = self.cache.pop(instance_id, None)
            if state is not None:
                self._drop_postponed(state)  # its starts are deleted with the rest
            await self._delete(instance_id, [b.message.message_id for b in self.inbox.messages(instance_id)])

    def seed(self, instance_id: str, row_etag: str | None = None, row: dict | None = None,  # type: ignore[type-arg]
             *, inserting: bool = False) -> asyncio.Future[None] | None:
        """Cache an instance this host just created, with no history and the row it wrote (if
        any), so its first episode reads nothing.  Should the guess be stale, the commit's
        condition on the sentinel fails and the instance is read again.  ``inserting``: the
        caller inserts the row next, and resolves the future returned once it has (its first
        checkpoint waits for that rather than race it: one insert, no conflict)."""
        partition = self.hub.names.partition(instance_id)
        if instance_id in self.locks or not self.holds(partition):
            return None
        self.cache.pop(instance_id, None)
        state = InstanceState(instance_id, partition, None, row_etag=row_etag)
        if row is not None:
            state.row_columns, state.row_checkpoint = dict(row), int(row.get("Checkpoint") or 0)
            state.row_written_at = time.monotonic()
        if inserting:
            state.row_inserting = asyncio.get_running_loop().create_future()
        self.cache[instance_id] = state
        self._evict()
        return state.row_inserting

    def row_written(self, instance: OrchestrationInstance, row_etag: str, columns: dict) -> None:  # type: ignore[type-arg]
        """A starting client wrote the Pending row of a seeded instance: keep it and its ETag."""
        state = self.cache.get(instance.instance_id)
        if state is None or state.row_etag is not None:
            return
        if state.row_inserting is None and (instance.instance_id in self.locks or state.sentinel is not None):
            return  # an episode is committing, not waiting for this insert: it reconciles the row itself
        if state.instance is None:
            state.instance = replace(instance)
        if state.instance.execution_id == instance.execution_id:
            state.row_etag, state.row_checkpoint, state.row_written_at = row_etag, 0, time.monotonic()
            state.row_columns = dict(columns)

    def _evict(self) -> None:
        """Keep at most ``max_cached_instances`` idle instances in memory, least recently used out."""
        excess = len(self.cache) - self.hub.options.max_cached_instances
        if excess <= 0:
            return
        for instance_id, state in list(self.cache.items()):
            if excess <= 0:
                break
            if (instance_id not in self.locks and state.mark_due is None and not state.needs_recovery
                    and state.postponed is None and not self.deferred.open(instance_id)
                    and not self.follow_ups.pending(instance_id)):
                del self.cache[instance_id]
                excess -= 1

    # --- locks --------------------------------------------------------------------------------------
    def _lock(self, instance_id: str) -> str:
        token = uuid.uuid4().hex
        self.locks[instance_id] = token
        return token

    def _unlock(self, instance_id: str, token: str) -> None:
        if self.locks.get(instance_id) == token:
            del self.locks[instance_id]
            state = self.cache.get(instance_id)
            self.inbox.unlock_all(instance_id, but=state.postponed.consumed if state and state.postponed else ())
            if self.inbox.messages(instance_id):
                self.hub.work.set()


def _restarted_elsewhere(state: InstanceState, entries: list[Buffered]) -> bool:
    """An ``ExecutionStarted`` for another execution than the cached one: the id was started
    again (possibly by another host), so the cached state may be stale."""
    if state.instance is None:
        return False  # nothing known to be stale: a start is adopted (seeded, or no row yet)
    current = state.instance.execution_id
    return any(
        b.message.event.get("EventType") == EventType.ExecutionStarted and b.message.execution_id != current
        for b in entries
    )
