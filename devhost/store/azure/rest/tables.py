"""One table over the Table service REST API: point reads and writes, queries with
continuation, and entity-group transactions.  Requests go through the store's
:class:`~.http.RestSession`, signed with SharedKeyLite (or carrying the SAS token).

Conditional writes take an ETag (``None`` or ``"*"``: any); :class:`~.errors.NotFound`,
:class:`~.errors.Conflict`, :class:`~.errors.PreconditionFailed` and
:class:`~.errors.TransactionFailed` report what the service refused.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

from . import batch, entities
from .auth import Account
from .batch import Operation
from .entities import Entity
from .http import Reply, RestSession

API_VERSION = "2019-02-02"
_ACCEPT = "application/json;odata=minimalmetadata"
_READ_HEADERS = {"x-ms-version": API_VERSION, "DataServiceVersion": "3.0",
                 "MaxDataServiceVersion": "3.0;NetFx", "Accept": _ACCEPT}
_WRITE_HEADERS = {**_READ_HEADERS, "Content-Type": "application/json"}


class Table:
    """Entities of table ``name``."""

    def __init__(self, session: RestSession, account: Account, name: str) -> None:
        self.session = session
        self.account = account
        self.name = name
        self.base_url = account.table.origin + account.table.prefix

    # --- point operations ---------------------------------------------------------------------
    async def get(self, partition_key: str, row_key: str, select: Sequence[str] | None = None) -> Entity:
        """The entity; :class:`~.errors.NotFound` if there is none."""
        query = f"$select={quote(','.join(select), safe=',')}" if select else ""
        reply = await self._send("GET", entities.key_path(self.name, partition_key, row_key), query, _READ_HEADERS)
        entity = entities.decode(json.loads(reply.body))
        entity.etag = entity.etag or reply.headers.get("ETag")
        return entity

    async def insert(self, entity: dict[str, Any]) -> str:
        """Create the entity; its ETag.  :class:`~.errors.Conflict` if it exists."""
        headers = {**_WRITE_HEADERS, "Prefer": "return-no-content"}
        reply = await self._send("POST", f"/{self.name}", "", headers, _body(entity))
        return reply.headers.get("ETag", "")

    async def update(self, entity: dict[str, Any], etag: str | None = None, *, merge: bool = False) -> str:
        """Replace (or merge into) the entity if it is at ``etag`` (``None``: any); its new
        ETag.  :class:`~.errors.PreconditionFailed` or :class:`~.errors.NotFound` otherwise."""
        headers = {**_WRITE_HEADERS, "If-Match": etag or "*"}
        return await self._write("PATCH" if merge else "PUT", entity, headers)

    async def upsert(self, entity: dict[str, Any], *, merge: bool = False) -> str:
        """Insert or replace (merge into) the entity; its new ETag."""
        return await self._write("PATCH" if merge else "PUT", entity, _WRITE_HEADERS)

    async def delete(self, partition_key: str, row_key: str, etag: str | None = None) -> None:
        """Delete the entity if it is at ``etag`` (``None``: any); :class:`~.errors.NotFound`
        if there is none."""
        headers = {**_READ_HEADERS, "If-Match": etag or "*"}
        await self._send("DELETE", entities.key_path(self.name, partition_key, row_key), "", headers)

    # --- queries and transactions ---------------------------------------------------------------
    def query(self, filter: str | None = None, select: Sequence[str] | None = None,
              top: int | None = None) -> Query:
        """Entities matching the OData ``filter`` (see :func:`.entities.literal`), page by page."""
        return Query(self, filter, select, top)

    async def transact(self, operations: Sequence[Operation]) -> list[str | None]:
        """Run ``operations`` (one partition, at most 100) as one transaction; the ETag of each
        (``None`` for deletes).  :class:`~.errors.TransactionFailed` names the failing one."""
        content_type, body = batch.build(self.base_url, self.name, operations)
        headers = {**_READ_HEADERS, "Content-Type": content_type}
        reply = await self._send("POST", "/$batch", "", headers, body)
        parts = batch.parse(reply.headers.get("Content-Type", ""), reply.body)
        return batch.results(parts, len(operations))

    # --- internals ----------------------------------------------------------------------------
    async def _write(self, method: str, entity: dict[str, Any], headers: dict[str, str]) -> str:
        path = entities.key_path(self.name, entity["PartitionKey"], entity["RowKey"])
        reply = await self._send(method, path, "", headers, _body(entity))
        return reply.headers.get("ETag", "")

    async def _send(self, method: str, path: str, query: str, headers: dict[str, str],
                    body: bytes | None = None) -> Reply:
        account = self.account
        full_path = account.table.prefix + path
        if account.sas:
            query = f"{query}&{account.sas}" if query else account.sas
        url = account.table.origin + full_path + (f"?{query}" if query else "")
        return await self.session.send(method, url, headers, body, lambda: account.table_headers(full_path))


class Query:
    """A query's pages; each :meth:`by_page` step is one round trip."""

    def __init__(self, table: Table, filter: str | None, select: Sequence[str] | None, top: int | None) -> None:
        params = []
        if filter:
            params.append("$filter=" + quote(filter, safe=""))
        if select:
            params.append("$select=" + quote(",".join(select), safe=","))
        if top:
            params.append(f"$top={int(top)}")
        self.table = table
        self.params = "&".join(params)

    async def by_page(self) -> AsyncIterator[list[Entity]]:
        next_keys: tuple[str, str | None] | None = None
        while True:
            query = self.params
            if next_keys is not None:
                extra = f"NextPartitionKey={quote(next_keys[0], safe='')}"
                if next_keys[1] is not None:
                    extra += f"&NextRowKey={quote(next_keys[1], safe='')}"
                query = f"{query}&{extra}" if query else extra
            reply = await self.table._send("GET", f"/{self.table.name}()", query, _READ_HEADERS)
            yield [entities.decode(item) for item in json.loads(reply.body).get("value", ())]
            partition = reply.headers.get("x-ms-continuation-NextPartitionKey")
            if not partition:
                return
            next_keys = (partition, reply.headers.get("x-ms-continuation-NextRowKey"))

    async def all(self) -> list[Entity]:
        return [entity async for page in self.by_page() for entity in page]


def _body(entity: dict[str, Any]) -> bytes:
    return json.dumps(entities.encode(entity), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
