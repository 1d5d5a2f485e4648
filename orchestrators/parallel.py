"""``parallel``: split -> analyze | summarize | categorize -> merge -> aggregate.

The seed's second graph.  A branch that fails after its retries is recorded and the
aggregate is built from the others (``degraded: true``); only when nothing usable is left
does the error handler take over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.durable_functions as df

from agents.names import AGGREGATE, ANALYZE, CATEGORIZE, COLLECT_DATA, SUMMARIZE

from .names import PARALLEL
from .state import WorkflowRun
from .steps import Steps, aggregate, collect, handle_failure, run_parallel, run_workflow

bp = df.Blueprint()
BRANCHES = (ANALYZE, SUMMARIZE, CATEGORIZE)
AGENTS = [COLLECT_DATA, *BRANCHES, AGGREGATE]


def analysis_stages(
    context: Any, run: WorkflowRun, options: dict[str, Any], request: dict[str, Any],
    checkpoint: Callable[[], Steps] | None = None,
) -> Steps:
    """Collect, fan out to the branches, fan in, aggregate; returns ``"succeeded"``,
    ``"degraded"`` or ``"failed"`` (after the error handler ran).  ``checkpoint`` runs
    after each stage that succeeded."""
    collected = yield from collect(context, run, options, request)
    if not collected.ok:
        yield from handle_failure(context, run, options, collected)
        return "failed"
    if checkpoint:
        yield from checkpoint()
    run.enter("analysis")
    outcomes = yield from run_parallel(context, run, list(BRANCHES), options, bundle=collected.output)
    if not any(o.ok for o in outcomes):
        yield from handle_failure(context, run, options, outcomes[0], collected.output)
        return "failed"
    if checkpoint:
        yield from checkpoint()
    merged = yield from aggregate(context, run, options, collected.output)
    if not merged.ok:
        yield from handle_failure(context, run, options, merged, collected.output)
        return "failed"
    return "degraded" if run.errors else "succeeded"


@bp.orchestration_trigger(context_name="context", orchestration=PARALLEL)
def parallel_workflow(context: df.DurableOrchestrationContext):
    """Fan out the three analysis agents and merge their results."""
    return (yield from run_workflow(
        context, PARALLEL, AGENTS, lambda run, options, request: analysis_stages(context, run, options, request)
    ))
