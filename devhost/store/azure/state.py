"""What this host knows about one instance: read from the tables, kept while it owns the
instance's partition, and the rules that reconcile the instance row with the sentinel.

Source of truth is the history partition: its sentinel names the execution, the history
length, the generation and (``Instance_*``) the instance row the last checkpoint produced.
The ``Instances`` row is a projection written right after the checkpoint; when it is
behind (a crash between the two writes) the snapshot wins and the row is written again.
A row of a newer generation than the sentinel (the id was started again) means the stored
history is discarded: the instance starts with an empty history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...engine.history import EventType, parse_timestamp
from ...errors import StoreError
from ..base import EpisodeCommit, HistoryEvent, Message, OrchestrationInstance, RuntimeStatus
from . import codec, names
from .checkpoint import ConsumedRecord, Sentinel
from .hub import Hub
from .payloads import too_large_for_table

ENTITY_LIMIT = 900_000
"""Bytes a row may take before more of its text goes to blobs (the service limit is 1 MiB)."""


@dataclass
class InstanceState:
    instance_id: str
    partition: int
    instance: OrchestrationInstance | None
    history: list[HistoryEvent] = field(default_factory=list)
    sentinel: Sentinel | None = None
    fresh: bool = False
    """The stored history is of an older generation: the next checkpoint starts at row 0."""
    row_etag: str | None = None
    row_checkpoint: int = -1
    row_columns: dict[str, Any] | None = None
    blobs: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Offloaded payload column -> (text, blob name), reused while the text is unchanged."""
    needs_recovery: bool = False
    mark_due: float | None = None
    """When (monotonic) housekeeping should finish the last checkpoint: mark it, write a row left pending."""
    row_pending: dict[str, Any] | None = None
    """Row columns of a checkpoint whose row write was put off (:meth:`~.orchestrations.Orchestrations.complete`)."""
    row_written_at: float = float("-inf")
    row_inserting: asyncio.Future[None] | None = None
    """A client (or the parent) of this host is inserting the Pending row: a row write waits for it."""
    postponed: EpisodeCommit | None = None
    """The first episode, run but not written: its checkpoint goes with the next (:mod:`.postponed`)."""

    def replayed(self) -> list[HistoryEvent]:
        """The history an episode replays: what is written, then what is postponed."""
        return [*self.history, *(self.postponed.history if self.postponed else ())]

    def row_is_instance(self) -> bool:
        """Whether the cached instance is the row written here for its start (a client's insert
        that finished, before any checkpoint): what a read of that row would return."""
        row, instance, inserting = self.row_columns, self.instance, self.row_inserting
        return (row is not None and instance is not None and self.row_etag is not None
                and (inserting is None or inserting.done()) and row.get("ExecutionId") == instance.execution_id)

    def adopt_start(self, messages: Iterable[Message]) -> bool:
        """Take the instance from an ``ExecutionStarted`` among ``messages`` that is newer than
        the stored instance (none yet, or an older generation): a start message goes out
        before its row is written, so it may arrive first (the row is written by this host's
        commit, or by the starting client, whichever comes second).  ``True`` if adopted."""
        for message in messages:
            event = message.event
            if event.get("EventType") != EventType.ExecutionStarted:
                continue
            generation = int(event.get("Generation") or 0)
            if self.instance is not None and generation <= self.instance.generation:
                continue
            created = parse_timestamp(event["Timestamp"])
            parent = event.get("ParentInstance") or {}
            stored_input = event.get("Input")
            self.instance = OrchestrationInstance(
                instance_id=self.instance_id, name=event["Name"],
                execution_id=event["OrchestrationInstance"]["ExecutionId"], runtime_status=RuntimeStatus.PENDING,
                created_time=created, last_updated_time=created,
                input=None if stored_input in (None, "null") else stored_input,
                parent_instance_id=(parent.get("OrchestrationInstance") or {}).get("InstanceId"),
                version=event.get("Version") or "", generation=generation,
            )
            self.history = []
            self.fresh = self.sentinel is not None
            if (self.row_columns or {}).get("ExecutionId") != self.instance.execution_id:
                self.row_columns = None  # a row of another execution (one seeded with its own stays)
            return True
        return False

    @property
    def consumed(self) -> ConsumedRecord:
        return self.sentinel.consumed if self.sentinel and not self.fresh else ConsumedRecord()

    @property
    def checkpoint(self) -> int:
        return self.sentinel.checkpoint if self.sentinel else 0


async def load(hub: Hub, instance_id: str) -> InstanceState:
    """Read the row and the history partition of an instance and reconcile them."""
    try:
        return await _load(hub, instance_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"the stored state of instance {instance_id} cannot be read: {exc!r}") from exc


async def _load(hub: Hub, instance_id: str) -> InstanceState:
    found, partition = await asyncio.gather(hub.instances.get(instance_id), hub.history.read(instance_id))
    row, row_etag = found if found else (None, None)
    sentinel = partition.sentinel
    refs = [*codec.blob_refs(row or {}), *codec.blob_refs(sentinel.snapshot or {} if sentinel else {})]
    for columns in partition.rows:
        refs += codec.blob_refs(columns)
    texts = await hub.payloads.download_many(refs)
    state = InstanceState(instance_id, hub.names.partition(instance_id), None, row_etag=row_etag)
    if row is not None:
        state.row_columns = _stored(row)
        state.row_checkpoint = int(row.get("Checkpoint") or 0)
    same_generation = sentinel is not None and (row is None or sentinel.generation == int(row.get("Generation") or 0))
    if sentinel is not None and same_generation:
        state.sentinel = sentinel
        state.history = [codec.decode_event(codec.restore_blobs(c, texts)) for c in partition.rows]
        behind = row is None or sentinel.checkpoint > state.row_checkpoint
        source = sentinel.snapshot if behind and sentinel.snapshot else row
        state.needs_recovery = not sentinel.complete or (behind and bool(sentinel.snapshot))
    else:
        state.sentinel = sentinel
        state.fresh = sentinel is not None
        source = row
    if source is not None:
        restored = codec.restore_blobs(source, texts)
        state.instance = codec.decode_instance(instance_id, restored)
        state.blobs = _blob_cache(source, restored)
    return state


async def row_columns(
    hub: Hub, state: InstanceState, instance: OrchestrationInstance, checkpoint: int
) -> dict[str, Any]:
    """The instance row for ``instance`` with big payloads in blobs (unchanged ones reused)."""
    columns = codec.instance_columns(instance, hub.names.hub)
    columns["Checkpoint"] = checkpoint
    uploads = []
    for column in codec.PAYLOAD_COLUMNS:
        text = columns.get(column)
        if not isinstance(text, str) or not too_large_for_table(text):
            continue
        cached = state.blobs.get(column)
        if cached is not None and cached[0] == text:
            blob = cached[1]
        else:
            blob = names.instance_blob_name(instance.instance_id, column)
            uploads.append(hub.payloads.upload(blob, text))
            state.blobs[column] = (text, blob)
        codec.with_blob(columns, column, blob, placeholder=hub.payloads.url(blob))
    await asyncio.gather(*uploads)
    return columns


async def offload_event(hub: Hub, instance_id: str, position: int, columns: dict[str, Any]) -> dict[str, Any]:
    """History row columns with text over the limits moved to blobs (DurableTask's naming)."""
    row_key = names.history_row_key(position)
    event_type = str(columns.get("EventType") or "Event")
    big = codec.offload_plan(columns, too_large_for_table)
    rest = sorted((k for k, v in columns.items() if isinstance(v, str) and k not in big),
                  key=lambda k: len(columns[k]), reverse=True)
    size = sum(len(v) * 2 for v in columns.values() if isinstance(v, str))
    for column in rest:  # the row as a whole must stay under the entity limit too
        if size - sum(len(columns[k]) * 2 for k in big) <= ENTITY_LIMIT:
            break
        big.append(column)
    out = dict(columns)
    uploads = []
    for column in big:
        blob = names.history_blob_name(instance_id, row_key, event_type, column)
        uploads.append(hub.payloads.upload(blob, columns[column]))
        codec.with_blob(out, column, blob)
    await asyncio.gather(*uploads)
    return out


def _stored(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if k not in ("PartitionKey", "RowKey")}


def _blob_cache(stored: dict[str, Any], restored: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        column: (restored[column], stored[column + codec.BLOB_SUFFIX])
        for column in codec.PAYLOAD_COLUMNS
        if stored.get(column + codec.BLOB_SUFFIX)
    }
