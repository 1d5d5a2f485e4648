"""An instance's first checkpoint, postponed and written with its second.

An instance's first episode usually schedules its first work and waits: ``agent_step`` calls
one activity, a workflow its first agent.  Writing that checkpoint on its own costs a table
batch and the Pending to Running row write, and nothing needs it while its start message is
durable elsewhere: in the parent's checkpoint, which keeps a sub-orchestration's start open
(:mod:`.deferred`) until a checkpoint of the child consumes it, or in its control queue, from
which a client's start is deleted only then.  So such a first episode is *postponed*: its work
items run (kept by the instance), its events are replayed by the next episode, and the next
checkpoint writes both episodes in one batch, which consumes the start.  The activity's
completion need not wait for a checkpoint before it reaches the instance either.

It is postponed only when the episode consumed nothing but such starts, sends nothing but work
items this host keeps, leaves the instance running, and the Pending row is this host's (its
insert is waited for).  The starts stay in the inbox, locked, until then.  Nothing is lost if
the host dies meanwhile: the start comes back (recovery sends it again, or its queue message
shows again) and the instance runs from the beginning (activities run at least once, as ever).
What must not happen is a completion made durable before the schedule it answers: before a completion of such a work
item is put, the postponed checkpoint is written on its own (:meth:`write_postponed`, called by
:meth:`.Delivery.hand_over`).  When a postponed checkpoint is dropped (the partition went, the
instance was started again or purged), its work items are let go of (:meth:`.Delivery.void`):
what they complete counts for nothing, and the instance may schedule them again when it runs
from its start.  Status reads meanwhile show the Pending row, as storage does.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from ...errors import StoreError, WorkItemLost
from ..base import EpisodeCommit, OrchestrationWorkItem, RuntimeStatus
from .commit import prepare_outbox
from .deferred import Deferred
from .delivery import Delivery
from .envelopes import Send
from .hub import Hub
from .inbox import Inbox
from .state import InstanceState

log = logging.getLogger("devhost.store.azure")


def merged(first: EpisodeCommit, commit: EpisodeCommit) -> EpisodeCommit:
    """``commit`` with the postponed ``first`` episode before it (its work items are kept
    already: the next checkpoint names those still open, as it does any kept send)."""
    history = commit.history if commit.new_execution else [*first.history, *commit.history]
    return replace(commit, history=history, new_execution=first.new_execution or commit.new_execution,
                   consumed=[*first.consumed, *commit.consumed])


class PostponedSteps:
    """The postponing itself, for :class:`~.orchestrations.Orchestrations`."""

    hub: Hub
    cache: dict[str, InstanceState]
    locks: dict[str, str]
    inbox: Inbox
    deferred: Deferred
    delivery: Delivery

    def _may_postpone(self, state: InstanceState, commit: EpisodeCommit) -> bool:
        """Whether the episode is a first one that only schedules work (what it consumed is
        looked at once that is durable: :meth:`_first_handed`)."""
        instance = commit.instance
        return (self.delivery.keeps and self.hub.options.postpone_first and instance is not None
                and instance.runtime_status is RuntimeStatus.RUNNING and state.postponed is None
                and state.sentinel is None and not state.history and bool(commit.consumed)
                and bool(commit.activities) and not commit.messages and not commit.started)

    async def _first_handed(self, state: InstanceState, commit: EpisodeCommit) -> list[Send] | None:
        """Hand the first episode's work items over at once (no rows to build first), and postpone
        its checkpoint if it can be: ``None``.  Else the work items handed over, for the
        checkpoint to confirm."""
        outbox, originals = await prepare_outbox(self.hub, [], commit.activities)
        ahead = self.delivery.ahead(outbox.sends, originals)
        try:
            ready = (len(ahead) == len(outbox.sends) and await self.delivery.passed(commit.consumed)
                     and all(self._durable_elsewhere(state, m) for m in commit.consumed))
            if ready and state.row_inserting is not None:
                await asyncio.shield(state.row_inserting)  # the Pending row must be this host's
        except BaseException:
            self.delivery.confirm(ahead, None)
            raise
        if not (ready and self.cache.get(state.instance_id) is state and state.row_etag is not None):
            return ahead
        self.delivery.confirm(ahead, (state.instance_id, None))  # kept by the instance itself
        self._postpone(state, commit)
        return None

    def _durable_elsewhere(self, state: InstanceState, message_id: str) -> bool:
        """A message this host holds that another instance's durable checkpoint keeps (never
        put), or that has a queue copy (a client's start: invisible while held here)."""
        entry = next((b for b in self.inbox.messages(state.instance_id) if b.message.message_id == message_id), None)
        if entry is None:
            return False
        kept = self.deferred.get(message_id)
        if kept is not None:
            return kept.sender != state.instance_id and not kept.is_work_item
        return bool(entry.copies)

    def _postpone(self, state: InstanceState, commit: EpisodeCommit) -> None:
        """Keep the episode for the next checkpoint; its messages stay in the inbox, locked (not
        consumed: they stay durable where they are until a checkpoint of this instance is written)."""
        assert commit.instance is not None
        state.postponed = commit
        state.instance = replace(commit.instance)

    def _drop_postponed(self, state: InstanceState, *, written: bool = False) -> EpisodeCommit | None:
        """Forget a postponed checkpoint; its starts are unlocked (the caller deletes them, or they
        are read again).  ``written``: storage has it after all (a write whose outcome was not
        known), so its starts are settled and its work items' completions still count."""
        first, state.postponed = state.postponed, None
        if first is None:
            return None
        self.inbox.set_locked(state.instance_id, list(first.consumed), False)
        if written:
            self.deferred.settle(first.consumed)
        else:
            self.delivery.void(state.instance_id, [a.message_id for a in first.activities])
        return first

    async def write_postponed(self, instance_id: str) -> bool:
        """Write the instance's postponed checkpoint now, if it has one.  ``True``: nothing is
        postponed (any more); ``False``: not now (an episode of the instance is committing it,
        or the write failed): ask again later."""
        state = self.cache.get(instance_id)
        if state is None or state.postponed is None:
            return True
        if instance_id in self.locks or state.instance is None:
            return False
        token = self._lock(instance_id)
        item = OrchestrationWorkItem(instance_id=instance_id, instance=replace(state.instance), history=[],
                                     messages=[], lock_token=token)
        try:
            await self.complete(item, EpisodeCommit(replace(state.instance)))
        except (StoreError, WorkItemLost) as exc:
            log.warning("could not write the postponed checkpoint of %s yet: %s", instance_id, exc)
            return False
        return state.postponed is None

    async def write_postponed_of(self, partition: int | None) -> None:
        """Before a partition (``None``: every one) is handed back: write its postponed
        checkpoints, or drop them (the parents' checkpoints still hold the starts)."""
        for state in [s for s in self.cache.values()
                      if s.postponed is not None and (partition is None or s.partition == partition)]:
            if not await self.write_postponed(state.instance_id):
                self._drop_postponed(state)

    # provided by Orchestrations
    def _lock(self, instance_id: str) -> str: ...
    async def complete(self, item: OrchestrationWorkItem, commit: EpisodeCommit) -> None: ...
