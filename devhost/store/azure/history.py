"""The ``{Hub}History`` table: one partition per instance, one row per event, plus the sentinel.

Writes are table transactions that always include the sentinel with an ``If-Match`` on the
ETag the writer read (or an insert when there was none), so a writer that lost its
instance to another host fails as a whole (:class:`CheckpointConflict`) instead of
interleaving rows.  A checkpoint of more than 99 rows or ~3.5 MB is written in several
transactions; only the last one moves ``HistoryLength``, so a crash half-way leaves rows
that readers ignore and the next commit overwrites.  Rows travel through the lean
:mod:`.rest` client; only creating the table uses the SDK.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from azure.data.tables.aio import TableClient

from ...errors import StoreError
from .calls import StorageCalls
from .checkpoint import Sentinel
from .names import SENTINEL_ROW, history_row_key, is_history_row_key, sanitize_key
from .rest import Operation, RestError, Table, TransactionFailed, literal

MAX_ROWS_PER_BATCH = 99
MAX_BATCH_BYTES = 3_500_000
_CONFLICT_CODES = {"UpdateConditionNotSatisfied", "EntityAlreadyExists", "ResourceNotFound", "EntityNotFound"}


class CheckpointConflict(StoreError):
    """The sentinel changed since it was read: another writer committed (or the instance was purged)."""


@dataclass
class HistoryPartition:
    """Rows of one instance as stored: the sentinel and the event rows it covers, in order."""

    sentinel: Sentinel | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


class HistoryTable:
    def __init__(self, table: TableClient, rest: Table, calls: StorageCalls) -> None:
        self.table = table
        self.rest = rest
        self.calls = calls

    async def create(self) -> None:
        await self.calls.ensure_table(self.table)

    async def read(self, instance_id: str) -> HistoryPartition:
        """The sentinel and the rows of its execution (positions below ``HistoryLength``)."""
        query = self.rest.query(f"PartitionKey eq {literal(sanitize_key(instance_id))}")
        entities = await self.calls.collect("table.query", query)
        sentinel = None
        rows: dict[int, dict[str, Any]] = {}
        for entity in entities:
            row_key = entity["RowKey"]
            if row_key == SENTINEL_ROW:
                sentinel = Sentinel.decode(dict(entity), entity.etag)
            elif is_history_row_key(row_key):
                rows[int(row_key, 16)] = dict(entity)
        if sentinel is None:
            return HistoryPartition()
        ordered = []
        for position in range(sentinel.history_length):
            row = rows.get(position)
            if row is None or row.get("ExecutionId", "") != sentinel.execution_id:
                break  # DurableTask's rule: the execution ends at the first foreign row
            ordered.append(row)
        return HistoryPartition(sentinel, ordered)

    async def write(
        self,
        instance_id: str,
        rows: list[tuple[int, dict[str, Any]]],
        sentinel: dict[str, Any],
        etag: str | None,
    ) -> str:
        """Upsert ``rows`` (position, columns) and replace the sentinel; returns its new ETag.

        Raises :class:`CheckpointConflict` when the sentinel is not at ``etag`` any more.
        """
        key = sanitize_key(instance_id)
        entities = [{"PartitionKey": key, "RowKey": history_row_key(p), **cols} for p, cols in rows]
        chunks = _chunks(entities)
        for chunk in chunks[:-1]:
            placeholder = {
                k: sentinel[k] for k in ("InstanceId", "ExecutionId", "Partition", "Generation") if k in sentinel
            } | {"HistoryLength": 0, "Checkpoint": 0, "IsCheckpointComplete": True}
            etag = await self._submit(key, chunk, placeholder if etag is None else {}, etag, merge=etag is not None)
        return await self._submit(key, chunks[-1], sentinel, etag, merge=False)

    async def mark_complete(self, instance_id: str, etag: str, columns: dict[str, Any]) -> str:
        """Merge ``columns`` into the sentinel if it is still at ``etag``; its new ETag."""
        return await self._submit(sanitize_key(instance_id), [], columns, etag, merge=True, kind="checkpoint.mark")

    async def incomplete(self, partition: int) -> list[str]:
        """Instances of a control-queue partition whose last checkpoint was not completed."""
        sentinels = f"RowKey eq {literal(SENTINEL_ROW)} and IsCheckpointComplete eq false"
        query = self.rest.query(f"{sentinels} and Partition eq {literal(partition)}", select=["InstanceId"])
        return [e["InstanceId"] async for e in self.calls.pages("checkpoint.scan", query)]

    async def delete(self, instance_id: str) -> None:
        """Delete the sentinel first (so nothing is resurrected from it), then every row."""
        key = sanitize_key(instance_id)
        query = self.rest.query(f"PartitionKey eq {literal(key)}", select=["RowKey"])
        row_keys = [e["RowKey"] async for e in self.calls.pages("table.query", query)]
        if SENTINEL_ROW in row_keys:
            await self._delete_batch(key, [SENTINEL_ROW])
        rest = [rk for rk in row_keys if rk != SENTINEL_ROW]
        for start in range(0, len(rest), 100):
            await self._delete_batch(key, rest[start : start + 100])

    # --- internals ---------------------------------------------------------------------------
    async def _submit(
        self, key: str, entities: list[dict[str, Any]], sentinel: dict[str, Any], etag: str | None, *, merge: bool,
        kind: str = "table.batch",
    ) -> str:
        operations = [Operation("upsert", e) for e in entities]
        row = {"PartitionKey": key, "RowKey": SENTINEL_ROW, **sentinel}
        if etag is None:
            operations.append(Operation("insert", row))
        else:
            operations.append(Operation("merge" if merge else "replace", row, etag))
        try:
            result = await self.calls.call(kind, self.rest.transact(operations), allow=(TransactionFailed,))
        except TransactionFailed as exc:
            if exc.code in _CONFLICT_CODES or exc.status in (404, 409, 412):
                raise CheckpointConflict(f"history of {key} changed: {exc.code}") from exc
            raise StoreError(f"history write for {key} failed: {exc.code}") from exc
        return str(result[-1])

    async def _delete_batch(self, key: str, row_keys: list[str]) -> None:
        operations = [Operation("delete", {"PartitionKey": key, "RowKey": rk}) for rk in row_keys]
        try:
            await self.calls.call("table.batch", self.rest.transact(operations), allow=(RestError,))
        except RestError as exc:
            if exc.status != 404:
                raise StoreError(f"deleting history of {key} failed: {exc}") from exc


def _chunks(entities: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split rows into transactions of at most 99 rows (plus the sentinel) and ~3.5 MB (one
    transaction without measuring when even the worst case of escaping fits)."""
    if len(entities) <= MAX_ROWS_PER_BATCH and sum(map(_bound, entities)) <= MAX_BATCH_BYTES:
        return [entities]
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for entity in entities:
        entity_size = _estimate(entity)
        if chunks[-1] and (len(chunks[-1]) >= MAX_ROWS_PER_BATCH or size + entity_size > MAX_BATCH_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(entity)
        size += entity_size
    return chunks


def _estimate(entity: dict[str, Any]) -> int:
    return len(json.dumps(entity, default=str))


def _bound(entity: dict[str, Any]) -> int:
    """At least :func:`_estimate` (a character encodes to at most twelve, a surrogate pair's
    escapes; any other value, its name and punctuation, to at most 64), encoding nothing."""
    return sum(12 * len(v) + len(k) + 8 if isinstance(v, str) else len(k) + 64 for k, v in entity.items())
