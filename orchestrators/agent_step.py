"""``agent_step``: one agent call with the workflow's retry policy, as a sub-orchestration.

Parallel stages run each branch as an ``agent_step`` child.  The child owns the retries, so
its retry timers consume sequence ids in the child's history, not in the parent's: the
parent can then wait for branches one at a time (``task_any``) and publish progress as each
finishes, which is deterministic under the Durable extension's replay only if nothing else
in the parent consumes ids meanwhile.  The child never fails: it returns the outcome.
"""

from __future__ import annotations

import azure.durable_functions as df

from .names import AGENT_STEP
from .state import short_error
from .steps import retry_options

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=AGENT_STEP)
def agent_step(context: df.DurableOrchestrationContext):
    """Input ``{"agent", "payload", "options"}``; output ``{"agent", "result"}`` or ``{"agent", "error"}``."""
    step = context.get_input() or {}
    agent = step.get("agent", "")
    try:
        result = yield context.call_activity_with_retry(
            agent, retry_options(step.get("options") or {}), step.get("payload")
        )
    except Exception as exc:
        return {"agent": agent, "error": short_error(str(exc))}
    return {"agent": agent, "result": result}
