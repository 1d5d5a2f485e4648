"""``pipeline``: the seed's complete example, a ``workflow_state`` saved as it goes.

collect -> parallel analysis stage -> aggregate -> final state.  The state's ``status``
moves through ``collecting``, ``analyzing``, ``aggregating`` to ``completed`` with a
timestamp per stage (from ``context.current_utc_datetime``).  The state is saved as a blob
after every stage and updated with the final state at the end (the seed's "save / update /
final state"), so a reader of ``workflow-results`` sees a long run progress too.
"""

from __future__ import annotations

import azure.durable_functions as df

from .names import PIPELINE
from .parallel import AGENTS, analysis_stages
from .steps import run_workflow, save

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=PIPELINE)
def pipeline_workflow(context: df.DurableOrchestrationContext):
    """Run every stage, saving the workflow state after each; return the final state."""

    def stages(run, options, request):
        def checkpoint():
            yield from save(context, run, run.snapshot(), options)

        return (yield from analysis_stages(context, run, options, request, checkpoint))

    return (yield from run_workflow(context, PIPELINE, AGENTS, stages))
