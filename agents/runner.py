"""Run one agent on an activity's JSON input: validate, load the bundle, build the payload, complete.

The activities in :mod:`agents.activities` are one line each; everything they do is here,
testable without the Functions runtime.  Invalid input is a :class:`PermanentAgentError`
(``kind="input"``): retrying it cannot help.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any, TypeVar

from pydantic import ValidationError

from . import bundles
from .inputs import AgentInput, AggregateInput, BundleInput, CollectInput, ErrorHandlerInput
from .llm import offline
from .llm.errors import AgentError, PermanentAgentError
from .llm.gateway import complete, run_offline
from .llm.structured import describe
from .logs import AgentLogger, CallContext, agent_logger
from .models import AgentResult, Bundle, BundleRef, FailureNote, Usage
from .names import AGGREGATE, ANALYSIS_AGENTS, COLLECT_DATA, ERROR_HANDLER
from .settings import OFFLINE, Settings
from .specs import SPECS, AgentSpec

COLLECTOR_MODEL = "collect-data-v1"
"""``collect_data`` calls no LLM: its results say ``backend: offline`` and this model."""

_InputT = TypeVar("_InputT", bound=AgentInput)
_OUTPUT_MODELS = {name: SPECS[name].output_model for name in ANALYSIS_AGENTS}


async def run_agent(agent: str, raw: Any) -> dict[str, Any]:
    """The activity body: ``raw`` is what Durable delivered, the return value is ``AgentResult`` JSON."""
    settings = Settings.from_env()
    data = _decode(raw)
    if agent == COLLECT_DATA:
        return await _collect(data, settings)
    if agent == ERROR_HANDLER:
        return await _error_handler(data, settings)
    if agent == AGGREGATE:
        inp = _validate(AggregateInput, data, agent)
        context, log = _context(inp, agent, data)
        payload = await aggregate_payload(inp, settings)
    elif agent in ANALYSIS_AGENTS:
        inp = _validate(BundleInput, data, agent)
        context, log = _context(inp, agent, data)
        bundle = await bundles.resolve(inp.bundle, settings, agent)
        payload = documents_payload(SPECS[agent], bundle, inp, settings)
    else:
        raise PermanentAgentError(f"no agent named {agent!r}", kind="config", agent=agent)
    log.info("running on %s", settings.backend)
    result = await complete(SPECS[agent], payload, settings=settings, context=context)
    return result.model_dump(mode="json")


# --- payloads -----------------------------------------------------------------------------------
def documents_payload(spec: AgentSpec, bundle: Bundle, inp: AgentInput, settings: Settings) -> dict[str, Any]:
    """``{"title", "documents": [{"title", "text"}], "options": {only what the agent reads}}``."""
    options = {
        "taxonomy": list(inp.options.taxonomy or bundle.options.taxonomy or settings.taxonomy),
        "summary_words": inp.options.summary_words or bundle.options.summary_words or settings.summary_words,
    }
    budget = settings.max_input_chars
    documents = []
    for document in bundle.documents:
        text = document.text if len(document.text) <= budget else document.text[:budget] + " [truncated]"
        budget = max(0, budget - len(text))
        documents.append({"title": document.title, "text": text})
        if budget == 0:
            break
    return {"title": bundle.title, "documents": documents, "options": {k: options[k] for k in spec.options}}


async def aggregate_payload(inp: AggregateInput, settings: Settings) -> dict[str, Any]:
    """``{"title", "documents": n, "results", "missing", "errors", "options"}``; see :mod:`agents.reports`."""
    results, notes = usable_results(inp.results)
    errors = [*inp.errors, *notes]
    return {
        "title": _title(inp.bundle), "documents": _document_count(inp.bundle), "results": results,
        "missing": [a for a in ANALYSIS_AGENTS if a not in results],
        "errors": [e.model_dump() for e in errors], "options": {},
    }


def usable_results(results: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[FailureNote]]:
    """The analysis agents' outputs that validate (plain outputs or whole AgentResult dicts)."""
    usable: dict[str, dict[str, Any]] = {}
    notes: list[FailureNote] = []
    for agent in ANALYSIS_AGENTS:
        value = results.get(agent)
        if value is None:
            continue
        if isinstance(value, dict) and "output" in value and "agent" in value:
            value = value["output"]
        try:
            usable[agent] = _OUTPUT_MODELS[agent].model_validate(value).model_dump(mode="json")
        except ValidationError as exc:
            notes.append(FailureNote(agent=agent, error="output did not validate: " + "; ".join(describe(exc))))
    return usable, notes


# --- collect_data and error_handler --------------------------------------------------------------
async def _collect(data: Any, settings: Settings) -> dict[str, Any]:
    inp = _validate(CollectInput, data, COLLECT_DATA)
    context, log = _context(inp, COLLECT_DATA, data)
    started = time.perf_counter()
    bundle = await bundles.collect(inp.request, inp.options, settings, log)
    output = await bundles.offload(bundle, settings, log)
    log.info("collected %d document(s), %d words", len(bundle.documents), bundle.words)
    return AgentResult(
        agent=COLLECT_DATA, output=output.model_dump(mode="json"), backend=OFFLINE, model=COLLECTOR_MODEL,
        latency_ms=round((time.perf_counter() - started) * 1000, 3), usage=Usage(), cost_usd=0.0,
        attempt=context.attempt,
    ).model_dump(mode="json")


async def _error_handler(data: Any, settings: Settings) -> dict[str, Any]:
    """Never fails on the offline backend: unreadable input becomes part of the report."""
    try:
        inp = ErrorHandlerInput.model_validate(data)
    except ValidationError:
        error = data if isinstance(data, str) else json.dumps(data, default=str)[:500]
        inp = ErrorHandlerInput(failure=FailureNote(agent="unknown", error=f"unreadable failure report: {error}"))
    context, log = _context(inp, ERROR_HANDLER, data)
    results, _ = usable_results(inp.results)
    payload = {
        "failure": inp.failure.model_dump(), "results": results, "title": _title(inp.bundle),
        "fallback": await _fallback(inp, results, settings, log),
    }
    spec = SPECS[ERROR_HANDLER]
    try:
        result = await complete(spec, payload, settings=settings, context=context)
    except PermanentAgentError as exc:
        log.warning("the model could not write the failure report (%s); writing it offline", exc.kind)
        result = run_offline(spec, payload, context)
    return result.model_dump(mode="json")


async def _fallback(
    inp: ErrorHandlerInput, results: dict[str, Any], settings: Settings, log: AgentLogger
) -> dict[str, Any] | None:
    """An offline result standing in for the failed agent, when there is something to build it from."""
    agent = inp.failure.agent
    try:
        if agent in ANALYSIS_AGENTS and inp.bundle is not None:
            bundle = await bundles.resolve(inp.bundle, settings, ERROR_HANDLER)
            spec = SPECS[agent]
            payload = documents_payload(spec, bundle, inp, settings)
        elif agent == AGGREGATE and results:
            spec = SPECS[AGGREGATE]
            payload = await aggregate_payload(AggregateInput(bundle=inp.bundle, results=results), settings)
        else:
            return None
        output = spec.complete_output(offline.produce(agent, spec.output_model, payload), payload)
    except AgentError as exc:
        log.warning("no fallback for %s: %s", agent, exc)
        return None
    note = f"offline extractive result ({offline.MODEL}) standing in for the failed {agent}"
    return {"agent": agent, "output": output.model_dump(mode="json"), "backend": OFFLINE, "note": note}


# --- helpers ------------------------------------------------------------------------------------
def _decode(raw: Any) -> Any:
    if isinstance(raw, str | bytes):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _validate(model: type[_InputT], data: Any, agent: str) -> _InputT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PermanentAgentError("invalid input: " + "; ".join(describe(exc)), kind="input", agent=agent) from None


def _title(bundle: Bundle | BundleRef | None) -> str:
    return bundle.title if bundle is not None else ""


def _document_count(bundle: Bundle | BundleRef | None) -> int:
    if bundle is None:
        return 0
    return bundle.documents if isinstance(bundle, BundleRef) else len(bundle.documents)


_attempts: OrderedDict[tuple[str, str, str], int] = OrderedDict()
_attempts_lock = threading.Lock()
_MAX_TRACKED = 4096


def _context(inp: AgentInput, agent: str, data: Any) -> tuple[CallContext, AgentLogger]:
    """The call's context; ``attempt`` is the input's, else this worker's count of identical calls."""
    attempt = inp.attempt
    if attempt is None and inp.instance_id:
        digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
        key = (inp.instance_id, agent, digest)
        with _attempts_lock:
            attempt = _attempts[key] = _attempts.get(key, 0) + 1
            _attempts.move_to_end(key)
            while len(_attempts) > _MAX_TRACKED:
                _attempts.popitem(last=False)
    context = CallContext(inp.instance_id or None, inp.workflow or None, agent, attempt)
    return context, agent_logger(__name__, context)
