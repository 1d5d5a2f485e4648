"""The dispatch loop: lock work from the store, run episodes and activities, commit.

One loop hands out orchestration work items (bounded by ``maxConcurrentOrchestratorFunctions``)
and activity work items (bounded by ``maxConcurrentActivityFunctions``).  The store
guarantees one episode per instance at a time.  With a virtual clock and auto time skipping,
when nothing is runnable and nothing is in flight, time jumps to the next durable timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .. import worker
from ..clock import Clock, VirtualClock
from ..errors import WorkItemLost
from ..loader import FunctionRegistry
from ..store.base import ActivityWorkItem, OrchestrationWorkItem, RuntimeStatus, TaskHubStore
from . import history as h
from .activities import execute_activity
from .entities import run_entity_batch
from .episode import ActionCache, Episode, EpisodeStats
from .placement import ReplayPlacement
from .scheduling import Functions

log = logging.getLogger("devhost.dispatcher")


@dataclass
class DispatcherOptions:
    max_activities: int = 10
    max_orchestrations: int = 10
    poll_interval: float = 1.0
    activity_renew_interval: float = 60.0
    park_unregistered: bool = False  # leave Pending what no local orchestrator runs (scheduler filtering)
    abandon_timeout: float = 2.0  # how long a stop spends handing running work items back


@dataclass
class DispatcherStats(EpisodeStats):
    activities: int = 0
    failures: int = 0
    time_skips: int = 0
    abandoned: int = 0
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    parked: set[str] = field(default_factory=set)  # Pending instances no local orchestrator runs


class Schedule(Protocol):
    """Something else that fires on the clock (timer triggers): virtual time may skip to it."""

    @property
    def busy(self) -> bool: ...

    def next_due(self) -> datetime | None: ...


class Dispatcher:
    """Runs a task hub's work until cancelled (use :meth:`run` as a background task)."""

    def __init__(
        self, store: TaskHubStore, clock: Clock, registry: FunctionRegistry, options: DispatcherOptions
    ) -> None:
        self.store = store
        self.clock = clock
        self.registry = registry
        self.options = options
        self.functions = Functions(
            orchestrators={k: v.name for k, v in registry.orchestrators.items()},
            activities={k: v.name for k, v in registry.activities.items()},
        )
        self.entities = {k: v.name for k, v in registry.entities.items()}
        self.cache = ActionCache()
        self.placement = ReplayPlacement()
        self.stats = DispatcherStats()
        self._orchestrations = 0
        self._activities = 0
        self._waiter: asyncio.Future[None] | None = None  # the idle loop's wait, cut short by _wake
        self._dispatching = False
        self._again = False
        self.schedules: list[Schedule] = []

    async def run(self) -> None:
        try:
            while True:
                progressed = await self._dispatch()
                if progressed:
                    continue
                if not self.stats.in_flight and await self._skip_time():
                    continue
                await self._wait()
        finally:
            for task in list(self.stats.in_flight):
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*self.stats.in_flight, return_exceptions=True)

    # --- dispatching --------------------------------------------------------------------
    async def _dispatch(self) -> bool:
        """Lock and start what is ready; one caller at a time (the idle loop or a finishing task).

        A work item that finishes dispatches the next one itself, so the message it just
        committed is picked up at once rather than after the idle loop wakes up.
        """
        if self._dispatching:
            self._again = True  # the caller in progress goes round once more
            return False
        self._dispatching = True
        progressed = False
        try:
            while True:
                self._again = False
                progressed = await self._dispatch_ready() or progressed
                if not self._again:
                    return progressed
        finally:
            self._dispatching = False

    async def _dispatch_ready(self) -> bool:
        progressed = False
        while self._orchestrations < self.options.max_orchestrations:
            item = await self.store.lock_orchestration_work_item(self.clock.now())
            if item is None:
                break
            if self._unregistered(item):
                self._spawn(self._park(item))  # locked while parked, so the next lock is another one
                continue
            self._orchestrations += 1
            self._spawn(self._run_episode(item))
            progressed = True
        while self._activities < self.options.max_activities:
            activity = await self.store.lock_activity_work_item()
            if activity is None:
                break
            self._activities += 1
            self._spawn(self._run_activity(activity))
            progressed = True
        return progressed

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self.stats.in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.stats.in_flight.discard(task)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None:
            self._waiter.cancel()

    def _unregistered(self, item: OrchestrationWorkItem) -> bool:
        """A Pending instance of an orchestrator this app does not register, with nothing to end it."""
        instance = item.instance
        return bool(
            self.options.park_unregistered and instance is not None and not item.instance_id.startswith("@")
            and instance.runtime_status is RuntimeStatus.PENDING
            and instance.name.lower() not in self.registry.orchestrators
            and not any(m.event["EventType"] == h.EventType.ExecutionTerminated for m in item.messages)
        )

    async def _park(self, item: OrchestrationWorkItem) -> None:
        """Hold the work item for a poll interval, then hand it back untouched (it stays Pending)."""
        if item.instance_id not in self.stats.parked:
            self.stats.parked.add(item.instance_id)
            log.info(
                "instance %s left Pending: no function in this app registers orchestrator '%s'",
                item.instance_id, item.instance.name if item.instance else "?",
            )
        try:
            await asyncio.sleep(self.options.poll_interval)
        finally:
            await self._abandon(self.store.abandon_orchestration_work_item(item))

    async def _abandon(self, release: Coroutine[Any, Any, None]) -> None:
        """Hand a work item back, even while being cancelled, within ``abandon_timeout``."""
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(release, self.options.abandon_timeout)

    async def _run_episode(self, item: OrchestrationWorkItem) -> None:
        committing = False
        try:
            if item.instance_id.startswith("@"):
                commit = await run_entity_batch(item, self.clock.now(), self.entities, self._invoke_entity)
            else:
                episode = Episode(
                    item, self.clock.now(), self.functions, self._invoke_orchestrator, self.cache, self.stats
                )
                commit = await episode.run()
            committing = True
            await self._commit(self.store.complete_orchestration_work_item(item, commit))
        except asyncio.CancelledError:
            self.cache.drop(item.instance_id)
            if not committing:  # stopped mid-episode: nothing was written, the messages go back
                await self._abandon(self.store.abandon_orchestration_work_item(item))
            raise
        except WorkItemLost as exc:
            log.warning("episode for %s discarded: %s", item.instance_id, exc)
            self.cache.drop(item.instance_id)
        except Exception:
            self.stats.abandoned += 1
            self.cache.drop(item.instance_id)
            log.exception("episode for %s crashed; its messages will be redelivered", item.instance_id)
            with contextlib.suppress(Exception):
                await self.store.abandon_orchestration_work_item(item)
        finally:
            self._orchestrations -= 1
        await self._dispatch()

    async def _commit(self, commit: Coroutine[Any, Any, None]) -> None:
        """Apply an episode's commit; a stop that comes meanwhile lets it finish (within
        ``abandon_timeout``), as the real host drains its work items on a graceful shutdown: cut
        off after its checkpoint, a commit leaves the instance row and the outbox to the next
        owner's recovery."""
        task = asyncio.ensure_future(commit)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, self.options.abandon_timeout)
            raise

    async def _invoke_orchestrator(self, name: str, context_json: str) -> str:
        handle = self.registry.orchestrators[name.lower()].fn
        if not self.placement.inline(name, len(context_json)):
            return await worker.call_orchestrator(handle, context_json)
        started = time.perf_counter()
        try:
            return await worker.call_orchestrator(handle, context_json, inline=True)
        finally:
            self.placement.observe(name, time.perf_counter() - started)

    async def _invoke_entity(self, name: str, context_json: str) -> str:
        handle = self.registry.entities[name.lower()].fn
        return await worker.call_orchestrator(handle, context_json)

    async def _run_activity(self, item: ActivityWorkItem) -> None:
        renewer = _Renewer(self, item)
        completing = False
        try:
            result = await execute_activity(item, self.registry.activities, self.clock.now)
            renewer.cancel()
            completing = True
            await self.store.complete_activity_work_item(item, result)
            self.stats.activities += 1
        except asyncio.CancelledError:  # stopped: the work item becomes visible again for any host
            if not completing:
                await self._abandon(self.store.abandon_activity_work_item(item))
            raise
        except WorkItemLost as exc:
            log.warning("activity %s result discarded: %s", item.name, exc)
        except Exception:
            log.exception("activity work item %s could not be completed; it will be retried", item.message_id)
            with contextlib.suppress(Exception):
                await self.store.abandon_activity_work_item(item)
        finally:
            renewer.cancel()
            self._activities -= 1
        await self._dispatch()

    async def _renew(self, item: ActivityWorkItem) -> None:
        with contextlib.suppress(WorkItemLost):  # let go of by the store: its completion says so
            while True:
                item = await self.store.renew_activity_work_item(item)
                await asyncio.sleep(self.options.activity_renew_interval)

    # --- time -----------------------------------------------------------------------------
    async def _skip_time(self) -> bool:
        clock = self.clock
        if not isinstance(clock, VirtualClock) or not clock.auto_time_skipping:
            return False
        due = await self.store.next_visible_time()
        for schedule in self.schedules:
            if schedule.busy:
                return False
            fires = schedule.next_due()
            if fires is not None and (due is None or fires < due):
                due = fires
        if due is None or due <= clock.now():
            return False
        clock.skip_to(due)
        self.stats.time_skips += 1
        return True

    async def _wait(self) -> None:
        timeout = self.options.poll_interval
        due = await self.store.next_visible_time()
        if due is not None:
            timeout = max(0.0, min(timeout, _seconds_until(due, self.clock.now())))
        if isinstance(self.clock, VirtualClock):
            timeout = min(timeout, 0.05)  # virtual time can also move through advance()
        waiter = self._waiter = asyncio.ensure_future(self.store.wait_for_work(timeout))
        try:
            await asyncio.wait({waiter}, timeout=timeout + 0.1)  # a cancelled waiter (_wake) ends it too
        finally:
            self._waiter = None
            waiter.cancel()


class _Renewer:
    """Renews a running activity's lock every ``activity_renew_interval``; a task only once due."""

    def __init__(self, dispatcher: Dispatcher, item: ActivityWorkItem) -> None:
        self.task: asyncio.Task[None] | None = None
        self.timer = asyncio.get_running_loop().call_later(
            dispatcher.options.activity_renew_interval, self._start, dispatcher, item
        )

    def _start(self, dispatcher: Dispatcher, item: ActivityWorkItem) -> None:
        self.task = asyncio.ensure_future(dispatcher._renew(item))

    def cancel(self) -> None:
        self.timer.cancel()
        if self.task is not None:
            self.task.cancel()


def _seconds_until(moment: datetime, now: datetime) -> float:
    return (moment - now).total_seconds()
