"""What every part of the azure store shares: names, clients, options, counters."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field, fields

from ...clock import Clock, SystemClock
from .calls import StorageCalls
from .history import HistoryTable
from .instances import InstancesTable
from .names import HubNames
from .payloads import LargePayloads
from .queues import StorageQueue

_ENV_PREFIX = "DEVHOST_AZURE_"


@dataclass(frozen=True)
class AzureStoreOptions:
    """Tuning of the azure store; every field can be set from ``DEVHOST_AZURE_<FIELD>``.

    ``lock_seconds`` is how long a message or work item held by a host stays invisible to
    others (renewed while held), so also how long after a crash it comes back.
    ``lease_seconds`` is how long a partition lease outlives its last renewal.
    """

    lock_seconds: int = 30
    lease_seconds: float = 15.0
    poll_min_seconds: float = 0.05
    poll_max_seconds: float = 1.0
    checkpoint_mark_delay: float = 5.0
    row_interval_seconds: float = 1.0
    """An instance row whose runtime status did not change is written at most this often while
    the instance runs (this host answers for it from memory; the checkpoint holds it anyway)."""
    row_writes_per_round: int = 20
    """Rows put off that one housekeeping round (about a second) writes at most, longest waiting first."""
    consumed_retention_seconds: int = 900
    prefetch: int = 32
    keep_local: bool = True
    """Messages and work items a checkpoint sends to this host itself are handed over and never
    put while the host lives (the checkpoint keeps them durable, :mod:`.deferred`)."""
    postpone_first: bool = True
    """An instance's first checkpoint that only schedules work is written with its second
    (:mod:`.postponed`); ``False`` writes every checkpoint, as the Durable extension does."""
    keep_work_items: int = 1000
    """At most this many work items held (prefetched or kept) for keeping another one."""
    handover_seconds: float = 0.25
    """How long the completion of a kept work item waits in memory for the checkpoint that
    consumes it before it is put (its activity counts as done once either happened)."""
    max_buffered: int = 5000
    max_cached_instances: int = 1000
    ended_seconds: float = 10.0
    """How long an instance that ended here is answered from memory (:mod:`.ended`)."""
    dispatch: bool = True
    """Take part in dispatching (leases, polling); ``False`` makes a client-only store."""

    @classmethod
    def from_env(cls, **overrides: object) -> AzureStoreOptions:
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(_ENV_PREFIX + f.name.upper())
            if raw is not None:
                kind = type(getattr(cls, f.name))
                values[f.name] = raw.lower() in ("1", "true", "yes") if kind is bool else kind(raw)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def poll_max(self) -> float:
        """Held messages must be received again before their lock runs out."""
        return min(self.poll_max_seconds, self.lock_seconds / 4)


@dataclass
class Hub:
    names: HubNames
    options: AzureStoreOptions
    calls: StorageCalls
    payloads: LargePayloads
    instances: InstancesTable
    history: HistoryTable
    control: list[StorageQueue]
    work_items: StorageQueue
    wall: Clock = field(default_factory=SystemClock)
    work: asyncio.Event = field(default_factory=asyncio.Event)

    def holder(self, partition: int, receipt_queue: str) -> StorageQueue:
        """The queue a receipt is for: ``receipt_queue`` when named, else the partition's control queue."""
        return self.work_items if receipt_queue == self.work_items.name else self.control[partition]

    def control_queue(self, instance_id: str) -> tuple[int, StorageQueue]:
        partition = self.names.partition(instance_id)
        return partition, self.control[partition]
