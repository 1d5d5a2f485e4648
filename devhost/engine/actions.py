"""Parse what the orchestrator returns: the OrchestratorState JSON and its actions.

Pure functions over frozen dataclasses (``durable-protocol.md`` §3).  Schema V1 (one inner
list per ``yield``) is normalised to the V2+ shape: a multi-action inner list becomes a
``WhenAll`` compound action, as the extension does.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from .. import jsontext

OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"
SIX_DAYS_MS = 6 * 24 * 3600 * 1000


class ActionType(enum.IntEnum):
    CallActivity = 0
    CallActivityWithRetry = 1
    CallSubOrchestrator = 2
    CallSubOrchestratorWithRetry = 3
    ContinueAsNew = 4
    CreateTimer = 5
    WaitForExternalEvent = 6
    CallEntity = 7
    CallHttp = 8
    SignalEntity = 9
    ScheduledSignalEntity = 10
    WhenAny = 11
    WhenAll = 12


class ActionError(ValueError):
    """The orchestrator returned something that is not a valid OrchestratorState."""


@dataclass(frozen=True)
class RetryPolicy:
    """Durable retry options (extension defaults for what the Python SDK does not send)."""

    first_interval_ms: float
    max_attempts: int
    backoff_coefficient: float = 1.0
    max_interval_ms: float = SIX_DAYS_MS
    timeout_ms: float | None = None

    def delay_ms(self, failed_attempts: int) -> float:
        """Delay before the next attempt after ``failed_attempts`` failures (1-based)."""
        delay = self.first_interval_ms * self.backoff_coefficient ** (failed_attempts - 1)
        return min(delay, self.max_interval_ms)


@dataclass(frozen=True)
class Action:
    """One action of the cumulative action list; compound actions carry ``children``."""

    type: ActionType
    name: str | None = None
    input: str | None = None
    instance_id: str | None = None
    fire_at: str | None = None
    is_canceled: bool = False
    retry: RetryPolicy | None = None
    children: tuple[Action, ...] = ()
    http_request: dict[str, Any] | None = None
    version: str | None = None


@dataclass(frozen=True)
class OrchestratorState:
    """The orchestrator's answer for one replay."""

    is_done: bool
    actions: tuple[Action, ...]
    output: Any = None
    error: str | None = None
    custom_status: Any = None
    schema_version: int = 0
    raw_actions: list[Any] = field(default_factory=list, compare=False, repr=False)
    """The action objects as received (schema V2+), to reuse their parse in the next episode."""


def parse_state(text: str | dict[str, Any], previous: OrchestratorState | None = None) -> OrchestratorState:
    """Parse the JSON text returned by the orchestrator handle.

    The action list is cumulative: when it starts with ``previous``'s action objects, their
    parsed :class:`Action` objects are reused (the same objects, so comparing is cheap).
    """
    data = jsontext.loads(text) if isinstance(text, str) else text
    if not isinstance(data, dict) or "actions" not in data:
        raise ActionError(f"not an OrchestratorState: {str(text)[:200]}")
    schema = int(data.get("schemaVersion") or 0)
    outer = data.get("actions") or []
    raw: list[Any] = []
    if schema >= 1:
        if len(outer) > 1:
            raise ActionError("expected actions array to be of length 1 in outer layer")
        raw = outer[0] if outer else []
        if not isinstance(raw, list | tuple):
            raise ActionError(f"not an action list: {str(raw)[:200]}")
        raw = list(raw)
        top = _parse_actions(raw, previous)
    else:
        top = tuple(_v1_group(inner) for inner in outer if inner)
    return OrchestratorState(
        is_done=bool(data.get("isDone")),
        actions=top,
        output=data.get("output"),
        error=data.get("error"),
        custom_status=data.get("customStatus"),
        schema_version=schema,
        raw_actions=raw,
    )


def _parse_actions(raw: list[Any], previous: OrchestratorState | None) -> tuple[Action, ...]:
    known = previous.raw_actions if previous is not None else []
    count = len(known)
    if count and len(raw) >= count and raw[:count] == known:
        return previous.actions + tuple(parse_action(a) for a in raw[count:])  # type: ignore[union-attr]
    return tuple(parse_action(a) for a in raw)


def parse_failure(exc_text: str) -> tuple[str, OrchestratorState | None]:
    """Split an orchestrator exception into (message, state) per ``$OutOfProcData$``."""
    if OUT_OF_PROC_MARKER not in exc_text:
        return exc_text, None
    message, _, payload = exc_text.partition(OUT_OF_PROC_MARKER)
    try:
        state = parse_state(payload)
    except (ValueError, ActionError):
        return message, None
    return state.error or message, state


def parse_action(data: dict[str, Any]) -> Action:
    """Parse one action object (recursively for WhenAll / WhenAny)."""
    try:
        kind = ActionType(int(data["actionType"]))
    except (KeyError, ValueError) as exc:
        raise ActionError(f"unknown action: {json.dumps(data)[:200]}") from exc
    if kind in (ActionType.WhenAll, ActionType.WhenAny):
        return Action(kind, children=tuple(parse_action(c) for c in data.get("compoundActions") or []))
    if kind == ActionType.WaitForExternalEvent:
        return Action(kind, name=data.get("externalEventName"))
    if kind == ActionType.CreateTimer:
        return Action(kind, fire_at=data.get("fireAt"), is_canceled=bool(data.get("isCanceled")))
    if kind == ActionType.ContinueAsNew:
        return Action(kind, input=data.get("input"))
    if kind in (ActionType.CallEntity, ActionType.SignalEntity, ActionType.ScheduledSignalEntity):
        return Action(
            kind, name=data.get("operation"), input=data.get("input"),
            instance_id=data.get("instanceId"), fire_at=data.get("fireAt"),
        )
    if kind == ActionType.CallHttp:
        return Action(kind, name="BuiltIn::HttpActivity", http_request=data.get("httpRequest") or {})
    retry = _retry_policy(data.get("retryOptions")) if "retryOptions" in data else None
    return Action(
        kind,
        name=data.get("functionName"),
        input=data.get("input"),
        instance_id=data.get("instanceId"),
        retry=retry,
        version=data.get("version"),
    )


def _retry_policy(options: dict[str, Any] | None) -> RetryPolicy:
    options = options or {}
    first = float(options.get("firstRetryIntervalInMilliseconds") or 0)
    attempts = int(options.get("maxNumberOfAttempts") or 1)
    if first <= 0:
        raise ActionError("firstRetryIntervalInMilliseconds must be greater than 0")
    timeout = options.get("retryTimeoutInMilliseconds")
    return RetryPolicy(
        first_interval_ms=first,
        max_attempts=max(attempts, 1),
        backoff_coefficient=float(options.get("backoffCoefficient") or 1.0),
        max_interval_ms=float(options.get("maxRetryIntervalInMilliseconds") or SIX_DAYS_MS),
        timeout_ms=float(timeout) if timeout else None,
    )


def _v1_group(inner: list[dict[str, Any]]) -> Action:
    actions = tuple(parse_action(a) for a in inner)
    return actions[0] if len(actions) == 1 else Action(ActionType.WhenAll, children=actions)
