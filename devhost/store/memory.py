"""In-memory task hub store: the fastest store, for tests and ``--store memory``.

Nothing survives the process.  It keeps every invariant of :mod:`devhost.store.base`.
History events are shared, not copied: the engine never mutates an event once written.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..aio import wait_event
from ..errors import InstanceAlreadyExists, WorkItemLost
from .base import (
    ActivityWorkItem,
    EpisodeCommit,
    HistoryEvent,
    InstancePage,
    InstanceQuery,
    Message,
    OrchestrationInstance,
    OrchestrationWorkItem,
    RuntimeStatus,
)

_RUNNING_STATES = frozenset(
    {RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED, RuntimeStatus.CONTINUED_AS_NEW}
)


@dataclass
class _InstanceState:
    instance: OrchestrationInstance
    history: list[HistoryEvent] = field(default_factory=list)
    locked_by: str | None = None


class MemoryStore:
    """A task hub held in dictionaries; safe for one event loop."""

    def __init__(self, hub_name: str = "DevHostHub") -> None:
        self.hub_name = hub_name
        self._instances: dict[str, _InstanceState] = {}
        self._messages: dict[str, OrderedDict[str, Message]] = {}
        self._seen_ids: set[str] = set()
        self._activities: OrderedDict[str, ActivityWorkItem] = OrderedDict()
        self._locked_activities: dict[str, ActivityWorkItem] = {}
        self._orphan_locks: dict[str, str] = {}
        self._work = asyncio.Event()

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    # --- client operations -------------------------------------------------------------
    async def create_instance(
        self, instance: OrchestrationInstance, start: Message, *, overwrite_running: bool = False,
        new_id: bool = False,
    ) -> None:
        existing = self._instances.get(instance.instance_id)
        if existing is not None:
            if existing.instance.runtime_status in _RUNNING_STATES and not overwrite_running:
                raise InstanceAlreadyExists(
                    f"An instance with ID '{instance.instance_id}' already exists "
                    f"and is {existing.instance.runtime_status.value}."
                )
            instance = replace(instance, generation=existing.instance.generation + 1)
            self._messages.pop(instance.instance_id, None)
        self._instances[instance.instance_id] = _InstanceState(copy.copy(instance))
        self._enqueue([start])

    async def get_instance(self, instance_id: str) -> OrchestrationInstance | None:
        state = self._instances.get(instance_id)
        return copy.copy(state.instance) if state else None

    async def get_history(self, instance_id: str) -> list[HistoryEvent]:
        state = self._instances.get(instance_id)
        return copy.deepcopy(state.history) if state else []

    async def query_instances(self, query: InstanceQuery) -> InstancePage:
        rows = [s.instance for s in self._instances.values() if _matches(s.instance, query)]
        rows.sort(key=lambda i: (i.created_time, i.instance_id), reverse=True)
        start = int(query.continuation_token or 0)
        page = rows[start : start + query.top]
        token = str(start + query.top) if start + query.top < len(rows) else None
        return InstancePage([copy.copy(i) for i in page], token)

    async def purge_instance(self, instance_id: str) -> bool:
        self._messages.pop(instance_id, None)
        return self._instances.pop(instance_id, None) is not None

    async def send_messages(self, messages: Sequence[Message]) -> None:
        self._enqueue(messages)

    # --- orchestration dispatcher ------------------------------------------------------
    async def lock_orchestration_work_item(self, now: datetime) -> OrchestrationWorkItem | None:
        for instance_id, queue in self._messages.items():
            state = self._instances.get(instance_id)
            if (state.locked_by if state else self._orphan_locks.get(instance_id)) is not None:
                continue
            visible = [m for m in queue.values() if m.visible_at is None or m.visible_at <= now]
            if not visible:
                continue
            token = uuid.uuid4().hex
            if state is not None:
                state.locked_by = token
            else:
                # Messages for an instance that does not exist (purged): hand them out so the
                # engine can drop them; lock them through a placeholder entry.
                self._orphan_locks[instance_id] = token
            return OrchestrationWorkItem(
                instance_id=instance_id,
                instance=copy.copy(state.instance) if state else None,
                history=list(state.history) if state else [],
                messages=visible,
                lock_token=token,
            )
        return None

    async def complete_orchestration_work_item(
        self, work_item: OrchestrationWorkItem, commit: EpisodeCommit
    ) -> None:
        self._check_lock(work_item)
        state = self._instances.get(work_item.instance_id)
        if commit.instance is not None:
            if state is None:
                state = self._instances[work_item.instance_id] = _InstanceState(copy.copy(commit.instance))
            state.instance = copy.copy(commit.instance)
            if commit.new_execution:
                state.history = list(commit.history)
            else:
                state.history.extend(commit.history)
        queue = self._messages.get(work_item.instance_id)
        if queue is not None:
            for message_id in commit.consumed:
                queue.pop(message_id, None)
            if not queue:
                del self._messages[work_item.instance_id]
        for child, start in commit.started:
            if child.instance_id not in self._instances:
                self._instances[child.instance_id] = _InstanceState(copy.copy(child))
                self._enqueue([start])
        self._enqueue(commit.messages)
        for item in commit.activities:
            if item.message_id not in self._seen_ids:
                self._seen_ids.add(item.message_id)
                self._activities[item.message_id] = item
        self._release(work_item)
        self._work.set()

    async def abandon_orchestration_work_item(self, work_item: OrchestrationWorkItem) -> None:
        if self._holds_lock(work_item):
            self._release(work_item)
            self._work.set()

    # --- activity dispatcher -----------------------------------------------------------
    async def lock_activity_work_item(self) -> ActivityWorkItem | None:
        if not self._activities:
            return None
        _, item = self._activities.popitem(last=False)
        item = replace(item, dequeue_count=item.dequeue_count + 1, lock_token=uuid.uuid4().hex)
        self._locked_activities[item.message_id] = item
        return item

    async def renew_activity_work_item(self, work_item: ActivityWorkItem) -> ActivityWorkItem:
        return work_item

    async def complete_activity_work_item(self, work_item: ActivityWorkItem, result: Message) -> None:
        if self._locked_activities.pop(work_item.message_id, None) is None:
            raise WorkItemLost(f"activity work item {work_item.message_id} is not locked")
        self._enqueue([result])

    async def abandon_activity_work_item(self, work_item: ActivityWorkItem) -> None:
        item = self._locked_activities.pop(work_item.message_id, None)
        if item is not None:
            self._activities[item.message_id] = item
            self._work.set()

    # --- scheduling --------------------------------------------------------------------
    async def next_visible_time(self) -> datetime | None:
        due = [m.visible_at for q in self._messages.values() for m in q.values() if m.visible_at]
        return min(due, default=None)

    async def wait_for_work(self, timeout: float) -> None:
        if not self._work.is_set() and not await wait_event(self._work, timeout):
            return
        self._work.clear()

    # --- internals ---------------------------------------------------------------------
    def _enqueue(self, messages: Sequence[Message]) -> None:
        for message in messages:
            if message.message_id in self._seen_ids:
                continue
            self._seen_ids.add(message.message_id)
            self._messages.setdefault(message.instance_id, OrderedDict())[message.message_id] = message
        if messages:
            self._work.set()

    def _holds_lock(self, work_item: OrchestrationWorkItem) -> bool:
        state = self._instances.get(work_item.instance_id)
        if state is not None and state.locked_by == work_item.lock_token:
            return True
        return self._orphan_locks.get(work_item.instance_id) == work_item.lock_token

    def _check_lock(self, work_item: OrchestrationWorkItem) -> None:
        if not self._holds_lock(work_item):
            raise WorkItemLost(f"instance {work_item.instance_id} is not locked by this work item")

    def _release(self, work_item: OrchestrationWorkItem) -> None:
        state = self._instances.get(work_item.instance_id)
        if state is not None and state.locked_by == work_item.lock_token:
            state.locked_by = None
        self._orphan_locks.pop(work_item.instance_id, None)


def _matches(instance: OrchestrationInstance, query: InstanceQuery) -> bool:
    if query.runtime_status and instance.runtime_status not in query.runtime_status:
        return False
    if query.created_from and instance.created_time < query.created_from:
        return False
    if query.created_to and instance.created_time > query.created_to:
        return False
    return not (query.instance_id_prefix and not instance.instance_id.startswith(query.instance_id_prefix))
