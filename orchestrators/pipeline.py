"""``pipeline``: the seed's complete example, its ``workflow_state`` saved as it goes.

collect -> parallel analysis -> aggregate -> final state.  The state's ``status`` moves
through ``collecting``, ``analyzing``, ``aggregating`` to ``completed`` with a timestamp per
stage; it is saved as a blob after every stage that succeeded (while the next stage runs, so a
checkpoint costs the workflow no time) and once more at the end (the
seed's "save / update / final state"), so a reader of ``workflow-results`` sees a long run
progress too; the state's ``checkpoints`` lists each one and where it was saved.  Failures behave as
in ``parallel``.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from agents.aggregate import NAME as AGGREGATE
from agents.analyze import NAME as ANALYZE
from agents.categorize import NAME as CATEGORIZE
from agents.collect_data import NAME as COLLECT_DATA
from agents.error_handler import NAME as ERROR_HANDLER
from agents.summarize import NAME as SUMMARIZE

from .agent_step import AGENT_STEP
from .graph import COMPLETED, Graph
from .results import SAVE_RESULT
from .workflow import Workflow, WorkflowRun

bp = df.Blueprint()
WORKFLOW = Workflow(
    name="pipeline",
    description="The complete example: parallel analysis with the workflow state saved after every stage.",
    graph=Graph("""
        collect_data[Collect data] --> analyze[Analyze] & summarize[Summarize] & categorize[Categorize]
        analyze & summarize & categorize --> merge{Merge}
        merge -->|any result| aggregate[Aggregator]
        merge -->|nothing usable| error_handler[Error handler]
        aggregate --> done([Final state saved])
    """),
)
BRANCHES = (ANALYZE, SUMMARIZE, CATEGORIZE)


@bp.orchestration_trigger(context_name="context", orchestration=WORKFLOW.name)
def pipeline(context: df.DurableOrchestrationContext):
    """Collect, analyse in parallel, aggregate; save the workflow state after every stage."""
    run = WorkflowRun(context, WORKFLOW)

    run.stage("collect", COLLECT_DATA)
    try:
        result = yield context.call_activity_with_retry(
            COLLECT_DATA, run.retry, run.input_for(COLLECT_DATA, request=run.request))
    except Exception as exc:
        result = exc
    collected = run.record(COLLECT_DATA, result)
    run.collected(collected)

    if collected.ok:
        so_far = run.snapshot()  # the workflow state so far
        taken = checkpoint(run, "collect")
        run.stage("analysis", *BRANCHES)
        branches = {}
        for agent in BRANCHES:
            step, child_id = run.branch(agent, bundle=collected.output)
            branches[context.call_sub_orchestrator(AGENT_STEP, step, child_id)] = agent
        # checkpoint: that state as a blob, written while the branches run (scheduled after them: they go first)
        saving = context.call_activity_with_retry(SAVE_RESULT, run.retry, run.save_input(so_far))
        checkpointing = [saving]  # a task is scheduled when yielded: wait for the checkpoint with the branches
        while branches:
            finished = yield context.task_any([*branches, *checkpointing])
            if finished is saving:
                checkpointing.clear()
            else:
                run.record_branch(branches.pop(finished), finished.result)
        try:
            taken["saved_as"] = yield saving
        except Exception as exc:
            run.trace("checkpoint not saved: %s", exc)
        run.require_any(BRANCHES)
        run.mark("merge", COMPLETED)

    if not run.failure:
        so_far = run.snapshot()
        taken = checkpoint(run, "analysis")
        run.stage("aggregate", AGGREGATE)
        aggregating = context.call_activity_with_retry(AGGREGATE, run.retry, run.input_for(
            AGGREGATE, bundle=collected.output, results=run.results, errors=[e.model_dump() for e in run.errors]))
        # checkpoint, written while the aggregator runs (scheduled after it: the aggregator goes first)
        saving = context.call_activity_with_retry(SAVE_RESULT, run.retry, run.save_input(so_far))
        yield context.task_any([aggregating, saving])  # schedules both (one episode); each is read below
        try:
            result = yield aggregating
        except Exception as exc:
            result = exc
        try:
            taken["saved_as"] = yield saving
        except Exception as exc:
            run.trace("checkpoint not saved: %s", exc)
        run.report = run.record(AGGREGATE, result).output

    if run.failure:
        run.stage("error_handler", ERROR_HANDLER)
        try:
            result = yield context.call_activity_with_retry(ERROR_HANDLER, run.retry, run.input_for(
                ERROR_HANDLER, failure=run.failure.model_dump(), results=run.results, bundle=collected.output or None))
        except Exception as exc:
            result = exc
        run.handled(ERROR_HANDLER, result)

    state = run.finish(end=None if run.failure else "done")
    try:
        state["saved_as"] = yield context.call_activity_with_retry(SAVE_RESULT, run.retry, run.save_input(state))
    except Exception as exc:
        run.trace("saving the result failed: %s", exc)
        state["saved_as"] = None
    return state


def checkpoint(run: WorkflowRun, after: str) -> dict[str, Any]:
    """Note a checkpoint in the state; its ``saved_as`` stays ``None`` unless its save succeeds."""
    taken = {"after": after, "status": run.status, "at": run.now(), "saved_as": None}
    run.extra.setdefault("checkpoints", []).append(taken)
    return taken
