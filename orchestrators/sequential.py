"""``sequential``: collect -> analyze -> summarize -> categorize; any failure -> error handler.

The seed's first graph.  A failed step does not crash the workflow: the error-handler agent
turns the failure into a report and the instance completes with ``outcome: failed``.
"""

from __future__ import annotations

import azure.durable_functions as df

from agents.analyze import NAME as ANALYZE
from agents.categorize import NAME as CATEGORIZE
from agents.collect_data import NAME as COLLECT_DATA
from agents.error_handler import NAME as ERROR_HANDLER
from agents.summarize import NAME as SUMMARIZE

from .graph import COMPLETED, Graph
from .results import SAVE_RESULT
from .workflow import Workflow, WorkflowRun

bp = df.Blueprint()
WORKFLOW = Workflow(
    name="sequential",
    description="The agents one after another; any failure goes to the error handler.",
    graph=Graph("""
        collect_data[Collect data] --> analyze[Analyze] --> summarize[Summarize] --> categorize[Categorize]
        categorize --> ok{Success?}
        ok -->|yes| done([Complete])
        ok -->|no| error_handler[Error handler]
    """),
)
STEPS = (ANALYZE, SUMMARIZE, CATEGORIZE)


@bp.orchestration_trigger(context_name="context", orchestration=WORKFLOW.name)
def sequential(context: df.DurableOrchestrationContext):
    """Run the agents one after another on the collected documents."""
    run = WorkflowRun(context, WORKFLOW)

    run.stage("collect", COLLECT_DATA)
    try:
        result = yield context.call_activity_with_retry(
            COLLECT_DATA, run.retry, run.input_for(COLLECT_DATA, request=run.request))
    except Exception as exc:
        result = exc
    collected = run.record(COLLECT_DATA, result)
    run.collected(collected)

    for agent in STEPS:
        if run.failure:
            break
        run.stage(agent, agent)
        try:
            result = yield context.call_activity_with_retry(
                agent, run.retry, run.input_for(agent, bundle=collected.output))
        except Exception as exc:
            result = exc
        run.record(agent, result)

    run.mark("ok", COMPLETED)
    if run.failure:
        run.stage("error_handler", ERROR_HANDLER)
        try:
            result = yield context.call_activity_with_retry(ERROR_HANDLER, run.retry, run.input_for(
                ERROR_HANDLER, failure=run.failure.model_dump(), results=run.results, bundle=collected.output or None))
        except Exception as exc:
            result = exc
        run.handled(ERROR_HANDLER, result)
    else:
        run.report = {agent: run.results[agent] for agent in STEPS}

    state = run.finish(end=None if run.failure else "done")
    try:
        state["saved_as"] = yield context.call_activity_with_retry(SAVE_RESULT, run.retry, run.save_input(state))
    except Exception as exc:
        run.trace("saving the result failed: %s", exc)
        state["saved_as"] = None
    return state
