"""The agent activity functions, one per agent, on the blueprint the app registers (``agents.bp``).

Each takes the JSON dict Durable delivers and returns ``AgentResult`` JSON; the work is in
:func:`agents.runner.run_agent`.  Failures raise :class:`TransientAgentError` (retry) or
:class:`PermanentAgentError` (route to the error handler); nothing is swallowed.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from .names import AGGREGATE, ANALYZE, CATEGORIZE, COLLECT_DATA, ERROR_HANDLER, SUMMARIZE
from .runner import run_agent

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload", activity=COLLECT_DATA)
async def collect_data(payload: dict[str, Any]) -> dict[str, Any]:
    """Normalise the request into a document bundle (inline, or by reference when large)."""
    return await run_agent(COLLECT_DATA, payload)


@bp.activity_trigger(input_name="payload", activity=ANALYZE)
async def analyze(payload: dict[str, Any]) -> dict[str, Any]:
    """Key points, sentiment and entities of the bundle."""
    return await run_agent(ANALYZE, payload)


@bp.activity_trigger(input_name="payload", activity=SUMMARIZE)
async def summarize(payload: dict[str, Any]) -> dict[str, Any]:
    """A summary of the bundle within the word budget."""
    return await run_agent(SUMMARIZE, payload)


@bp.activity_trigger(input_name="payload", activity=CATEGORIZE)
async def categorize(payload: dict[str, Any]) -> dict[str, Any]:
    """One category of the taxonomy, with a confidence."""
    return await run_agent(CATEGORIZE, payload)


@bp.activity_trigger(input_name="payload", activity=AGGREGATE)
async def aggregate(payload: dict[str, Any]) -> dict[str, Any]:
    """Merge whichever analysis outputs exist into one report."""
    return await run_agent(AGGREGATE, payload)


@bp.activity_trigger(input_name="payload", activity=ERROR_HANDLER)
async def error_handler(payload: dict[str, Any]) -> dict[str, Any]:
    """Turn a failure into a report and a fallback result."""
    return await run_agent(ERROR_HANDLER, payload)
