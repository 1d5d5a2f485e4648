"""The ``sentinel`` row of an instance's history partition: its last checkpoint.

Every episode commit writes the sentinel in the same table transaction as its history rows,
conditional on the ETag read before (optimistic concurrency), so the transaction is the
commit point.  Besides DurableTask's columns (``ExecutionId``, ``IsCheckpointComplete``,
``CheckpointCompletedTimestamp``) it holds what crash recovery needs:

* ``Checkpoint`` / ``HistoryLength`` / ``Generation``: rows at or past ``HistoryLength`` are
  leftovers of an unfinished write and are ignored; a sentinel of an older generation than
  the instance row belongs to a discarded history.
* ``Instance_*``: the instance row the checkpoint produced, written again if the crash came
  before the row was.
* ``Outbox`` (or ``OutboxBlobName``): the messages and work items the checkpoint sends and the
  child instance rows it creates, and ``CarriedOutboxBlobs`` earlier outbox blobs with sends
  still open (:mod:`.deferred`).  ``IsCheckpointComplete`` turns true once all were sent.
* ``ConsumedMessages``: digests of the message ids consumed by recent checkpoints, so a
  message redelivered after a crash (consumed, but not yet deleted) is recognised and dropped.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .codec import prefixed, unprefixed
from .envelopes import Send

SNAPSHOT_PREFIX = "Instance_"
_DIGEST = 8
CONSUMED_MAX_CHARS = 30_000
"""``ConsumedMessages`` stays one table property (UTF-16, under 64 KiB)."""


def message_digest(message_id: str) -> bytes:
    return hashlib.blake2b(message_id.encode("utf-8"), digest_size=_DIGEST).digest()


@dataclass(frozen=True)
class ConsumedRecord:
    """Message ids consumed by recent checkpoints, grouped by commit time (unix seconds)."""

    groups: tuple[tuple[int, bytes], ...] = ()

    def __post_init__(self) -> None:
        digests = {g[i : i + _DIGEST] for _, g in self.groups for i in range(0, len(g), _DIGEST)}
        object.__setattr__(self, "_digests", digests)

    def __contains__(self, message_id: object) -> bool:
        return isinstance(message_id, str) and message_digest(message_id) in self._digests  # type: ignore[attr-defined]

    def add(self, message_ids: list[str], when: int, retention: int) -> ConsumedRecord:
        """A record with ``message_ids`` added and groups older than ``retention`` dropped."""
        groups = [g for g in self.groups if g[0] >= when - retention]
        if message_ids:
            groups.append((when, b"".join(message_digest(m) for m in message_ids)))
        record = ConsumedRecord(tuple(groups))
        while len(record.encode()) > CONSUMED_MAX_CHARS and record.groups:
            record = record._shrink()
        return record

    def _shrink(self) -> ConsumedRecord:
        if len(self.groups) > 1:
            return ConsumedRecord(self.groups[1:])
        when, digests = self.groups[0]
        keep = (len(digests) // _DIGEST // 2) * _DIGEST
        return ConsumedRecord(((when, digests[len(digests) - keep :]),) if keep else ())

    def encode(self) -> str:
        groups = [[when, base64.b64encode(d).decode("ascii")] for when, d in self.groups]
        return json.dumps(groups, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> ConsumedRecord:
        if not text:
            return cls()
        return cls(tuple((int(when), base64.b64decode(d)) for when, d in json.loads(text)))


@dataclass(frozen=True)
class Outbox:
    """What a checkpoint sends after its history is durable."""

    sends: tuple[Send, ...] = ()
    children: tuple[tuple[str, dict[str, Any], Send], ...] = ()
    """``(instance id, Instances row columns, start message)`` of sub-orchestrations: the row is
    created first, and the start message sent only if the row is this checkpoint's."""

    def __bool__(self) -> bool:
        return bool(self.sends or self.children)

    def __add__(self, other: Outbox) -> Outbox:
        """Both outboxes, each send and child once."""
        sends = {s.message_id: s for s in (*self.sends, *other.sends)}
        children = {c[0]: c for c in (*self.children, *other.children)}
        return Outbox(tuple(sends.values()), tuple(children.values()))

    def encode(self) -> str:
        children = [[iid, _jsonable(cols), start.to_json()] for iid, cols, start in self.children]
        return json.dumps({"sends": [s.to_json() for s in self.sends], "children": children}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> Outbox:
        if not text:
            return cls()
        data = json.loads(text)
        sends = tuple(Send.from_json(s) for s in data.get("sends", ()))
        children = tuple(
            (iid, _from_jsonable(cols), Send.from_json(start)) for iid, cols, start in data.get("children", ())
        )
        return cls(sends, children)


@dataclass
class Sentinel:
    """The decoded sentinel row (``etag`` is what the next commit must match)."""

    etag: str | None = None
    instance_id: str = ""
    execution_id: str = ""
    checkpoint: int = 0
    generation: int = 0
    history_length: int = 0
    complete: bool = True
    consumed: ConsumedRecord = field(default_factory=ConsumedRecord)
    outbox_text: str | None = None
    outbox_blob: str | None = None
    carried_blobs: tuple[str, ...] = ()
    snapshot: dict[str, Any] | None = None

    @classmethod
    def decode(cls, entity: dict[str, Any], etag: str | None) -> Sentinel:
        snapshot = unprefixed(entity, SNAPSHOT_PREFIX) or None
        return cls(
            etag=etag,
            instance_id=entity.get("InstanceId") or "",
            execution_id=entity.get("ExecutionId") or "",
            checkpoint=int(entity.get("Checkpoint") or 0),
            generation=int(entity.get("Generation") or 0),
            history_length=int(entity.get("HistoryLength") or 0),
            complete=bool(entity.get("IsCheckpointComplete", True)),
            consumed=ConsumedRecord.decode(entity.get("ConsumedMessages")),
            outbox_text=entity.get("Outbox") or None,
            outbox_blob=entity.get("OutboxBlobName") or None,
            carried_blobs=tuple(json.loads(entity.get("CarriedOutboxBlobs") or "[]")),
            snapshot=snapshot,
        )

    def columns(self, partition: int, completed_at: datetime) -> dict[str, Any]:
        """The sentinel's columns (snapshot columns must already be blob-offloaded)."""
        columns: dict[str, Any] = {
            "InstanceId": self.instance_id,
            "ExecutionId": self.execution_id,
            "Partition": partition,
            "Checkpoint": self.checkpoint,
            "Generation": self.generation,
            "HistoryLength": self.history_length,
            "IsCheckpointComplete": self.complete,
            "ConsumedMessages": self.consumed.encode(),
        }
        if self.complete:
            columns["CheckpointCompletedTimestamp"] = completed_at
        if self.outbox_text:
            columns["Outbox"] = self.outbox_text
        if self.outbox_blob:
            columns["OutboxBlobName"] = self.outbox_blob
        if self.carried_blobs:
            columns["CarriedOutboxBlobs"] = json.dumps(list(self.carried_blobs))
        if self.snapshot:
            columns.update(prefixed(self.snapshot, SNAPSHOT_PREFIX))
        return columns


def _jsonable(columns: dict[str, Any]) -> dict[str, Any]:
    return {k: ({"$dt": v.isoformat()} if isinstance(v, datetime) else v) for k, v in columns.items()}


def _from_jsonable(columns: dict[str, Any]) -> dict[str, Any]:
    return {k: (datetime.fromisoformat(v["$dt"]) if isinstance(v, dict) and "$dt" in v else v)
            for k, v in columns.items()}
