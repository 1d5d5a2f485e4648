"""``sequential``: collect -> analyze -> summarize -> categorize; any failure -> error handler.

The seed's first graph.  A failed step does not crash the workflow: the error-handler
agent turns the failure into a report and the instance completes with ``outcome: failed``.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from agents.names import ANALYZE, CATEGORIZE, COLLECT_DATA, SUMMARIZE

from .names import SEQUENTIAL
from .state import WorkflowRun
from .steps import Steps, collect, handle_failure, run_agent, run_workflow

bp = df.Blueprint()
STEPS = (ANALYZE, SUMMARIZE, CATEGORIZE)


def sequential_stages(context: Any, run: WorkflowRun, options: dict[str, Any], request: dict[str, Any]) -> Steps:
    failed = None
    collected = yield from collect(context, run, options, request)
    if not collected.ok:
        failed = collected
    for agent in STEPS:
        if failed is not None:
            break
        run.enter(agent)
        outcome = yield from run_agent(context, run, agent, options, bundle=collected.output)
        if not outcome.ok:
            failed = outcome
    if failed is not None:
        yield from handle_failure(context, run, options, failed, collected.output if collected.ok else None)
        return "failed"
    run.report = {agent: run.results[agent] for agent in STEPS}
    return "succeeded"


@bp.orchestration_trigger(context_name="context", orchestration=SEQUENTIAL)
def sequential_workflow(context: df.DurableOrchestrationContext):
    """Run the agents one after another on the collected documents."""
    return (yield from run_workflow(
        context, SEQUENTIAL, [COLLECT_DATA, *STEPS],
        lambda run, options, request: sequential_stages(context, run, options, request),
    ))
