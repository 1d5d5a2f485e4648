"""The ``{Hub}Instances`` table: one row per instance (PartitionKey = sanitized id, RowKey "").

Rows are what Storage Explorer and Durable Functions Monitor show.  Payload columns over the
property limit hold the blob's URL, with ``{Column}BlobName`` naming the blob (see
:mod:`.payloads`).  Queries filter on the server where Table storage can (status, created
time, id prefix) and sort on the client: newest first, paged with a key-set token.
Rows travel through the lean :mod:`.rest` client; only creating the table uses the SDK.
"""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from azure.data.tables.aio import TableClient

from ..base import InstanceQuery
from .calls import StorageCalls
from .names import sanitize_key
from .rest import Conflict, NotFound, PreconditionFailed, Table, literal

_ROW = ""


class RowConflict(Exception):
    """The row was created, changed or deleted by someone else (internal; never leaves the store)."""


class InstancesTable:
    def __init__(self, table: TableClient, rest: Table, calls: StorageCalls) -> None:
        self.table = table
        self.rest = rest
        self.calls = calls

    async def create(self) -> None:
        await self.calls.ensure_table(self.table)

    async def get(self, instance_id: str) -> tuple[dict[str, Any], str] | None:
        """``(columns, etag)`` of the row, or ``None``."""
        try:
            entity = await self.calls.call(
                "table.get", self.rest.get(sanitize_key(instance_id), _ROW), allow=(NotFound,)
            )
        except NotFound:
            return None
        return dict(entity), str(entity.etag)

    async def insert(self, instance_id: str, columns: dict[str, Any]) -> str:
        """Create the row; :class:`RowConflict` when it exists."""
        entity = {"PartitionKey": sanitize_key(instance_id), "RowKey": _ROW, **columns}
        try:
            return await self.calls.call("table.insert", self.rest.insert(entity), allow=(Conflict,))
        except Conflict as exc:
            raise RowConflict(instance_id) from exc

    async def replace(self, instance_id: str, columns: dict[str, Any], etag: str) -> str:
        """Replace the row if it is still at ``etag``; :class:`RowConflict` otherwise."""
        entity = {"PartitionKey": sanitize_key(instance_id), "RowKey": _ROW, **columns}
        try:
            return await self.calls.call(
                "table.replace", self.rest.update(entity, etag), allow=(PreconditionFailed, NotFound)
            )
        except (PreconditionFailed, NotFound) as exc:
            raise RowConflict(instance_id) from exc

    async def delete(self, instance_id: str) -> None:
        """Delete the row (gone already is fine, as it was with the SDK's ``delete_entity``)."""
        with contextlib.suppress(NotFound):
            await self.calls.call("table.delete", self.rest.delete(sanitize_key(instance_id), _ROW), allow=(NotFound,))

    async def query(self, query: InstanceQuery) -> tuple[list[dict[str, Any]], str | None]:
        """Rows matching ``query`` for the requested page, newest first, and the next token."""
        filters = _filters(query)
        pager = self.rest.query(" and ".join(filters) if filters else None)
        rows = [dict(e) async for e in self.calls.pages("table.query", pager)]
        prefix = sanitize_key(query.instance_id_prefix) if query.instance_id_prefix else ""
        rows = [r for r in rows if r["PartitionKey"].startswith(prefix) and r.get("RowKey") == _ROW]
        rows.sort(key=_sort_key, reverse=True)
        after = _decode_token(query.continuation_token)
        if after is not None:
            rows = [r for r in rows if _sort_key(r) < after]
        page = rows[: query.top]
        token = _encode_token(_sort_key(page[-1])) if len(rows) > query.top and page else None
        return page, token


def _filters(query: InstanceQuery) -> list[str]:
    filters: list[str] = []
    if query.runtime_status:
        names = sorted(s.value for s in query.runtime_status)
        filters.append("(" + " or ".join(f"RuntimeStatus eq {literal(name)}" for name in names) + ")")
    if query.created_from is not None:
        filters.append(f"CreatedTime ge {literal(query.created_from)}")
    if query.created_to is not None:
        filters.append(f"CreatedTime le {literal(query.created_to)}")
    if query.instance_id_prefix:
        prefix = sanitize_key(query.instance_id_prefix)
        filters.append(f"PartitionKey ge {literal(prefix)}")
        upper = _successor(prefix)
        if upper is not None:
            filters.append(f"PartitionKey lt {literal(upper)}")
    return filters


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix``."""
    for i in range(len(prefix) - 1, -1, -1):
        if ord(prefix[i]) < 0xD7FF:
            return prefix[:i] + chr(ord(prefix[i]) + 1)
    return None


def _sort_key(row: dict[str, Any]) -> tuple[str, str]:
    created = row.get("CreatedTime")
    if isinstance(created, datetime):
        created = created.astimezone(UTC) if created.tzinfo else created
        return created.strftime("%Y-%m-%dT%H:%M:%S.%f"), row["PartitionKey"]
    return str(created), row["PartitionKey"]


def _encode_token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode("utf-8")).decode("ascii")


def _decode_token(token: str | None) -> tuple[str, str] | None:
    if not token:
        return None
    try:
        created, key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, TypeError):
        return None
    return str(created), str(key)
