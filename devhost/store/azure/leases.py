"""Partition leases: which host reads which control queue (``{Hub}Partitions`` table).

One row per control queue (``CurrentOwner``, ``ExpiresAt``) and one heartbeat row per live
host.  Every ``duration / 3`` a host renews its rows in one transaction, claims free or
expired partitions (``If-Match`` on the row it read, so two hosts never both win) up to its
fair share ``ceil(partitions / live hosts)``, and hands back partitions above that share
after draining them, so two devhost processes on one hub split the partitions.

A host reads only the control queues it holds a lease on; that, plus one in-process lock per
instance, is what keeps one instance in one episode at a time across hosts.  The history
sentinel's ETag catches the rest (a host that lost a lease without noticing yet).
Leases use wall-clock time: they are about processes, not about the engine's clock.
Rows travel through the lean :mod:`.rest` client; only creating the table uses the SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from azure.data.tables.aio import TableClient

from ...clock import Clock
from .calls import StorageCalls
from .names import HubNames
from .rest import Conflict, NotFound, Operation, PreconditionFailed, Table, TransactionFailed, literal

log = logging.getLogger("devhost.store.azure")
_PARTITION_KEY = ""
_HOST_PREFIX = "host-"


@dataclass
class LeaseListener:
    """What the store does when ownership changes."""

    acquired: Callable[[int], None]
    lost: Callable[[int], None]
    releasing: Callable[[int, bool], Awaitable[None]]
    """Drain a partition before it is handed back (``True``: wait for its episodes first)."""


@dataclass
class _Row:
    row_key: str
    owner: str
    expires: datetime
    etag: str


class PartitionLeases:
    def __init__(
        self, table: TableClient, rest: Table, calls: StorageCalls, names: HubNames, owner: str, wall: Clock,
        duration: float, listener: LeaseListener,
    ) -> None:
        self.table = table
        self.rest = rest
        self.calls = calls
        self.names = names
        self.owner = owner
        self.wall = wall
        self.duration = timedelta(seconds=duration)
        self.listener = listener
        self.expires: dict[int, datetime] = {}
        self.etags: dict[int, str] = {}
        self.draining: set[int] = set()
        self._write = asyncio.Lock()
        self._releases: set[asyncio.Task[None]] = set()

    # --- queries ------------------------------------------------------------------------------
    def owns(self, partition: int) -> bool:
        """Held, not being handed back, and not about to expire."""
        expires = self.expires.get(partition)
        margin = min(self.duration / 5, timedelta(seconds=2))
        return expires is not None and partition not in self.draining and self.wall.now() < expires - margin

    def holds(self, partition: int) -> bool:
        """Held at all (draining included)."""
        return partition in self.expires

    # --- lifecycle ----------------------------------------------------------------------------
    async def create(self) -> None:
        await self.calls.ensure_table(self.table)
        await asyncio.gather(*(self._create_row(p) for p in range(self.names.partition_count)))

    async def tick(self) -> None:
        """Renew, detect losses, claim a fair share, hand back the excess."""
        async with self._write:
            rows, hosts = await self._read()
            now = self.wall.now()
            for partition in list(self.expires):
                row = rows.get(partition)
                if row is None or row.owner != self.owner:
                    self._lose(partition)
            await self._renew(rows, now)
            live = {h for h, expires in hosts.items() if expires > now} | {self.owner}
            target = math.ceil(self.names.partition_count / len(live))
            for partition, row in sorted(rows.items()):
                if len(self.expires) >= target:
                    break
                if partition not in self.expires and (not row.owner or row.expires <= now):
                    await self._claim(partition, row, now)
            excess = len(self.expires) - len(self.draining) - target
            if excess > 0 and not self._releases:
                partition = max(p for p in self.expires if p not in self.draining)
                self.draining.add(partition)
                task = asyncio.ensure_future(self._release(partition, wait=True))
                self._releases.add(task)
                task.add_done_callback(self._releases.discard)
            await self._forget_dead_hosts(hosts, now)

    async def release_all(self) -> None:
        """Hand back every partition (graceful shutdown) and drop this host's heartbeat."""
        for task in list(self._releases):
            task.cancel()
        for partition in sorted(self.expires):
            self.draining.add(partition)
            await self._release(partition, wait=False)
        await self._delete_host(self.owner)

    # --- steps ----------------------------------------------------------------------------------
    async def _read(self) -> tuple[dict[int, _Row], dict[str, datetime]]:
        query = self.rest.query(f"PartitionKey eq {literal(_PARTITION_KEY)}")
        rows: dict[int, _Row] = {}
        hosts: dict[str, datetime] = {}
        queues = {name: i for i, name in enumerate(self.names.control_queues)}
        async for entity in self.calls.pages("lease.read", query):
            key = entity["RowKey"]
            if key.startswith(_HOST_PREFIX):
                hosts[key[len(_HOST_PREFIX):]] = entity["ExpiresAt"]
            elif key in queues:
                rows[queues[key]] = _Row(key, entity.get("CurrentOwner") or "", entity["ExpiresAt"],
                                         str(entity.etag))
        return rows, hosts

    async def _renew(self, rows: dict[int, _Row], now: datetime) -> None:
        expires = now + self.duration
        operations = [Operation("upsert", self._host_entity(expires))]
        owned = sorted(self.expires)
        operations += [self._update(rows[p].row_key, self.owner, expires, rows[p].etag) for p in owned]
        try:
            results = await self.calls.call("lease.write", self.rest.transact(operations), allow=(TransactionFailed,))
        except TransactionFailed:
            results = None
        if results is not None:
            for partition, result in zip(owned, results[1:], strict=True):
                self.expires[partition] = expires
                self.etags[partition] = str(result)
            return
        for partition in owned:  # someone took at least one: find out which, one by one
            etag = await self._conditional(rows[partition].row_key, self.owner, expires, rows[partition].etag)
            if etag is None:
                self._lose(partition)
            else:
                self.expires[partition], self.etags[partition] = expires, etag

    async def _claim(self, partition: int, row: _Row, now: datetime) -> None:
        expires = now + self.duration
        etag = await self._conditional(row.row_key, self.owner, expires, row.etag)
        if etag is None:
            return
        self.expires[partition], self.etags[partition] = expires, etag
        log.info("host %s acquired %s", self.owner, row.row_key)
        self.listener.acquired(partition)

    async def _release(self, partition: int, *, wait: bool) -> None:
        try:
            await self.listener.releasing(partition, wait)
        finally:
            async with self._write:
                etag = self.etags.get(partition)
                if etag is not None and partition in self.expires:
                    name = self.names.control_queue(partition)
                    await self._conditional(name, "", self.wall.now(), etag)
                    log.info("host %s released %s", self.owner, name)
                self.expires.pop(partition, None)
                self.etags.pop(partition, None)
                self.draining.discard(partition)
                self.listener.lost(partition)

    def _lose(self, partition: int) -> None:
        log.warning("host %s lost %s", self.owner, self.names.control_queue(partition))
        self.expires.pop(partition, None)
        self.etags.pop(partition, None)
        self.draining.discard(partition)
        self.listener.lost(partition)

    async def _forget_dead_hosts(self, hosts: dict[str, datetime], now: datetime) -> None:
        dead = [h for h, expires in hosts.items() if expires < now - 10 * self.duration]
        await asyncio.gather(*(self._delete_host(h) for h in dead))

    # --- rows ---------------------------------------------------------------------------------
    def _host_entity(self, expires: datetime) -> dict[str, Any]:
        return {"PartitionKey": _PARTITION_KEY, "RowKey": _HOST_PREFIX + self.owner, "ExpiresAt": expires}

    def _update(self, row_key: str, owner: str, expires: datetime, etag: str) -> Operation:
        entity = {"PartitionKey": _PARTITION_KEY, "RowKey": row_key, "CurrentOwner": owner, "ExpiresAt": expires}
        return Operation("replace", entity, etag)

    async def _conditional(self, row_key: str, owner: str, expires: datetime, etag: str) -> str | None:
        """Replace a lease row if it is still at ``etag``; its new ETag, or ``None``."""
        entity = {"PartitionKey": _PARTITION_KEY, "RowKey": row_key, "CurrentOwner": owner, "ExpiresAt": expires}
        try:
            return await self.calls.call(
                "lease.write", self.rest.update(entity, etag), allow=(PreconditionFailed, NotFound)
            )
        except (PreconditionFailed, NotFound):
            return None

    async def _create_row(self, partition: int) -> None:
        entity = {"PartitionKey": _PARTITION_KEY, "RowKey": self.names.control_queue(partition),
                  "CurrentOwner": "", "ExpiresAt": self.wall.now() - self.duration}
        with contextlib.suppress(Conflict):
            await self.calls.call("lease.write", self.rest.insert(entity), allow=(Conflict,))

    async def _delete_host(self, owner: str) -> None:
        with contextlib.suppress(NotFound):
            await self.calls.call(
                "lease.write", self.rest.delete(_PARTITION_KEY, _HOST_PREFIX + owner), allow=(NotFound,)
            )
