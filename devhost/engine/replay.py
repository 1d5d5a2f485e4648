"""Replay the orchestrator's actions against history, as the Durable extension's shim does.

The SDK replays user code; this module replays the *host's* side (``durable-protocol.md``
§4.1-4.5): it walks the cumulative action list in order, starting each top-level action
only when the previous one is done, assigns sequence ids exactly as DTFx does (including the
ids that retry timers and new attempts consume), matches every scheduling event of history
against them (non-determinism check), and reports what is new work, what is still open, and
whether the orchestrator could make progress if it ran again.

Pure: takes actions and history, returns a :class:`ReplayResult`.  No store, clock or I/O.
"""

from __future__ import annotations

import enum
import json
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import NonDeterminismError
from .actions import Action, ActionType, RetryPolicy
from .history import EventType, HistoryEvent, parse_timestamp


class TaskKind(enum.Enum):
    ACTIVITY = "activity"
    SUB_ORCHESTRATION = "sub-orchestration"
    TIMER = "timer"
    ENTITY_CALL = "entity-call"
    ENTITY_SIGNAL = "entity-signal"


_OPEN_KINDS = frozenset({TaskKind.ACTIVITY, TaskKind.SUB_ORCHESTRATION, TaskKind.TIMER})
_KIND_OF_EVENT = {
    EventType.TaskScheduled: TaskKind.ACTIVITY,
    EventType.SubOrchestrationInstanceCreated: TaskKind.SUB_ORCHESTRATION,
    EventType.TimerCreated: TaskKind.TIMER,
    EventType.EventSent: TaskKind.ENTITY_CALL,
}


@dataclass(frozen=True)
class NewTask:
    """A sequence id issued during replay that history has no scheduling event for yet."""

    task_id: int
    kind: TaskKind
    name: str | None = None
    input: str | None = None
    instance_id: str | None = None
    fire_at: datetime | None = None
    canceled: bool = False
    version: str | None = None
    http_request: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReplayResult:
    new_tasks: tuple[NewTask, ...]
    has_open_tasks: bool
    all_actions_done: bool
    continue_as_new: Action | None
    blocked: bool
    next_id: int


class _State(enum.Enum):
    PENDING = 0
    SUCCEEDED = 1
    FAILED = 2
    CANCELED = 3


class _Node:
    """A task of the shim: pending until completed, then tells its parent."""

    def __init__(self, parent: _Node | None) -> None:
        self.parent = parent
        self.state = _State.PENDING

    @property
    def done(self) -> bool:
        return self.state is not _State.PENDING

    def settle(self, state: _State, sim: ShimReplay) -> None:
        if self.done:
            return
        self.state = state
        if self.parent is not None:
            self.parent.child_settled(self, sim)

    def child_settled(self, child: _Node, sim: ShimReplay) -> None:  # pragma: no cover - leaves
        raise NotImplementedError

    def sdk_settled(self) -> bool | None:
        """Whether user code would see this task finished; ``None`` when unknowable."""
        return self.done


class _Leaf(_Node):
    """A task with a sequence id: activity, sub-orchestration, timer, entity call/signal."""

    def __init__(self, parent: _Node | None, task: NewTask) -> None:
        super().__init__(parent)
        self.task = task
        self.matched = False

    def settle(self, state: _State, sim: ShimReplay) -> None:
        sim.open.pop(self.task.task_id, None)
        super().settle(state, sim)


class _EventWait(_Node):
    def __init__(self, parent: _Node | None, name: str) -> None:
        super().__init__(parent)
        self.name = name

    def sdk_settled(self) -> bool | None:
        return None  # the SDK re-delivers buffered events (issue #507): do not guess


class _Immediate(_Node):
    """Signal / continue-as-new: done as soon as started."""


class _Group(_Node):
    """WhenAll / WhenAny over children started together, in order."""

    def __init__(self, parent: _Node | None, any_of: bool) -> None:
        super().__init__(parent)
        self.any_of = any_of
        self.children: list[_Node] = []
        self.pending = 0
        self.failed = 0
        self.flat = False  # no child is a group or an event wait: settled by the counts alone

    def seal(self) -> None:
        """Count the children once all are started."""
        self.pending = sum(1 for c in self.children if not c.done)
        self.failed = sum(1 for c in self.children if c.state is _State.FAILED)
        self.flat = not any(isinstance(c, _Group | _EventWait) for c in self.children)
        if (self.any_of and self.pending < len(self.children)) or self.pending == 0:
            self.state = _State.SUCCEEDED

    def child_settled(self, child: _Node, sim: ShimReplay) -> None:
        self.pending -= 1
        if child.state is _State.FAILED:
            self.failed += 1
        if self.any_of or self.pending == 0:
            self.settle(_State.SUCCEEDED, sim)

    def sdk_settled(self) -> bool | None:
        if self.flat:  # each child's answer is its done state: O(1) instead of O(children)
            if self.any_of:
                return self.pending < len(self.children)
            return self.failed > 0 or self.pending == 0
        answers = [c.sdk_settled() for c in self.children]
        if None in answers:
            return None
        return any(answers) if self.any_of else self.failed > 0 or all(answers)


class _Retry(_Node):
    """``CallActivityWithRetry`` / ``CallSubOrchestratorWithRetry`` run by the host (§4.5)."""

    def __init__(self, parent: _Node | None, action: Action, sim: ShimReplay) -> None:
        super().__init__(parent)
        self.action = action
        self.policy: RetryPolicy = action.retry  # type: ignore[assignment]
        self.failures = 0
        self.final = False
        self.first_attempt_time = sim.current_time
        self.current: _Node = sim.start_call(self, action)

    def child_settled(self, child: _Node, sim: ShimReplay) -> None:
        if isinstance(child, _Leaf) and child.task.kind is TaskKind.TIMER:
            if self.final:
                self.settle(_State.FAILED, sim)
            else:
                self.current = sim.start_call(self, self.action)
            return
        if child.state is _State.SUCCEEDED:
            self.settle(_State.SUCCEEDED, sim)
            return
        self.failures += 1
        if self.failures >= self.policy.max_attempts:
            self.final = True  # the "dummy" timer the SDK waits for before raising
            self.current = sim.start_timer(self, sim.current_time)
            return
        if self.policy.timeout_ms is not None:
            deadline = self.first_attempt_time + timedelta(milliseconds=self.policy.timeout_ms)
            if sim.current_time >= deadline:
                self.settle(_State.FAILED, sim)
                return
        delay = timedelta(milliseconds=self.policy.delay_ms(self.failures))
        self.current = sim.start_timer(self, sim.current_time + delay)


class ShimReplay:
    """The shim's state after consuming history; :meth:`apply` continues it incrementally."""

    def __init__(self, actions: tuple[Action, ...], execution_id: str) -> None:
        self.actions = actions
        self.execution_id = execution_id
        self.next_id = 0
        self.current_time = datetime.min
        self.leaves: dict[int, _Leaf] = {}
        self.unmatched: dict[int, _Leaf] = {}  # issued, no scheduling event in history yet
        self.open: dict[int, _Leaf] = {}  # activities, sub-orchestrations and timers not done yet
        self.waiters: dict[str, deque[_EventWait]] = {}
        self.buffered: dict[str, deque[Any]] = {}
        self.requests: dict[str, _Leaf] = {}
        self.top: list[_Node] = []
        self.continue_as_new: Action | None = None
        self.exhausted_at: int | None = None

    # --- starting actions ---------------------------------------------------------------
    def issue(self, parent: _Node | None, kind: TaskKind, **fields: Any) -> _Leaf:
        leaf = _Leaf(parent, NewTask(self.next_id, kind, **fields))
        self.leaves[self.next_id] = leaf
        self.unmatched[self.next_id] = leaf
        if kind in _OPEN_KINDS:
            self.open[self.next_id] = leaf
        self.next_id += 1
        return leaf

    def start_timer(self, parent: _Node | None, fire_at: datetime, canceled: bool = False) -> _Leaf:
        leaf = self.issue(parent, TaskKind.TIMER, fire_at=fire_at, canceled=canceled)
        if canceled:
            leaf.state = _State.CANCELED
            del self.open[leaf.task.task_id]
        return leaf

    def start_call(self, parent: _Node | None, action: Action) -> _Leaf:
        if action.type in (ActionType.CallSubOrchestrator, ActionType.CallSubOrchestratorWithRetry):
            instance_id = action.instance_id or f"{self.execution_id}:{self.next_id}"
            return self.issue(
                parent, TaskKind.SUB_ORCHESTRATION, name=action.name, input=action.input,
                instance_id=instance_id, version=action.version,
            )
        return self.issue(
            parent, TaskKind.ACTIVITY, name=action.name, input=action.input, http_request=action.http_request
        )

    def start(self, parent: _Node | None, action: Action) -> _Node:
        kind = action.type
        if kind in (ActionType.WhenAll, ActionType.WhenAny):
            group = _Group(parent, any_of=kind is ActionType.WhenAny)
            for child in action.children:
                group.children.append(self.start(group, child))
            group.seal()
            return group
        if kind in (ActionType.CallActivityWithRetry, ActionType.CallSubOrchestratorWithRetry):
            return _Retry(parent, action, self)
        if kind in (ActionType.CallActivity, ActionType.CallSubOrchestrator, ActionType.CallHttp):
            return self.start_call(parent, action)
        if kind == ActionType.CreateTimer:
            fire_at = parse_timestamp(action.fire_at) if action.fire_at else self.current_time
            return self.start_timer(parent, fire_at, canceled=action.is_canceled)
        if kind == ActionType.WaitForExternalEvent:
            wait = _EventWait(parent, action.name or "")
            if self.buffered.get(wait.name):
                self.buffered[wait.name].popleft()
                wait.state = _State.SUCCEEDED
            else:
                self.waiters.setdefault(wait.name, deque()).append(wait)
            return wait
        if kind == ActionType.CallEntity:
            return self.issue(
                parent, TaskKind.ENTITY_CALL, name=action.name, input=action.input,
                instance_id=action.instance_id,
            )
        if kind in (ActionType.SignalEntity, ActionType.ScheduledSignalEntity):
            leaf = self.issue(
                parent, TaskKind.ENTITY_SIGNAL, name=action.name, input=action.input,
                instance_id=action.instance_id,
            )
            leaf.state = _State.SUCCEEDED
            return leaf
        if kind == ActionType.ContinueAsNew:
            self.continue_as_new = action
            node = _Immediate(parent)
            node.state = _State.SUCCEEDED
            return node
        raise NonDeterminismError(f"unsupported action type {kind!r}")

    def advance(self) -> None:
        """Start top-level actions while the previous one is done (the shim awaits each)."""
        while len(self.top) < len(self.actions) and (not self.top or self.top[-1].done):
            if self.continue_as_new is not None:
                return
            self.top.append(self.start(None, self.actions[len(self.top)]))
        if self.exhausted_at is None and len(self.top) == len(self.actions) and (not self.top or self.top[-1].done):
            self.exhausted_at = self.next_id

    def extend(self, actions: tuple[Action, ...]) -> bool:
        """Continue with a longer action list, if that equals replaying from scratch.

        True when ``actions`` starts with the current ones and no sequence id was issued
        since the last current action finished (so the new ones get the same ids they
        would have got in a full replay); otherwise nothing changes and the caller replays.
        """
        count = len(self.actions)
        if self.exhausted_at != self.next_id or len(actions) < count or actions[:count] != self.actions:
            return False
        self.actions = actions
        self.exhausted_at = None
        self.advance()
        return True

    # --- consuming history --------------------------------------------------------------
    def apply(self, event: HistoryEvent) -> None:
        etype = event["EventType"]
        if etype == EventType.OrchestratorStarted:
            self.current_time = parse_timestamp(event["Timestamp"])
        elif etype in _KIND_OF_EVENT:
            self.match(event, _KIND_OF_EVENT[EventType(etype)])
        elif etype in (EventType.TaskCompleted, EventType.SubOrchestrationInstanceCompleted):
            self.complete(event.get("TaskScheduledId"), _State.SUCCEEDED)
        elif etype in (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed):
            self.complete(event.get("TaskScheduledId"), _State.FAILED)
        elif etype == EventType.TimerFired:
            self.complete(event.get("TimerId"), _State.SUCCEEDED)
        elif etype == EventType.EventRaised:
            self.raise_event(event)
        else:
            return
        self.advance()

    def match(self, event: HistoryEvent, kind: TaskKind) -> None:
        task_id = event.get("EventId")
        leaf = self.leaves.get(task_id) if isinstance(task_id, int) else None
        name = event.get("Name")
        if leaf is None or leaf.matched:
            raise NonDeterminismError(
                f"A previous execution of this orchestration scheduled {_describe(kind, name)} "
                f"with sequence number {task_id}, but the current replay execution hasn't (yet?) "
                "scheduled this task. Was a change made to the orchestrator code after this "
                "instance had already started running?"
            )
        actual = leaf.task.kind
        if kind is TaskKind.ENTITY_CALL and actual is TaskKind.ENTITY_SIGNAL:
            actual = kind
        if actual is not kind or (
            kind is not TaskKind.TIMER and (name or "").lower() != (leaf.task.name or "").lower()
            and kind is not TaskKind.ENTITY_CALL
        ):
            raise NonDeterminismError(
                f"A previous execution of this orchestration scheduled {_describe(kind, name)} with "
                f"sequence ID {task_id}, but the current replay execution scheduled "
                f"{_describe(leaf.task.kind, leaf.task.name)} instead. Was a change made to the "
                "orchestrator code after this instance had already started running?"
            )
        leaf.matched = True
        del self.unmatched[task_id]
        if leaf.task.kind is TaskKind.ENTITY_CALL:
            request = _request_id(event.get("Input"))
            if request:
                self.requests[request] = leaf

    def complete(self, task_id: Any, state: _State) -> None:
        leaf = self.leaves.get(task_id) if isinstance(task_id, int) else None
        if leaf is not None and not leaf.done:
            leaf.settle(state, self)

    def raise_event(self, event: HistoryEvent) -> None:
        name = event.get("Name") or ""
        leaf = self.requests.pop(name, None)
        if leaf is not None:
            failed = '"exceptionType"' in (event.get("Input") or "")
            leaf.settle(_State.FAILED if failed else _State.SUCCEEDED, self)
            return
        queue = self.waiters.get(name)
        while queue:
            wait = queue.popleft()
            if not wait.done:
                wait.settle(_State.SUCCEEDED, self)
                return
        self.buffered.setdefault(name, deque()).append(event.get("Input"))

    # --- results ------------------------------------------------------------------------
    def blocked(self) -> bool:
        """True when user code is provably waiting on a task that is still unsettled."""
        if len(self.top) < len(self.actions):
            return False
        last = next((n for n in reversed(self.top) if not isinstance(n, _Immediate)), None)
        return last is not None and last.sdk_settled() is False

    def result(self) -> ReplayResult:
        """What the replay found; O(new and open tasks), not O(history)."""
        new = tuple(leaf.task for leaf in self.unmatched.values())
        # A top-level action starts only once the one before it is done, and done is final:
        # every top-level node is done when the last one is.
        all_done = len(self.top) == len(self.actions) and (not self.top or self.top[-1].done)
        cont = self.continue_as_new if self.top and self.top[-1].done else None
        return ReplayResult(new, bool(self.open), all_done, cont, self.blocked(), self.next_id)


def replay(actions: tuple[Action, ...], history: list[HistoryEvent], execution_id: str = "") -> ShimReplay:
    """Drive ``actions`` through ``history`` (the whole current execution, new events last).

    Returns the replay state: call ``.result()`` for what it found, or ``.apply(event)`` to
    continue with later events (equivalent to replaying the longer history from scratch).
    Raises :class:`NonDeterminismError` when a scheduling event of history does not match
    the action that the replay assigned to its sequence id.
    """
    sim = ShimReplay(actions, execution_id)
    for event in history:
        if event["EventType"] == EventType.OrchestratorStarted:
            sim.current_time = parse_timestamp(event["Timestamp"])
            break
    sim.advance()
    for event in history:
        sim.apply(event)
    return sim


def _describe(kind: TaskKind, name: str | None) -> str:
    return f"{kind.value} '{name}'" if name else f"a {kind.value}"


def _request_id(input_text: str | None) -> str | None:
    try:
        data = json.loads(input_text or "")
    except ValueError:
        return None
    return data.get("id") if isinstance(data, dict) else None
