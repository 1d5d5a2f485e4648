"""``AzureStore``: a task hub in Azure Storage (Azurite locally), laid out like
DurableTask.AzureStorage so Storage Explorer and Durable Functions Monitor recognise it.

This module wires the parts together and implements the client operations; the
orchestration side lives in :mod:`.orchestrations`, crash recovery in :mod:`.recovery`,
activities in :mod:`.activities`, leases in :mod:`.leases`, background loops in :mod:`.pump`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from azure.data.tables.aio import TableClient, TableServiceClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from ... import azurite
from ...aio import wait_event
from ...errors import InstanceAlreadyExists, StoreError
from ..base import (
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
from . import codec, envelopes, names
from .activities import WorkItems
from .calls import StorageCalls
from .children import Children
from .delivery import Delivery
from .history import HistoryTable
from .hub import AzureStoreOptions, Hub
from .inbox import Inbox
from .instances import InstancesTable, RowConflict
from .leases import LeaseListener, PartitionLeases
from .orchestrations import Orchestrations
from .payloads import LargePayloads
from .pump import Pump
from .queues import StorageQueue
from .recovery import Recovery
from .rest import Account, Queue, RestSession, Table
from .state import InstanceState, load, row_columns

log = logging.getLogger("devhost.store.azure")
_RUNNING_STATES = frozenset(
    {RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED, RuntimeStatus.CONTINUED_AS_NEW}
)


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NETRC")


def _proxy_configured() -> bool:
    """Whether the environment configures a proxy (or netrc) for the storage clients.  When it
    does not, the clients skip aiohttp's ``trust_env`` look-ups, two thread hops per request."""
    return any(os.environ.get(name) or os.environ.get(name.lower()) for name in _PROXY_VARIABLES)


class AzureStore:
    """A task hub in one storage account; safe for one event loop.  Use :meth:`from_setting`.

    Keeps every invariant of :mod:`devhost.store.base`.  Beyond the protocol: ``round_trips``
    (and ``calls.by_kind``) count storage requests; :meth:`halt` stops without giving anything
    back, as a killed process would (crash tests); :meth:`destroy` deletes the hub.  Tuning is
    in :class:`~.hub.AzureStoreOptions` (``DEVHOST_AZURE_*`` environment variables).
    """

    def __init__(self, hub_name: str, connection_string: str, *, partition_count: int = 4,
                 options: AzureStoreOptions | None = None) -> None:
        self.hub_name = hub_name
        self.names = names.HubNames.of(hub_name, partition_count)
        self.options = options or AzureStoreOptions.from_env()
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.calls = StorageCalls()
        transport = {"use_env_settings": _proxy_configured()}
        self._tables = TableServiceClient.from_connection_string(connection_string, **transport)
        self._queues = QueueServiceClient.from_connection_string(connection_string, **transport)
        self._blobs = BlobServiceClient.from_connection_string(connection_string, **transport)
        # the hot path (rows, messages) uses the lean REST client; creation and blobs the SDKs
        self.rest = RestSession(trust_env=transport["use_env_settings"])
        account = Account.from_connection_string(connection_string)
        limiter = asyncio.Semaphore(64)

        def table(name: str) -> tuple[TableClient, Table]:
            return self._tables.get_table_client(name), Table(self.rest, account, name)

        def queue(name: str) -> StorageQueue:
            return StorageQueue(self._queues.get_queue_client(name), Queue(self.rest, account, name), self.calls,
                                limiter)

        self.hub = Hub(
            names=self.names,
            options=self.options,
            calls=self.calls,
            payloads=LargePayloads(self._blobs.get_container_client(self.names.large_messages_container), self.calls),
            instances=InstancesTable(*table(self.names.instances_table), self.calls),
            history=HistoryTable(*table(self.names.history_table), self.calls),
            control=[queue(q) for q in self.names.control_queues],
            work_items=queue(self.names.work_item_queue),
        )
        self.inbox = Inbox()
        self.leases = PartitionLeases(
            *table(self.names.partitions_table), self.calls, self.names, self.owner,
            self.hub.wall, self.options.lease_seconds,
            LeaseListener(acquired=self._acquired, lost=self._lost, releasing=self._releasing),
        )
        self.orchestrations = Orchestrations(self.hub, self.inbox, self.leases.owns, self.leases.holds)
        deferred = self.orchestrations.deferred
        self.work_items = WorkItems(self.hub, self._deliver_result, deferred)
        self.orchestrations.delivery = Delivery(
            self.hub, self.inbox, self.work_items, self.leases.owns, self.orchestrations.consumed, deferred,
            self.orchestrations.write_postponed,
        )
        self.work_items.delivery = self.orchestrations.delivery
        self.orchestrations.children = Children(self.hub, self.orchestrations.delivery, self.orchestrations.cache,
                                                self.orchestrations.seed, self.orchestrations.locks.__contains__)
        self.pump = Pump(self.hub, self.leases, self.inbox, self.orchestrations, self.work_items)
        self.orchestrations.recovery = Recovery(
            self.hub, self.inbox, self.orchestrations, self.work_items, self.pump.poll_once
        )
        self._background: set[asyncio.Task[None]] = set()
        self._opened = False

    @classmethod
    def from_setting(cls, hub_name: str, connection_string_value: str, *, partition_count: int = 4,
                     options: AzureStoreOptions | None = None) -> AzureStore:
        """A store for a storage connection setting (``UseDevelopmentStorage=true`` means Azurite)."""
        return cls(hub_name, azurite.expand_connection_string(connection_string_value),
                   partition_count=partition_count, options=options)

    @property
    def round_trips(self) -> int:
        """Storage requests sent so far (``calls.by_kind`` splits them by operation)."""
        return self.calls.round_trips

    # --- lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        hub = self.hub
        await asyncio.gather(
            hub.instances.create(), hub.history.create(), hub.payloads.create(),
            *(q.create() for q in (*hub.control, hub.work_items)),
        )
        if self.options.dispatch:
            await self.leases.create()
            await self.leases.tick()
            self.pump.start()
        self._opened = True

    async def close(self) -> None:
        """Stop background work, hand back partitions and prefetched work items, disconnect."""
        await self.pump.stop()
        await self.orchestrations.follow_ups.drain()
        if self._opened and self.options.dispatch:
            for step in (self._flush_kept, self.work_items.release, self.leases.release_all):
                try:
                    await step()
                except StoreError as exc:
                    log.warning("task hub %s was not closed cleanly: %s", self.hub_name, exc)
        await self._disconnect()

    async def halt(self) -> None:
        """Stop dead, leaving leases, locks and messages as a killed process would (crash tests)."""
        self.orchestrations.follow_ups.cancel()
        await self.pump.stop()
        await self._disconnect()

    async def destroy(self) -> None:
        """Delete every table, queue and container of the hub (tests clean up with this)."""
        async with TableServiceClient(self._tables.url, credential=self._tables.credential) as tables:
            for name in (self.names.instances_table, self.names.history_table, self.names.partitions_table):
                with contextlib.suppress(Exception):
                    await tables.delete_table(name)
        async with QueueServiceClient(self._queues.url, credential=self._queues.credential) as queues:
            for name in (*self.names.control_queues, self.names.work_item_queue):
                with contextlib.suppress(Exception):
                    await queues.delete_queue(name)
        async with BlobServiceClient(self._blobs.url, credential=self._blobs.credential) as blobs:
            with contextlib.suppress(Exception):
                await blobs.delete_container(self.names.large_messages_container)

    async def _flush_kept(self) -> None:
        await self.orchestrations.write_postponed_of(None)
        await self.orchestrations.delivery.flush_partition(None)

    async def _disconnect(self) -> None:
        for task in list(self._background):
            task.cancel()
        for client in (self._tables, self._queues, self._blobs, self.rest):
            with contextlib.suppress(Exception):
                await client.close()

    # --- client operations ------------------------------------------------------------------------
    async def create_instance(
        self, instance: OrchestrationInstance, start: Message, *, overwrite_running: bool = False,
        new_id: bool = False,
    ) -> None:
        """The start message first, then the row: a start cut off by a crash either never
        appears (no message) or runs (the partition owner takes the instance from its
        ``ExecutionStarted``, :meth:`.InstanceState.adopt_start`), so it is never stuck Pending,
        and a start retried with the same id after a crash answers as for any other instance.
        An id the host just generated (``new_id``) is not looked up: one round trip less."""
        instance_id = instance.instance_id
        instances = self.hub.instances
        found = None if new_id else await instances.get(instance_id)
        generation = self._generation(instance_id, found, overwrite_running)
        row = replace(instance, generation=generation)
        start = replace(start, event={**start.event, "Generation": generation})
        scratch = InstanceState(instance_id, self.names.partition(instance_id), None)
        columns, _ = await asyncio.gather(row_columns(self.hub, scratch, row, 0),
                                          self.orchestrations.forget_instance(instance_id))
        # nothing stored: its first episode reads nothing, and its row waits for this insert
        inserting = self.orchestrations.seed(instance_id, inserting=True) if found is None else None
        try:
            await self.send_messages([start])
            await self._write_start_row(instance, row, columns, found, overwrite_running)
        finally:
            if inserting is not None and not inserting.done():
                inserting.set_result(None)

    async def _write_start_row(self, instance: OrchestrationInstance, row: OrchestrationInstance,
                               columns: dict, found: tuple[dict, str] | None,  # type: ignore[type-arg]
                               overwrite_running: bool) -> None:
        instance_id, instances = instance.instance_id, self.hub.instances
        for _attempt in range(3):
            try:
                if found is None:
                    etag = await instances.insert(instance_id, columns)
                    self.orchestrations.row_written(row, etag, columns)
                else:
                    await instances.replace(instance_id, columns, found[1])
                return
            except RowConflict:
                found = await instances.get(instance_id)
                if found is not None and found[0].get("ExecutionId") == instance.execution_id:
                    return  # the partition owner ran the start first and wrote the row
                self._generation(instance_id, found, overwrite_running)
        raise StoreError(f"instance {instance_id} kept changing while it was being created")

    @staticmethod
    def _generation(instance_id: str, found: tuple[dict, str] | None, overwrite_running: bool) -> int:  # type: ignore[type-arg]
        """The generation a new start of ``instance_id`` gets (refused while it runs)."""
        if found is None:
            return 0
        status = RuntimeStatus(found[0]["RuntimeStatus"])
        if status in _RUNNING_STATES and not overwrite_running:
            raise InstanceAlreadyExists(f"An instance with ID '{instance_id}' already exists and is {status.value}.")
        return int(found[0].get("Generation") or 0) + 1

    async def get_instance(self, instance_id: str) -> OrchestrationInstance | None:
        """The instance as of its last checkpoint: from memory when this host runs it (it is
        the only writer of its partition, and commits before it writes the row), else its row."""
        held = self.orchestrations.committed(instance_id)
        if held is not None:
            return held
        found = await self.hub.instances.get(instance_id)
        if found is None:
            return None
        columns = found[0]
        texts = await self.hub.payloads.download_many(codec.blob_refs(columns))
        return codec.decode_instance(instance_id, codec.restore_blobs(columns, texts))

    async def get_history(self, instance_id: str) -> list[HistoryEvent]:
        return list((await load(self.hub, instance_id)).history)

    async def query_instances(self, query: InstanceQuery) -> InstancePage:
        rows, token = await self.hub.instances.query(query)
        texts = await self.hub.payloads.download_many(ref for row in rows for ref in codec.blob_refs(row))
        page = [
            codec.decode_instance(names.unsanitize_key(row["PartitionKey"]), codec.restore_blobs(row, texts))
            for row in rows
        ]
        return InstancePage(page, token)

    async def purge_instance(self, instance_id: str) -> bool:
        found = await self.hub.instances.get(instance_id)
        await self.hub.history.delete(instance_id)
        await self.hub.payloads.delete_prefix(names.blob_prefix(instance_id))
        if found is not None:
            await self.hub.instances.delete(instance_id)
        await self.orchestrations.forget_instance(instance_id)
        return found is not None

    async def send_messages(self, messages: Sequence[Message]) -> None:
        sends = await asyncio.gather(*(envelopes.prepare_message(m, self.hub.payloads) for m in messages))
        await self.orchestrations.delivery.send(sends, {m.message_id: m for m in messages}, gated=True)

    # --- orchestration dispatcher -----------------------------------------------------------------
    async def lock_orchestration_work_item(self, now: datetime) -> OrchestrationWorkItem | None:
        return await self.orchestrations.lock(now)

    async def complete_orchestration_work_item(self, work_item: OrchestrationWorkItem, commit: EpisodeCommit) -> None:
        await self.orchestrations.complete(work_item, commit)

    async def abandon_orchestration_work_item(self, work_item: OrchestrationWorkItem) -> None:
        await self.orchestrations.abandon(work_item)

    # --- activity dispatcher ----------------------------------------------------------------------
    async def lock_activity_work_item(self) -> ActivityWorkItem | None:
        try:
            return await self.work_items.lock()
        except StoreError as exc:
            log.warning("could not lock an activity work item: %s", exc)
            return None

    async def renew_activity_work_item(self, work_item: ActivityWorkItem) -> ActivityWorkItem:
        return await self.work_items.renew(work_item)

    async def complete_activity_work_item(self, work_item: ActivityWorkItem, result: Message) -> None:
        await self.work_items.complete(work_item, result)

    async def abandon_activity_work_item(self, work_item: ActivityWorkItem) -> None:
        await self.work_items.abandon(work_item)

    # --- scheduling -------------------------------------------------------------------------------
    async def next_visible_time(self) -> datetime | None:
        return self.inbox.next_due()

    async def wait_for_work(self, timeout: float) -> None:
        work = self.hub.work
        if not work.is_set():
            await wait_event(work, timeout)
        work.clear()

    # --- partition ownership ----------------------------------------------------------------------
    async def _deliver_result(self, result: Message) -> None:
        sends = await envelopes.prepare_message(result, self.hub.payloads)
        await self.orchestrations.delivery.send([sends], {result.message_id: result}, early=True)

    def _acquired(self, partition: int) -> None:
        self.pump.poke(partition)
        task = self.orchestrations.recovery.begin(partition)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _lost(self, partition: int) -> None:
        self.orchestrations.forget_partition(partition)
        task = asyncio.ensure_future(self.orchestrations.delivery.flush_partition(partition))  # for the new owner
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _releasing(self, partition: int, wait: bool) -> None:
        await self.orchestrations.drain_partition(partition, wait=wait)
