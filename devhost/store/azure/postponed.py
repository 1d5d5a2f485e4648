"""A sub-orchestration's first checkpoint, postponed and written with its second.

A child this host started *ahead* (:mod:`.children`) usually runs one episode that schedules
its work and waits: ``agent_step`` calls one activity.  Writing that checkpoint on its own
costs a table batch and the Pending to Running row write, and nothing needs it: its start
message stays durable in the parent's checkpoint, which keeps it open (:mod:`.deferred`) until
a checkpoint of the child consumes it.  So such a first episode is *postponed*: its work items
run (kept by the child), its events are replayed by the next episode, and the next checkpoint
writes both episodes in one batch, which settles the start.

It is postponed only when the episode consumed nothing but starts kept by another instance's
durable checkpoint, sends nothing but work items this host keeps, leaves the instance running,
and the child's Pending row is this host's.  Nothing is lost if the host dies meanwhile: the
parent's checkpoint is still open, so recovery sends the start again and the child runs from
the beginning (its activities run at least once, as ever).  What must not happen is a
completion made durable before the schedule it answers: before a completion of such a work
item is put, the postponed checkpoint is written on its own (:meth:`write_postponed`, called by
:meth:`.Delivery.hand_over`), and one whose postponed checkpoint was dropped (the partition
went, the instance was purged) counts for nothing.  Status reads meanwhile show the Pending
row, as storage does.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

from ...errors import StoreError, WorkItemLost
from ..base import EpisodeCommit, OrchestrationWorkItem, RuntimeStatus
from .deferred import Deferred
from .envelopes import Send
from .inbox import Inbox
from .state import InstanceState

log = logging.getLogger("devhost.store.azure")
_DROPPED = 10_000


def merged(first: EpisodeCommit, commit: EpisodeCommit) -> EpisodeCommit:
    """``commit`` with the postponed ``first`` episode before it (its work items are kept
    already: the next checkpoint names those still open, as it does any kept send)."""
    history = commit.history if commit.new_execution else [*first.history, *commit.history]
    return replace(commit, history=history, new_execution=first.new_execution or commit.new_execution,
                   consumed=[*first.consumed, *commit.consumed])


class PostponedSteps:
    """The postponing itself, for :class:`~.orchestrations.Orchestrations`."""

    cache: dict[str, InstanceState]
    locks: dict[str, str]
    inbox: Inbox
    deferred: Deferred
    _recent: OrderedDict[tuple[str, str], None]
    _dropped: OrderedDict[str, None]

    async def _postpones(self, state: InstanceState, commit: EpisodeCommit, sends: Sequence[Send],
                         ahead: Sequence[Send], keeps: bool) -> bool:
        """Whether this checkpoint (its waits for what it consumed passed) can be postponed;
        waits for the insert of the child's row first."""
        instance, consumed = commit.instance, list(commit.consumed)
        if not (keeps and instance is not None and instance.runtime_status is RuntimeStatus.RUNNING
                and state.postponed is None and state.sentinel is None and not state.history
                and consumed and commit.activities and not commit.messages and not commit.started
                and len(ahead) == len(sends) and all(self._kept_elsewhere(state, m) for m in consumed)):
            return False
        if state.row_inserting is not None:
            await asyncio.shield(state.row_inserting)
        return self.cache.get(state.instance_id) is state and state.row_etag is not None

    def _kept_elsewhere(self, state: InstanceState, message_id: str) -> bool:
        """A message another instance's durable checkpoint keeps, never put (no queue copy)."""
        kept = self.deferred.get(message_id)
        if kept is None or kept.sender == state.instance_id or kept.is_work_item:
            return False
        return not any(b.copies for b in self.inbox.messages(state.instance_id) if b.message.message_id == message_id)

    def _postpone(self, state: InstanceState, commit: EpisodeCommit) -> None:
        """Keep the episode for the next checkpoint: its messages are taken (not settled: their
        senders keep them until a checkpoint of this instance is written)."""
        assert commit.instance is not None
        state.postponed = commit
        state.instance = replace(commit.instance)
        for message_id in commit.consumed:
            self._recent[(state.instance_id, message_id)] = None
        self.inbox.remove(state.instance_id, list(commit.consumed))

    def postponed_dropped(self, instance_id: str) -> bool:
        """The instance's postponed checkpoint will never be written here: what its work items
        complete counts for nothing."""
        return instance_id in self._dropped

    def _drop_postponed(self, state: InstanceState, *, settle: bool) -> None:
        """Forget a postponed checkpoint (``settle``: its starts are superseded, not to be sent again)."""
        first, state.postponed = state.postponed, None
        if first is None:
            return
        self._dropped[state.instance_id] = None
        while len(self._dropped) > _DROPPED:
            self._dropped.popitem(last=False)
        if settle:
            self.deferred.settle(first.consumed)

    async def write_postponed(self, instance_id: str) -> bool | None:
        """Write the instance's postponed checkpoint now, if it has one.  ``True``: nothing is
        postponed (any more); ``False``: it was dropped; ``None``: not now (an episode of the
        instance is committing it, or the write failed): ask again later."""
        if instance_id in self._dropped:
            return False
        state = self.cache.get(instance_id)
        if state is None or state.postponed is None:
            return True
        if instance_id in self.locks or state.instance is None:
            return None
        token = self._lock(instance_id)
        item = OrchestrationWorkItem(instance_id=instance_id, instance=replace(state.instance), history=[],
                                     messages=[], lock_token=token)
        try:
            await self.complete(item, EpisodeCommit(replace(state.instance)))
        except (StoreError, WorkItemLost) as exc:
            log.warning("could not write the postponed checkpoint of %s yet: %s", instance_id, exc)
            return None
        return state.postponed is None

    async def write_postponed_of(self, partition: int | None) -> None:
        """Before a partition (``None``: every one) is handed back: write its postponed
        checkpoints, or drop them (the parents' checkpoints still hold the starts)."""
        for state in [s for s in self.cache.values()
                      if s.postponed is not None and (partition is None or s.partition == partition)]:
            if await self.write_postponed(state.instance_id) is not True:
                self._drop_postponed(state, settle=False)

    # provided by Orchestrations
    def _lock(self, instance_id: str) -> str: ...
    async def complete(self, item: OrchestrationWorkItem, commit: EpisodeCommit) -> None: ...
