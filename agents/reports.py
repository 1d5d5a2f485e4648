"""Build the ``aggregate`` and ``error_handler`` outputs: the narrative plus facts merged in code.

Payloads (built by :mod:`agents.runner`)::

    aggregate:     {"title", "documents": n, "results": {agent: output}, "missing": [agent],
                    "errors": [{"agent", "error", "permanent"}], "options": {}}
    error_handler: {"failure": {"agent", "error", "permanent"}, "results": {agent: output},
                    "title", "fallback": {"agent", "output", "backend", "note"} | null}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from .models import ErrorReport, FailureNote, Fallback, Report
from .names import ANALYSIS_AGENTS, ANALYZE, CATEGORIZE, SUMMARIZE


def finalize_report(narrative: BaseModel, payload: Mapping[str, Any]) -> Report:
    """``aggregate``: merge whichever analysis outputs exist under the narrative."""
    results: Mapping[str, Any] = payload.get("results") or {}
    analysis = results.get(ANALYZE) or {}
    summary = results.get(SUMMARIZE) or {}
    category = results.get(CATEGORIZE) or {}
    errors = [FailureNote.model_validate(e) for e in payload.get("errors") or ()]
    missing = list(payload.get("missing") or ())
    return Report(
        **narrative.model_dump(include={"headline", "overview", "recommendations"}),
        summary=summary.get("summary"),
        sentiment=analysis.get("sentiment"),
        category=category.get("category"),
        confidence=category.get("confidence"),
        key_points=list(analysis.get("key_points") or ()),
        entities=list(analysis.get("entities") or ()),
        sources=[agent for agent in ANALYSIS_AGENTS if agent in results],
        missing=missing,
        errors=errors,
        degraded=bool(missing or errors),
    )


def finalize_error(narrative: BaseModel, payload: Mapping[str, Any]) -> ErrorReport:
    """``error_handler``: the narrative plus the failure itself and the fallback, if any."""
    failure = FailureNote.model_validate(payload.get("failure") or {"agent": "unknown"})
    fallback = payload.get("fallback")
    return ErrorReport(
        **narrative.model_dump(include={"summary", "likely_cause", "recommendations"}),
        failed_agent=failure.agent,
        error=failure.error,
        permanent=failure.permanent,
        fallback=Fallback.model_validate(fallback) if fallback else None,
    )
