"""The LLM gateway: ``complete(agent, payload) -> AgentResult``.

1. Read the settings now and pick the backend: ``azure-openai``, ``openai`` or ``offline``.
2. (LLM backends) Key the call (:func:`agents.cache.cache_key`); a permanent failure of the
   same key remembered in process is raised again without a request; a cached result is
   returned with ``cached: true`` and zero usage (this call spent nothing).
3. Ask for JSON matching ``spec.output_model`` (the SDK's strict schema by default, see
   :mod:`agents.llm.structured`) and validate it; on servers without strict mode, repair
   once on failure (usage of both requests is summed).  ``spec.finalize`` completes the output.
4. Account: backend, model, latency, tokens, cost (price table in settings); store the result.

Failures are :class:`TransientAgentError` or :class:`PermanentAgentError`; nothing else
escapes except programming errors.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ..agent import Agent
from ..cache import ResultCache, cache_key, failures
from ..logs import AgentLogger, CallContext, agent_logger
from ..models import AgentResult, Usage
from ..settings import AZURE_OPENAI, OFFLINE, Settings
from . import azure, openai_compat
from .chat import ChatBackend
from .errors import AgentError, PermanentAgentError, TransientAgentError
from .offline import run_offline
from .pricing import cost_usd, price_for
from .structured import (
    STRICT,
    OutputInvalid,
    build_messages,
    call_schema,
        parse_reply,
    repair_messages,
    response_format,
)


async def complete(
    spec: Agent, payload: Mapping[str, Any], *, settings: Settings | None = None,
    context: CallContext | None = None,
) -> AgentResult:
    """Run ``spec`` on ``payload`` with the configured backend; see the module docstring."""
    settings = settings or Settings.from_env()
    context = context or CallContext(agent=spec.name)
    log = agent_logger(__name__, context)
    if settings.backend == OFFLINE:
        return run_offline(spec, payload, context.attempt)
    backend = select_backend(settings)
    key = cache_key(spec, backend.name, backend.model, payload)
    remembered = failures.recall(key)
    if remembered is not None:
        log.info("same input failed permanently moments ago (%s); not calling %s again", remembered.kind, backend.name)
        raise PermanentAgentError(remembered.detail, kind=remembered.kind, agent=spec.name, status=remembered.status)
    started = time.perf_counter()
    cache = ResultCache(settings, log)
    hit = _from_cache(await cache.get(spec.name, key), spec.name)
    if hit is not None:
        log.info("cached result of %s/%s", hit.backend, hit.model)
        return hit.model_copy(update={
            "cached": True, "latency_ms": _ms(started), "usage": Usage(), "cost_usd": 0.0,
            "llm_requests": 0, "attempt": context.attempt,
        })
    try:
        output, usage, model, requests = await _structured_call(backend, spec, payload, log)
    except PermanentAgentError as exc:
        named = _naming(backend, exc)
        failures.remember(key, named, settings.failure_cache_seconds)
        log.warning("permanent failure: %s", named)
        raise named from None
    except TransientAgentError as exc:
        named = _naming(backend, exc)
        log.warning("transient failure, the retry policy decides what next: %s", named)
        raise named from None
    price = price_for((model, backend.model), settings.prices)
    result = AgentResult(
        agent=spec.name, output=output.model_dump(mode="json"), backend=backend.name, model=model or backend.model,
        latency_ms=_ms(started), usage=usage, cost_usd=cost_usd(price, usage.prompt_tokens, usage.completion_tokens),
        cached=False, attempt=context.attempt, llm_requests=requests,
    )
    await cache.put(spec.name, key, result.model_dump(mode="json"))
    log.info(
        "%s/%s answered in %.0f ms: %d+%d tokens, cost %s", result.backend, result.model, result.latency_ms,
        usage.prompt_tokens, usage.completion_tokens, "unknown" if result.cost_usd is None else f"${result.cost_usd}",
    )
    return result


def _naming(backend: ChatBackend, exc: AgentError) -> AgentError:
    """The same failure, its message starting with the backend and model that failed."""
    return type(exc)(f"{backend.name} {backend.model}: {exc.detail}", kind=exc.kind, agent=exc.agent,
                     status=exc.status, retry_after=exc.retry_after)


def select_backend(settings: Settings) -> ChatBackend:
    """The chat backend the settings name (not for ``offline``)."""
    if settings.backend == AZURE_OPENAI:
        return azure.backend(settings)
    return openai_compat.backend(settings)


async def _structured_call(
    backend: ChatBackend, spec: Agent, payload: Mapping[str, Any], log: AgentLogger
) -> tuple[BaseModel, Usage, str, int]:
    """Ask, validate, repair once; returns ``(output, usage, model, requests)``."""
    validation_context = dict(payload.get("options") or {})
    strict = backend.response_format == STRICT
    schema = call_schema(spec.output_model, spec.choices, validation_context, strict=strict)
    messages = build_messages(spec.instructions, schema, payload)
    ask = {
        "temperature": spec.temperature, "max_tokens": spec.max_output_tokens, "agent": spec.name, "logger": log,
        "response_format": response_format(spec.output_model.__name__, schema, backend.response_format),
    }
    reply = await backend.chat(messages, **ask)
    usage, requests = reply.usage, 1
    try:
        parsed = parse_reply(spec.output_model, reply.content, validation_context)
    except OutputInvalid as problem:
        if strict:  # the service held the model to the schema: asking again cannot help
            raise PermanentAgentError(
                f"the reply did not match {spec.output_model.__name__}: {problem}", kind="schema", agent=spec.name,
            ) from None
        log.warning("reply did not validate (%s); asking once more", problem)
        repaired = await backend.chat(repair_messages(messages, reply.content, problem), **ask)
        usage, requests = usage + repaired.usage, 2
        try:
            parsed = parse_reply(spec.output_model, repaired.content, validation_context)
        except OutputInvalid as again:
            raise PermanentAgentError(
                f"the reply did not match {spec.output_model.__name__} after one repair: {again}",
                kind="schema", agent=spec.name,
            ) from None
        reply = repaired
    return spec.complete_output(parsed, payload), usage, reply.model, requests


def _from_cache(data: dict[str, Any] | None, agent: str) -> AgentResult | None:
    if not data:
        return None
    try:
        result = AgentResult.model_validate(data)
    except ValidationError:
        return None
    return result if result.agent == agent else None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
