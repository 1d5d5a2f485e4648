"""The task hub store: the one interface between the engine and where state lives.

A task hub holds, per orchestration instance, one *instance row* (status, input, output,
custom status, times) and the *history* of its current execution (a list of history-event
dicts exactly as the SDK reads them: PascalCase keys, integer ``EventType``).  Work flows
through two queues: *messages* addressed to orchestration instances (the control queue:
``ExecutionStarted``, ``TaskCompleted``, ``TimerFired``, ``EventRaised``, ...) and *activity
work items* (the work-item queue).

Invariants every store keeps (the engine relies on them, the contract tests check them):

* At most one orchestration work item per instance is locked at a time, so one instance
  never runs two episodes concurrently.  Messages that arrive for a locked instance wait
  for the next work item.
* A message is removed only by :meth:`complete_orchestration_work_item` listing it in
  ``EpisodeCommit.consumed``, after the commit's effects are durable.  An abandoned or
  expired lock returns every message of the work item to the queue.
* Message ids are unique; sending a message whose id was already consumed, or is already
  queued, is a no-op (this is what makes redelivery after a crash idempotent).
* A message with ``visible_at`` is not delivered before ``now >= visible_at``; ``now`` is
  always the engine's clock, never the store's own, so virtual time works.
* An activity work item is removed only by :meth:`complete_activity_work_item`, atomically
  (or idempotently) with enqueuing its result message.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

HistoryEvent = dict[str, Any]


class RuntimeStatus(enum.StrEnum):
    """Orchestration runtime status, named as the Durable HTTP API names it."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    PENDING = "Pending"
    SUSPENDED = "Suspended"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def history_code(self) -> int:
        """The integer ``OrchestrationStatus`` used inside history events."""
        return _STATUS_CODES[self]


TERMINAL_STATUSES = frozenset(
    {RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.TERMINATED, RuntimeStatus.CANCELED}
)
_STATUS_CODES = {
    RuntimeStatus.RUNNING: 0,
    RuntimeStatus.COMPLETED: 1,
    RuntimeStatus.CONTINUED_AS_NEW: 2,
    RuntimeStatus.FAILED: 3,
    RuntimeStatus.CANCELED: 4,
    RuntimeStatus.TERMINATED: 5,
    RuntimeStatus.PENDING: 6,
    RuntimeStatus.SUSPENDED: 7,
}


@dataclass
class OrchestrationInstance:
    """One row of the instances table.  Payload fields hold JSON *text* as stored."""

    instance_id: str
    name: str
    execution_id: str
    runtime_status: RuntimeStatus
    created_time: datetime
    last_updated_time: datetime
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    completed_time: datetime | None = None
    parent_instance_id: str | None = None
    version: str = ""
    generation: int = 0


@dataclass(frozen=True)
class Message:
    """A history event addressed to an orchestration instance (a control-queue message).

    ``execution_id`` targets one execution (completions, timers); ``None`` means whatever
    execution is current (external events, terminate, suspend, resume, start).
    """

    message_id: str
    instance_id: str
    event: HistoryEvent
    execution_id: str | None = None
    visible_at: datetime | None = None


@dataclass(frozen=True)
class ActivityWorkItem:
    """One activity invocation: run ``name`` with ``input`` (JSON text) for task ``task_id``."""

    message_id: str
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None
    dequeue_count: int = 0
    lock_token: str = ""


@dataclass
class OrchestrationWorkItem:
    """A locked instance with its current state and the messages to process in one episode."""

    instance_id: str
    instance: OrchestrationInstance | None
    history: list[HistoryEvent]
    messages: list[Message]
    lock_token: str = ""


@dataclass(frozen=True)
class EpisodeCommit:
    """Everything one episode changes, committed together by the store.

    ``history`` is appended to the current execution, or replaces it when
    ``new_execution`` is set (continue-as-new, or a new generation of the same id).
    Messages of the work item not listed in ``consumed`` go back to the queue.
    """

    instance: OrchestrationInstance | None
    history: list[HistoryEvent] = field(default_factory=list)
    new_execution: bool = False
    consumed: Sequence[str] = ()
    messages: Sequence[Message] = ()
    activities: Sequence[ActivityWorkItem] = ()
    started: Sequence[tuple[OrchestrationInstance, Message]] = ()


@dataclass(frozen=True)
class InstanceQuery:
    """Filter and page for listing or purging instances (all filters optional)."""

    runtime_status: frozenset[RuntimeStatus] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    instance_id_prefix: str | None = None
    top: int = 100
    continuation_token: str | None = None


@dataclass(frozen=True)
class InstancePage:
    instances: list[OrchestrationInstance]
    continuation_token: str | None = None


class TaskHubStore(Protocol):
    """Where a task hub lives.  All methods are coroutines; none blocks the event loop."""

    hub_name: str

    async def open(self) -> None:
        """Create whatever the hub needs (tables, queues, containers); idempotent."""

    async def close(self) -> None:
        """Release connections.  Locks held are simply left to expire."""

    # --- client operations -------------------------------------------------------------
    async def create_instance(
        self, instance: OrchestrationInstance, start: Message, *, overwrite_running: bool = False,
        new_id: bool = False,
    ) -> None:
        """Write the instance row (Pending) and enqueue its ``ExecutionStarted`` message.

        Raises ``InstanceAlreadyExists`` when an instance with that id is Pending, Running,
        Suspended or ContinuedAsNew (unless ``overwrite_running``); a terminal instance is
        replaced (its history is discarded, ``generation`` increases).  ``new_id``: the host
        has just generated the id (a random UUID), so no instance can have it yet and a store
        need not look for one.
        """

    async def get_instance(self, instance_id: str) -> OrchestrationInstance | None:
        """The instance row, or ``None``."""

    async def get_history(self, instance_id: str) -> list[HistoryEvent]:
        """History of the current execution, oldest first (empty when unknown)."""

    async def query_instances(self, query: InstanceQuery) -> InstancePage:
        """Instances matching ``query``, newest first, at most ``query.top``, with a token
        to pass back for the next page (``None`` on the last page)."""

    async def purge_instance(self, instance_id: str) -> bool:
        """Delete the row, its history and pending messages; ``False`` if it did not exist."""

    async def send_messages(self, messages: Sequence[Message]) -> None:
        """Enqueue messages for orchestration instances (raise event, terminate, ...)."""

    # --- orchestration dispatcher ------------------------------------------------------
    async def lock_orchestration_work_item(self, now: datetime) -> OrchestrationWorkItem | None:
        """Lock one instance that has messages visible at ``now`` and is not locked; return
        it with its row, history and every visible message (oldest first), or ``None``."""

    async def complete_orchestration_work_item(
        self, work_item: OrchestrationWorkItem, commit: EpisodeCommit
    ) -> None:
        """Durably apply ``commit``, then delete the consumed messages and release the lock.

        Raises ``WorkItemLost`` when the lock is no longer held (nothing is applied)."""

    async def abandon_orchestration_work_item(self, work_item: OrchestrationWorkItem) -> None:
        """Release the lock; every message of the work item becomes deliverable again."""

    # --- activity dispatcher -----------------------------------------------------------
    async def lock_activity_work_item(self) -> ActivityWorkItem | None:
        """Lock and return the oldest visible activity work item, or ``None``."""

    async def renew_activity_work_item(self, work_item: ActivityWorkItem) -> ActivityWorkItem:
        """Extend the lock of a long-running activity; returns the item with its new token."""

    async def complete_activity_work_item(self, work_item: ActivityWorkItem, result: Message) -> None:
        """Enqueue ``result`` (TaskCompleted / TaskFailed) and delete the work item."""

    async def abandon_activity_work_item(self, work_item: ActivityWorkItem) -> None:
        """Make the work item deliverable again (after a worker-level error)."""

    # --- scheduling --------------------------------------------------------------------
    async def next_visible_time(self) -> datetime | None:
        """Earliest ``visible_at`` among queued messages not yet visible (durable timers)."""

    async def wait_for_work(self, timeout: float) -> None:
        """Return when new work may have been enqueued, or after ``timeout`` seconds."""
