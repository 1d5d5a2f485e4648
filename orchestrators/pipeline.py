"""``pipeline``: the seed's complete example, with a ``workflow_state`` saved at the end.

collect -> parallel analysis stage -> aggregate -> final state.  The state's ``status``
moves through ``collecting``, ``analyzing``, ``aggregating`` to ``completed`` with a
timestamp per stage (from ``context.current_utc_datetime``), and the final state is saved
as a blob so it outlives history purges.
"""

from __future__ import annotations

import azure.durable_functions as df

from .names import PIPELINE
from .parallel import AGENTS, analysis_stages
from .state import WorkflowRun
from .steps import save

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=PIPELINE)
def pipeline_workflow(context: df.DurableOrchestrationContext):
    """Run every stage and return the final workflow state."""
    workflow_input = context.get_input() or {}
    options = workflow_input.get("options") or {}
    run = WorkflowRun(context, PIPELINE, list(AGENTS))
    outcome = yield from analysis_stages(context, run, options, workflow_input.get("request") or {})
    state = run.finish(outcome)
    return (yield from save(context, run, state, options))
