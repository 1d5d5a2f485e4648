"""Run one agent on an activity's JSON input: validate, prepare the payload, answer (model or offline).

A permanent failure (bad input, a refusal, a reply that never matched the schema, missing
configuration) is returned as data, ``AgentResult.failure``, so Durable does not retry what
cannot succeed and the orchestrator reads ``kind`` and ``permanent`` instead of parsing text.
A transient failure (rate limit, timeout, 5xx, storage hiccup) raises
:class:`TransientAgentError` and the workflow's Durable retry policy tries again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .agent import Agent, Call
from .inputs import AgentInput, Failure
from .llm.errors import PermanentAgentError
from .llm.gateway import complete
from .llm.offline import run_offline
from .llm.structured import describe
from .logs import AgentLogger, CallContext, agent_logger
from .models import AgentResult
from .settings import OFFLINE, Settings


async def run_agent(agent: Agent, raw: Any, agents: Mapping[str, Agent]) -> dict[str, Any]:
    """The activity body: ``raw`` is what Durable delivered, the return value is ``AgentResult`` JSON."""
    data = _decode(raw)
    context, log = _context(agent.name, data)
    settings: Settings | None = None
    try:
        settings = Settings.from_env()
        inp = _validate(agent.input_model, data, agent.name)
        call = Call(settings, log, context, agents)
        payload = await agent.prepare(inp, call)
        if not agent.uses_model or settings.backend == OFFLINE:
            return run_offline(agent, payload, context.attempt).model_dump(mode="json")
        log.info("running on %s", settings.backend)
        try:
            result = await complete(agent, payload, settings=settings, context=context)
        except PermanentAgentError as exc:
            if not agent.offline_when_refused:
                raise
            log.warning("the model could not answer (%s); answering offline", exc.kind)
            result = run_offline(agent, payload, context.attempt)
        return result.model_dump(mode="json")
    except PermanentAgentError as exc:
        log.warning("failed permanently: %s", exc)
        backend = settings.backend if settings is not None and agent.uses_model else OFFLINE
        return failed(agent, exc, context.attempt, backend)


def failed(agent: Agent, exc: PermanentAgentError, attempt: int | None, backend: str = OFFLINE) -> dict[str, Any]:
    """The AgentResult of a permanent failure: no output, the failure as data (``backend``: the one that failed)."""
    failure = Failure(agent=agent.name, error=str(exc), kind=exc.kind, permanent=True)
    return AgentResult(
        agent=agent.name, backend=backend, model="-", latency_ms=0.0, cost_usd=0.0, attempt=attempt, failure=failure,
    ).model_dump(mode="json")


def _decode(raw: Any) -> Any:
    if isinstance(raw, str | bytes):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _validate(model: type[BaseModel], data: Any, agent: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PermanentAgentError("invalid input: " + "; ".join(describe(exc)), kind="input", agent=agent) from None


_attempts: OrderedDict[tuple[str, str, str], int] = OrderedDict()
_attempts_lock = threading.Lock()
_MAX_TRACKED = 4096


def _context(agent: str, data: Any) -> tuple[CallContext, AgentLogger]:
    """The call's context; ``attempt`` is the input's, else this worker's count of identical calls."""
    fields = data if isinstance(data, dict) else {}
    try:
        known = AgentInput.model_validate({k: fields[k] for k in ("instance_id", "workflow", "attempt") if k in fields})
    except ValidationError:
        known = AgentInput()
    attempt = known.attempt
    if attempt is None and known.instance_id:
        digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
        key = (known.instance_id, agent, digest)
        with _attempts_lock:
            attempt = _attempts[key] = _attempts.get(key, 0) + 1
            _attempts.move_to_end(key)
            while len(_attempts) > _MAX_TRACKED:
                _attempts.popitem(last=False)
    context = CallContext(known.instance_id or None, known.workflow or None, agent, attempt)
    return context, agent_logger(__name__, context)
