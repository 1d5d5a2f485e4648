"""``sequential``: collect -> analyze -> summarize -> categorize; any failure -> error handler.

The seed's first graph.  A failed step does not crash the workflow: the error-handler
agent turns the failure into a report and the instance completes with ``outcome: failed``.
"""

from __future__ import annotations

import azure.durable_functions as df

from agents.names import ANALYZE, CATEGORIZE, COLLECT_DATA, SUMMARIZE

from .names import SEQUENTIAL
from .state import WorkflowRun
from .steps import collect, handle_failure, run_agent, save

bp = df.Blueprint()
STEPS = (ANALYZE, SUMMARIZE, CATEGORIZE)


@bp.orchestration_trigger(context_name="context", orchestration=SEQUENTIAL)
def sequential_workflow(context: df.DurableOrchestrationContext):
    """Run the agents one after another on the collected documents."""
    workflow_input = context.get_input() or {}
    options = workflow_input.get("options") or {}
    run = WorkflowRun(context, SEQUENTIAL, [COLLECT_DATA, *STEPS])
    failed = None
    collected = yield from collect(context, run, options, workflow_input.get("request") or {})
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
        state = run.finish("failed")
    else:
        run.report = {agent: run.results[agent] for agent in STEPS}
        state = run.finish("succeeded")
    return (yield from save(context, run, state, options))
