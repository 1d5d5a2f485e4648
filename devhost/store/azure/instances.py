"""The ``{Hub}Instances`` table: one row per instance (PartitionKey = sanitized id, RowKey "").

Rows are what Storage Explorer and Durable Functions Monitor show.  Payload columns over the
property limit hold the blob's URL, with ``{Column}BlobName`` naming the blob (see
:mod:`.payloads`).  Queries filter on the server where Table storage can (status, created
time, id prefix) and sort on the client: newest first, paged with a key-set token.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from ..base import InstanceQuery
from .calls import StorageCalls
from .names import sanitize_key

_ROW = ""


class RowConflict(Exception):
    """The row was created, changed or deleted by someone else (internal; never leaves the store)."""


class InstancesTable:
    def __init__(self, table: TableClient, calls: StorageCalls) -> None:
        self.table = table
        self.calls = calls

    async def create(self) -> None:
        await self.calls.ensure_table(self.table)

    async def get(self, instance_id: str) -> tuple[dict[str, Any], str] | None:
        """``(columns, etag)`` of the row, or ``None``."""
        try:
            entity = await self.calls.call(
                "table.get", self.table.get_entity(sanitize_key(instance_id), _ROW), allow=(ResourceNotFoundError,)
            )
        except ResourceNotFoundError:
            return None
        return dict(entity), str(entity.metadata["etag"])

    async def insert(self, instance_id: str, columns: dict[str, Any]) -> str:
        """Create the row; :class:`RowConflict` when it exists."""
        entity = {"PartitionKey": sanitize_key(instance_id), "RowKey": _ROW, **columns}
        try:
            result = await self.calls.call(
                "table.insert", self.table.create_entity(entity), allow=(ResourceExistsError,)
            )
        except ResourceExistsError as exc:
            raise RowConflict(instance_id) from exc
        return str(result["etag"])

    async def replace(self, instance_id: str, columns: dict[str, Any], etag: str) -> str:
        """Replace the row if it is still at ``etag``; :class:`RowConflict` otherwise."""
        entity = {"PartitionKey": sanitize_key(instance_id), "RowKey": _ROW, **columns}
        try:
            result = await self.calls.call(
                "table.replace",
                self.table.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
                ),
                allow=(ResourceModifiedError, ResourceNotFoundError),
            )
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise RowConflict(instance_id) from exc
        return str(result["etag"])

    async def delete(self, instance_id: str) -> None:
        await self.calls.call("table.delete", self.table.delete_entity(sanitize_key(instance_id), _ROW))

    async def query(self, query: InstanceQuery) -> tuple[list[dict[str, Any]], str | None]:
        """Rows matching ``query`` for the requested page, newest first, and the next token."""
        filters, parameters = _filters(query)
        pager = self.table.query_entities(" and ".join(filters), parameters=parameters) if filters else (
            self.table.list_entities()
        )
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


def _filters(query: InstanceQuery) -> tuple[list[str], dict[str, Any]]:
    filters: list[str] = []
    parameters: dict[str, Any] = {}
    if query.runtime_status:
        names = sorted(s.value for s in query.runtime_status)
        for i, name in enumerate(names):
            parameters[f"s{i}"] = name
        # the SDK substitutes parameters word by word: keep them apart from the parentheses
        filters.append("( " + " or ".join(f"RuntimeStatus eq @s{i}" for i in range(len(names))) + " )")
    if query.created_from is not None:
        parameters["cfrom"] = query.created_from
        filters.append("CreatedTime ge @cfrom")
    if query.created_to is not None:
        parameters["cto"] = query.created_to
        filters.append("CreatedTime le @cto")
    if query.instance_id_prefix:
        prefix = sanitize_key(query.instance_id_prefix)
        parameters["pfrom"] = prefix
        filters.append("PartitionKey ge @pfrom")
        upper = _successor(prefix)
        if upper is not None:
            parameters["pto"] = upper
            filters.append("PartitionKey lt @pto")
    return filters, parameters


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
