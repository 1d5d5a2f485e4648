"""One orchestration episode: messages in, history + actions + outgoing work out.

An episode takes a locked work item (instance row, history, new messages), appends an
``OrchestratorStarted`` and the new events, replays the orchestrator through the SDK's handle
(unless the host's replay proves user code is still blocked), maps the returned actions to
history events, activity work items, timers and messages, and returns one
:class:`~devhost.store.base.EpisodeCommit` for the store to apply atomically.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..errors import NonDeterminismError
from ..store.base import EpisodeCommit, Message, OrchestrationInstance, OrchestrationWorkItem, RuntimeStatus
from . import history as h
from .actions import ActionError, OrchestratorState, parse_failure, parse_state
from .context import build_context, encode_events
from .replay import NewTask, ReplayResult, ShimReplay, TaskKind, replay
from .scheduling import Functions, schedule_new_tasks

log = logging.getLogger("devhost.orchestration")

InvokeOrchestrator = Callable[[str, str], Awaitable[str]]
"""``(orchestrator name, context JSON) -> OrchestratorState JSON`` (raises on user failure)."""


@dataclass
class CachedReplay:
    """The last replay of an instance: its actions and the host replay state after them."""

    execution_id: str
    history_length: int
    state: OrchestratorState
    shim: ShimReplay
    completed: set[tuple[str, int]]
    encoded: list[str]


@dataclass
class ActionCache:
    """Last replay per instance, so an episode whose user code is provably still blocked
    skips the Python replay and continues the host replay incrementally (O(new events)).

    Valid only for the exact history it was computed on (same execution and length), so a
    second host working on the same hub simply misses the cache.
    """

    entries: dict[str, CachedReplay] = field(default_factory=dict)

    def take(self, instance: OrchestrationInstance, history_length: int) -> CachedReplay | None:
        entry = self.entries.pop(instance.instance_id, None)
        if entry and entry.execution_id == instance.execution_id and entry.history_length == history_length:
            return entry
        return None

    def put(self, instance: OrchestrationInstance, entry: CachedReplay) -> None:
        self.entries[instance.instance_id] = entry

    def drop(self, instance_id: str) -> None:
        self.entries.pop(instance_id, None)


@dataclass
class EpisodeStats:
    replays: int = 0
    skipped_replays: int = 0
    episodes: int = 0


class Episode:
    """Process one work item; :meth:`run` returns the commit."""

    def __init__(
        self,
        work_item: OrchestrationWorkItem,
        now: datetime,
        functions: Functions,
        invoke: InvokeOrchestrator,
        cache: ActionCache,
        stats: EpisodeStats,
    ) -> None:
        self.item = work_item
        self.now = now
        self.functions = functions
        self.invoke = invoke
        self.cache = cache
        self.stats = stats
        self.instance = replace(work_item.instance) if work_item.instance else None
        self.history = list(work_item.history)
        self.appended: list[h.HistoryEvent] = []
        self.new_execution = False
        self.consumed: list[str] = []
        self.messages: list[Message] = []
        self.commit_extra: dict[str, Any] = {"activities": [], "started": []}
        self.encoded: list[str] | None = None  # self.history[:encoded_count] as JSON texts
        self.encoded_count = 0

    # --- entry point --------------------------------------------------------------------
    async def run(self) -> EpisodeCommit:
        self.stats.episodes += 1
        instance = self.instance
        if instance is None:  # purged: drop whatever was still addressed to it
            return EpisodeCommit(None, consumed=[m.message_id for m in self.item.messages])
        self.cached = self.cache.take(instance, len(self.item.history))
        events = self._select_events(instance)
        if not events:
            return self._commit()
        self._append(h.orchestrator_started(self.now))
        for event in events:
            if event["EventType"] == h.EventType.ExecutionStarted:
                self._start_execution(instance, event)
            elif event["EventType"] == h.EventType.ExecutionTerminated:
                return self._finish_terminated(instance, event)
            elif event["EventType"] == h.EventType.ExecutionSuspended:
                instance.runtime_status = RuntimeStatus.SUSPENDED
                instance.output = event.get("Reason")
                self._append(event)
            elif event["EventType"] == h.EventType.ExecutionResumed:
                instance.runtime_status = RuntimeStatus.RUNNING
                instance.output = None
                self._append(event)
            else:
                self._append(event)
        if instance.runtime_status is RuntimeStatus.SUSPENDED:
            self._append(h.orchestrator_completed(self.now))
            return self._commit()
        await self._execute(instance)
        return self._commit()

    # --- message selection ----------------------------------------------------------------
    def _select_events(self, instance: OrchestrationInstance) -> list[h.HistoryEvent]:
        """Pick this episode's events; leave held ones queued, drop stale and duplicate ones."""
        completed_ids = self.cached.completed if self.cached else _completed_task_ids(self.history)
        self.completed = completed_ids
        events: list[h.HistoryEvent] = []
        for message in self.item.messages:
            event = message.event
            etype = event["EventType"]
            if etype == h.EventType.ExecutionStarted:
                if message.execution_id not in (None, instance.execution_id) or self.history:
                    self.consumed.append(message.message_id)
                    continue
            elif instance.runtime_status.is_terminal or (
                message.execution_id is not None and message.execution_id != instance.execution_id
            ):
                self.consumed.append(message.message_id)  # stale: for another execution, or done
                continue
            key = _completion_key(event)
            self.consumed.append(message.message_id)
            if key is not None:
                if key in completed_ids:
                    continue  # redelivered completion: already in history
                completed_ids.add(key)
            events.append(event)
        return events

    # --- lifecycle events ---------------------------------------------------------------
    def _start_execution(self, instance: OrchestrationInstance, event: h.HistoryEvent) -> None:
        instance.runtime_status = RuntimeStatus.RUNNING
        instance.execution_id = event["OrchestrationInstance"]["ExecutionId"]
        instance.last_updated_time = self.now
        self._append(event)

    def _finish_terminated(self, instance: OrchestrationInstance, event: h.HistoryEvent) -> EpisodeCommit:
        reason = event.get("Input") or ""
        self._append(event)
        self._complete(instance, RuntimeStatus.TERMINATED, json.dumps(reason), reason_text=reason)
        return self._commit()

    # --- replay -------------------------------------------------------------------------
    async def _execute(self, instance: OrchestrationInstance) -> None:
        cached = self._continue_cached_replay()
        if cached is not None:
            result = cached.shim.result()
            if result.blocked:
                self.stats.skipped_replays += 1
                self._schedule(instance, cached.state, cached.shim, result)
                return
        self.stats.replays += 1
        context = build_context(instance, self.history, self._encoded_history())
        try:
            state = parse_state(await self.invoke(instance.name, context), cached.state if cached else None)
        except ActionError as exc:
            self._fail(instance, str(exc), None)
            return
        except Exception as exc:  # user code raised: the SDK packs its state into the message
            message, state_or_none = parse_failure(str(exc))
            self._fail(instance, message, state_or_none)
            return
        try:
            if cached is not None and cached.shim.extend(state.actions):
                shim = cached.shim
            else:
                shim = replay(state.actions, self.history, instance.execution_id)
            result = shim.result()
        except NonDeterminismError as exc:
            self._fail(instance, f"Non-Deterministic workflow detected: {exc}", state)
            return
        unknown = _unknown_functions(result.new_tasks, self.functions)
        if unknown:
            self._fail(instance, unknown, state)
            return
        self._apply_custom_status(instance, state)
        if state.is_done and result.continue_as_new is not None:
            self._continue_as_new(instance, result.continue_as_new.input)
            return
        if state.is_done and result.all_actions_done and not result.has_open_tasks:
            output = json.dumps(state.output) if state.output is not None else None
            self._complete(instance, RuntimeStatus.COMPLETED, output)
            return
        self._schedule(instance, state, shim, result)

    def _continue_cached_replay(self) -> CachedReplay | None:
        """The previous episode's host replay, advanced through this episode's new events."""
        cached = self.cached
        if cached is None or cached.state.is_done or cached.state.error is not None:
            return None
        try:
            for event in self.appended:
                cached.shim.apply(event)
        except NonDeterminismError:
            return None
        return cached

    def _schedule(
        self, instance: OrchestrationInstance, state: OrchestratorState, shim: ShimReplay, result: ReplayResult
    ) -> None:
        """Write the new tasks' scheduling events, end the episode, remember the replay."""
        scheduled = schedule_new_tasks(instance, result.new_tasks, self.now, self.functions)
        self.messages.extend(scheduled.messages)
        self.commit_extra["activities"].extend(scheduled.activities)
        self.commit_extra["started"].extend(scheduled.started)
        closing = [*scheduled.events, h.orchestrator_completed(self.now)]
        for event in closing:
            self._append(event)
            shim.apply(event)
        instance.last_updated_time = self.now
        self.cache.put(instance, CachedReplay(
            instance.execution_id, len(self.history), state, shim, self.completed, self._encoded_history()
        ))

    def _encoded_history(self) -> list[str]:
        """The history as JSON texts, each event encoded once (the cached list grows in place)."""
        if self.encoded is None:
            cached = self.cached
            self.encoded = cached.encoded if cached is not None else []
            self.encoded_count = cached.history_length if cached is not None else 0
        if self.encoded_count < len(self.history):
            self.encoded.extend(encode_events(self.history[self.encoded_count:]))
            self.encoded_count = len(self.history)
        return self.encoded

    # --- outcomes -----------------------------------------------------------------------
    def _apply_custom_status(self, instance: OrchestrationInstance, state: OrchestratorState | None) -> None:
        if state is not None:
            status = state.custom_status
            instance.custom_status = json.dumps(status) if status is not None else None

    def _fail(self, instance: OrchestrationInstance, message: str, state: OrchestratorState | None) -> None:
        self._apply_custom_status(instance, state)
        text = f"Orchestrator function '{instance.name}' failed: {message}"
        log.warning("instance %s (%s) failed: %s", instance.instance_id, instance.name, message)
        details = f"Message: {message}, StackTrace: (see the devhost log)"
        self._complete(instance, RuntimeStatus.FAILED, json.dumps(text), reason_text=text, details=details)

    def _complete(
        self,
        instance: OrchestrationInstance,
        status: RuntimeStatus,
        output: str | None,
        *,
        reason_text: str | None = None,
        details: str | None = None,
    ) -> None:
        """Close the execution with ``status`` and notify a parent orchestration."""
        self._append(h.event(
            h.EventType.ExecutionCompleted, self.now, _next_event_id(self.history),
            OrchestrationStatus=status.history_code, Result=reason_text if reason_text is not None else output,
        ))
        self._append(h.orchestrator_completed(self.now))
        instance.runtime_status = status
        instance.output = output
        instance.completed_time = instance.last_updated_time = self.now
        self.cache.drop(instance.instance_id)
        parent = _parent_of(self.history)
        if parent is None:
            return
        target, execution, task_id = parent
        if status is RuntimeStatus.COMPLETED:
            event = h.event(
                h.EventType.SubOrchestrationInstanceCompleted, self.now, TaskScheduledId=task_id, Result=output
            )
        else:
            event = h.event(
                h.EventType.SubOrchestrationInstanceFailed, self.now, TaskScheduledId=task_id,
                Reason=reason_text or "", Details=details,
            )
        self.messages.append(Message(_message_id(), target, event, execution_id=execution))

    def _continue_as_new(self, instance: OrchestrationInstance, new_input: str | None) -> None:
        started = next(e for e in self.history if e["EventType"] == h.EventType.ExecutionStarted)
        execution_id = h.new_execution_id()
        stored_input = json.dumps(new_input) if new_input is not None else None
        event = h.execution_started(
            self.now, instance_id=instance.instance_id, execution_id=execution_id, name=instance.name,
            input=stored_input, version=started.get("Version") or "", parent=started.get("ParentInstance"),
        )
        instance.runtime_status = RuntimeStatus.CONTINUED_AS_NEW
        instance.execution_id = execution_id
        instance.input = stored_input
        instance.output = None
        instance.last_updated_time = self.now
        self.cache.drop(instance.instance_id)
        self.history, self.appended, self.new_execution = [], [], True
        self.encoded, self.encoded_count = None, 0
        self.messages.append(Message(_message_id(), instance.instance_id, event, execution_id=execution_id))

    # --- plumbing -----------------------------------------------------------------------
    def _append(self, event: h.HistoryEvent) -> None:
        self.history.append(event)
        self.appended.append(event)

    def _commit(self) -> EpisodeCommit:
        return EpisodeCommit(
            instance=self.instance,
            history=self.appended,
            new_execution=self.new_execution,
            consumed=self.consumed,
            messages=self.messages,
            activities=self.commit_extra["activities"],
            started=self.commit_extra["started"],
        )


def _completion_key(event: h.HistoryEvent) -> tuple[str, int] | None:
    etype = event["EventType"]
    if etype in (h.EventType.TaskCompleted, h.EventType.TaskFailed,
                 h.EventType.SubOrchestrationInstanceCompleted, h.EventType.SubOrchestrationInstanceFailed):
        return ("task", event.get("TaskScheduledId"))
    if etype == h.EventType.TimerFired:
        return ("timer", event.get("TimerId"))
    return None


def _completed_task_ids(history: list[h.HistoryEvent]) -> set[tuple[str, int] | None]:
    return {_completion_key(e) for e in history} - {None}


def _next_event_id(history: list[h.HistoryEvent]) -> int:
    ids = [e["EventId"] for e in history if e.get("EventId", -1) >= 0]
    return max(ids, default=-1) + 1


def _parent_of(history: list[h.HistoryEvent]) -> tuple[str, str, int] | None:
    for event in history:
        if event["EventType"] == h.EventType.ExecutionStarted:
            parent = event.get("ParentInstance")
            if parent:
                ids = parent["OrchestrationInstance"]
                return ids["InstanceId"], ids["ExecutionId"], parent["TaskScheduleId"]
            return None
    return None


def _unknown_functions(tasks: tuple[NewTask, ...], functions: Functions) -> str | None:
    for task in tasks:
        is_activity = task.kind is TaskKind.ACTIVITY and task.http_request is None
        if is_activity and (task.name or "").lower() not in functions.activities:
            known = ", ".join(f"'{n}'" for n in sorted(functions.activities.values()))
            return (f"The function '{task.name}' doesn't exist, is disabled, or is not an activity "
                    f"function. Additional info: The following are the known activity functions: {known}.")
        if task.kind is TaskKind.SUB_ORCHESTRATION and (task.name or "").lower() not in functions.orchestrators:
            known = ", ".join(f"'{n}'" for n in sorted(functions.orchestrators.values()))
            return (f"The function '{task.name}' doesn't exist, is disabled, or is not an orchestrator "
                    f"function. Additional info: The following are the known orchestrator functions: {known}.")
    return None


def _message_id() -> str:
    return uuid.uuid4().hex
