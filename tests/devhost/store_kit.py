"""Shared kit of the store tests: the ``stores``/``store``/``durable`` fixtures and helpers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from devhost.engine import history as h
from devhost.host import unique_hub_name
from devhost.store.base import (
    ActivityWorkItem,
    EpisodeCommit,
    Message,
    OrchestrationInstance,
    OrchestrationWorkItem,
    RuntimeStatus,
    TaskHubStore,
)
from devhost.store.memory import MemoryStore

NOW = datetime(2020, 1, 1, 12, tzinfo=UTC)  # long before the wall clock: visibility must not use it
BIG = 5 * 1024 * 1024
WAIT = 30.0


class Stores:
    """Opens stores of one kind on one task hub; closes (and for azure deletes) them after."""

    def __init__(self, kind: str, connection_string: str | None) -> None:
        self.kind = kind
        self.connection_string = connection_string
        self.hub = unique_hub_name()
        self.opened: list[Any] = []

    async def open(self, **options: Any) -> TaskHubStore:
        if self.kind == "memory":
            store: Any = MemoryStore(self.hub)
        else:
            from devhost.store.azure import AzureStore, AzureStoreOptions

            store = AzureStore.from_setting(
                self.hub, self.connection_string or "", options=AzureStoreOptions(**options)
            )
        await store.open()
        self.opened.append(store)
        return store

    async def crash(self, store: Any) -> None:
        await store.halt()
        self.opened.remove(store)

    async def cleanup(self) -> None:
        for store in reversed(self.opened):
            with contextlib.suppress(Exception):
                await store.close()
        if self.kind == "azure" and self.opened:
            await self.opened[0].destroy()


@pytest.fixture(params=["memory", pytest.param("azure", marks=pytest.mark.azurite)])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    connection = request.getfixturevalue("azurite_connection_string") if request.param == "azure" else None
    hub = Stores(request.param, connection)
    try:
        yield hub
    finally:
        await hub.cleanup()


@pytest.fixture
async def store(stores: Stores) -> TaskHubStore:
    return await stores.open()


@pytest.fixture
def durable(stores: Stores) -> Stores:
    if stores.kind == "memory":
        pytest.skip("the memory store does not outlive its process")
    return stores


# --- helpers ---------------------------------------------------------------------------------------
def instance(instance_id: str, status: RuntimeStatus = RuntimeStatus.PENDING, **fields: Any) -> OrchestrationInstance:
    return OrchestrationInstance(
        instance_id=instance_id, name="orch", execution_id=fields.pop("execution_id", "e-" + instance_id),
        runtime_status=status, created_time=fields.pop("created", NOW), last_updated_time=NOW, **fields,
    )


def start_of(row: OrchestrationInstance, message_id: str | None = None) -> Message:
    event = h.execution_started(NOW, instance_id=row.instance_id, execution_id=row.execution_id, name=row.name,
                                input=row.input)
    return Message(message_id or f"start-{row.instance_id}-{row.execution_id}", row.instance_id, event,
                   row.execution_id)


def raised(instance_id: str, message_id: str, data: str | None = '"x"', visible_at: datetime | None = None) -> Message:
    return Message(message_id, instance_id, h.event_raised(NOW, "e", data), visible_at=visible_at)


async def lock(store: TaskHubStore, now: datetime = NOW, wait: float = 0.0) -> OrchestrationWorkItem | None:
    """Lock a work item; with ``wait``, keep trying that long (messages from other hosts)."""
    return await _until(lambda: store.lock_orchestration_work_item(now), store, wait)


async def lock_activity(store: TaskHubStore, wait: float = 0.0) -> ActivityWorkItem | None:
    return await _until(store.lock_activity_work_item, store, wait)


async def _until(attempt: Any, store: TaskHubStore, wait: float) -> Any:
    deadline = time.monotonic() + wait
    while (found := await attempt()) is None and time.monotonic() < deadline:
        await store.wait_for_work(0.2)
    return found


def ids(item: OrchestrationWorkItem | None) -> list[str]:
    return [m.message_id for m in item.messages] if item else []


def episode(
    item: OrchestrationWorkItem, status: RuntimeStatus = RuntimeStatus.RUNNING, **changes: Any
) -> EpisodeCommit:
    """A plausible episode: the messages' events between OrchestratorStarted/Completed."""
    assert item.instance is not None
    row = replace(item.instance, runtime_status=status, **changes)
    events = [h.orchestrator_started(NOW), *(m.event for m in item.messages), h.orchestrator_completed(NOW)]
    return EpisodeCommit(row, events, consumed=[m.message_id for m in item.messages])


async def started(store: TaskHubStore, instance_id: str, **fields: Any) -> OrchestrationWorkItem:
    """Create an instance and lock its first work item."""
    row = instance(instance_id, **fields)
    await store.create_instance(row, start_of(row))
    item = await lock(store)
    assert item is not None and item.instance_id == instance_id
    return item


async def run(store: TaskHubStore, instance_id: str, status: RuntimeStatus = RuntimeStatus.RUNNING,
              **fields: Any) -> None:
    item = await started(store, instance_id, **fields)
    await store.complete_orchestration_work_item(item, episode(item, status))


def work_item(instance_id: str, task_id: int, data: str | None = '"in"') -> ActivityWorkItem:
    return ActivityWorkItem(f"{instance_id}:e-{instance_id}:{task_id}", instance_id, f"e-{instance_id}", task_id,
                            "hello", data)


def result_of(item: ActivityWorkItem) -> Message:
    return Message(f"{item.message_id}:result", item.instance_id, h.task_completed(NOW, item.task_id, '"out"'),
                   item.execution_id)


async def scheduled(store: TaskHubStore, instance_id: str, *tasks: int, data: str | None = '"in"') -> None:
    item = await started(store, instance_id)
    activities = [work_item(instance_id, t, data) for t in tasks]
    await store.complete_orchestration_work_item(item, replace(episode(item), activities=activities))
