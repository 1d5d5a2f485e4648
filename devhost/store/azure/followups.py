"""The follow-up steps of a checkpoint, run once the instance's lock is released.

Once a checkpoint is durable, what is left (the ``Instances`` row, the outbox, deleting the
consumed queue messages) can be redone from its sentinel, so the instance's next episode
need not wait for it: the episode runs meanwhile, and only its own checkpoint waits for the
follow-up (:meth:`FollowUps.wait`), which keeps one instance's writes in their order.  The
commit that started it still returns only once it is over (and fails with it).  A follow-up
that fails leaves the checkpoint to recovery, and the checkpoint that waited for it is not
written (its work item is lost, its messages come back).

Later, housekeeping marks a checkpoint complete once all it sent is settled, writes a row that
was put off, and finishes a checkpoint whose follow-up failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Container, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from ...aio import gather_all
from ...errors import StoreError, WorkItemLost
from . import rows
from .checkpoint import Outbox
from .children import Children
from .commit import Prepared
from .deferred import Deferred
from .delivery import Delivery, Keep, Original
from .ended import Ended
from .history import CheckpointConflict
from .hub import Hub
from .inbox import Buffered, Inbox
from .state import InstanceState

if TYPE_CHECKING:
    from .recovery import Recovery

log = logging.getLogger("devhost.store.azure")

_RECENT = 100_000


class FollowUps:
    """At most one follow-up in flight per instance (the next starts after the next checkpoint)."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Future[None]] = {}

    def start(self, instance_id: str, step: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
        task = asyncio.ensure_future(step)
        self._tasks[instance_id] = task
        task.add_done_callback(lambda t: self._done(instance_id, t))
        return task

    def pending(self, instance_id: str) -> bool:
        return instance_id in self._tasks

    async def wait(self, instance_id: str) -> None:
        """Until the instance's follow-up (if any) is over; its outcome is the instance's state."""
        task = self._tasks.get(instance_id)
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    async def drain(self, instance_ids: Iterable[str] | None = None) -> None:
        """Until the follow-ups of ``instance_ids`` (default: all) are over."""
        wanted = set(self._tasks) if instance_ids is None else set(instance_ids) & set(self._tasks)
        await asyncio.gather(*(asyncio.shield(self._tasks[i]) for i in wanted), return_exceptions=True)

    def cancel(self) -> None:
        """Cut them off where they are, as a killed process would (crash tests)."""
        for task in list(self._tasks.values()):
            task.cancel()

    def _done(self, instance_id: str, task: asyncio.Future[None]) -> None:
        if self._tasks.get(instance_id) is task:
            del self._tasks[instance_id]
        if not task.cancelled():
            task.exception()  # retrieved: the checkpoint's committer reports it


class FollowUpSteps:
    """The steps themselves, for :class:`~.orchestrations.Orchestrations` (and its recovery), and
    what housekeeping finishes later."""

    hub: Hub
    inbox: Inbox
    cache: dict[str, InstanceState]
    ended: Ended
    locks: dict[str, str]
    deferred: Deferred
    delivery: Delivery
    children: Children
    follow_ups: FollowUps
    recovery: Recovery
    _recent: OrderedDict[tuple[str, str], None]

    def _lock(self, instance_id: str) -> str: ...
    def _unlock(self, instance_id: str, token: str) -> None: ...

    async def _follow_up(self, state: InstanceState, prepared: Prepared, outbox: Outbox, handed: set[str],
                         taken: list[Buffered]) -> None:
        """Row, outbox and queue deletions of a durable checkpoint: independent of each other
        (one round trip of latency); on failure the checkpoint is left to recovery."""
        instance_id = state.instance_id
        try:
            await gather_all(
                self._row(state, prepared.row),
                self._send(outbox, prepared.originals, (instance_id, prepared.sentinel.outbox_blob), handed),
                self._delete_copies(taken),
            )
        except Exception as exc:  # finished from the sentinel: by housekeeping, or the next owner
            if not isinstance(exc, WorkItemLost) and self.cache.get(instance_id) is state:
                state.mark_due = time.monotonic()  # retry soon
            raise
        state.needs_recovery = False
        if not prepared.sentinel.complete:
            if _ended(state) and not prepared.outbox:  # open for its row only, which is out: nothing follows
                with contextlib.suppress(StoreError):
                    await self._mark(state)
            if not state.sentinel or not state.sentinel.complete:
                due = time.monotonic() + self.hub.options.checkpoint_mark_delay
                state.mark_due = due if state.mark_due is None else min(state.mark_due, due)
        self._retire(state)

    def _retire(self, state: InstanceState) -> None:
        """Drop an ended instance whose checkpoint is complete from the cache: it is read again if
        anything still comes, and :attr:`ended` answers the status reads that follow."""
        instance_id = state.instance_id
        if (_ended(state) and state.sentinel is not None and state.sentinel.complete
                and not self.deferred.open(instance_id) and instance_id not in self.locks
                and self.cache.get(instance_id) is state):
            assert state.instance is not None
            self.cache.pop(instance_id, None)
            self.ended.keep(state.instance)

    async def _row(self, state: InstanceState, columns: dict) -> None:  # type: ignore[type-arg]
        if state.row_inserting is not None:
            await asyncio.shield(state.row_inserting)  # a client's insert of the Pending row
            state.row_inserting = None
        if not rows.put_off(self.hub, state, columns):
            await self._write_row(state, columns)

    async def _write_row(self, state: InstanceState, columns: dict) -> None:  # type: ignore[type-arg]
        if not await rows.write(self.hub, state, columns) and self.cache.get(state.instance_id) is state:
            self.cache.pop(state.instance_id, None)

    async def _send(self, outbox: Outbox, originals: dict[str, Original], keep: Keep | None = None,
                    handed: Container[str] = ()) -> None:
        starts = await self.children.create(outbox.children, handed, keep)
        await self.delivery.send([*outbox.sends, *starts], originals, early=True, keep=keep)  # the sentinel keeps them

    async def _delete(self, instance_id: str, message_ids: list[str]) -> None:
        """Delete consumed messages (every queue copy) and remember their ids."""
        await self._delete_copies(self._consume(instance_id, message_ids))

    def _consume(self, instance_id: str, message_ids: list[str]) -> list[Buffered]:
        """Remember consumed messages and take them out of the inbox; their queue copies, to delete."""
        for message_id in message_ids:
            self._recent[(instance_id, message_id)] = None
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        self.deferred.settle(message_ids)  # kept ones: consumed by a durable checkpoint
        self.delivery.durable(message_ids)
        return self.inbox.remove(instance_id, message_ids)

    async def _delete_copies(self, taken: list[Buffered]) -> None:
        await asyncio.gather(*(self.hub.holder(b.partition, r.queue).delete(r)
                               for b in taken for r in b.copies.values()))

    # --- later: marks, rows put off, unfinished checkpoints --------------------------------------
    async def _mark(self, state: InstanceState) -> None:
        sentinel = state.sentinel
        if sentinel is None or sentinel.etag is None or sentinel.complete or self.deferred.open(state.instance_id):
            return  # kept sends still open: marked once they are settled (:meth:`_settled`)
        columns = {"IsCheckpointComplete": True, "CheckpointCompletedTimestamp": self.hub.wall.now(),
                   "Outbox": "", "OutboxBlobName": "", "CarriedOutboxBlobs": ""}
        try:
            sentinel.etag = await self.hub.history.mark_complete(state.instance_id, sentinel.etag, columns)
        except CheckpointConflict:
            self.cache.pop(state.instance_id, None)
            return
        sentinel.complete, sentinel.outbox_text, sentinel.outbox_blob, sentinel.carried_blobs = True, None, None, ()

    def _settled(self, sender: str) -> None:
        """Every kept send of ``sender`` is settled: its checkpoint can be marked complete."""
        state = self.cache.get(sender)
        if state is not None and state.sentinel is not None and not state.sentinel.complete:
            due = time.monotonic() + self.hub.options.checkpoint_mark_delay
            state.mark_due = due if state.mark_due is None else min(state.mark_due, due)

    async def housekeeping(self, row_budget: int | None = None) -> None:
        """Mark finished checkpoints complete, retry unfinished ones (instances not in an episode),
        write rows put off: at most ``row_budget`` of them, those waiting longest first (the rest
        wait for the next round: under load, list queries lag rather than the work)."""
        now = time.monotonic()
        due = [s for s in self.cache.values() if s.mark_due is not None and s.mark_due <= now
               and s.instance_id not in self.locks and not self.follow_ups.pending(s.instance_id)]
        due.sort(key=lambda s: s.row_written_at)
        for state in due:
            instance_id = state.instance_id
            if (instance_id in self.locks or self.cache.get(instance_id) is not state
                    or self.follow_ups.pending(instance_id)):
                continue
            if state.row_pending is not None and row_budget is not None:
                if row_budget <= 0:
                    state.mark_due = now + 0.5
                    continue
                row_budget -= 1
            token = self._lock(instance_id)
            try:
                if state.needs_recovery:
                    await self.recovery.finish(state)  # or left to the partition's recovery
                else:
                    if state.row_pending is not None:
                        await self._write_row(state, state.row_pending)
                        state.row_pending = None
                    await self._mark(state)
                state.mark_due = None
            except StoreError as exc:
                log.warning("could not finish the checkpoint of %s yet: %s", instance_id, exc)
                state.mark_due = now + 1.0
                continue
            finally:
                self._unlock(instance_id, token)
            self._retire(state)


def _ended(state: InstanceState) -> bool:
    return state.instance is not None and state.instance.runtime_status.is_terminal
