"""``agent_step``: one agent activity with the workflow's retry policy, as a sub-orchestration.

Parallel stages run each branch as an ``agent_step`` child so that the branch's retries
(durable timers) consume sequence ids in the child's history, not the parent's: the parent
can then wait for its branches one at a time with ``task_any`` and publish progress as each
finishes, and still replay deterministically under the real extension.  Child ids are new
per run (``WorkflowRun.branch`` takes them from ``context.new_uuid()``), so reusing a
finished instance id starts fresh children.  The child never fails: it returns the outcome.
"""

from __future__ import annotations

import azure.durable_functions as df

from .workflow import retry_policy, short_error

bp = df.Blueprint()
AGENT_STEP = "agent_step"


@bp.orchestration_trigger(context_name="context", orchestration=AGENT_STEP)
def agent_step(context: df.DurableOrchestrationContext):
    """Input ``{"agent", "retry", "input"}``; output ``{"result": AgentResult}`` or ``{"error": text}``."""
    step = context.get_input() or {}
    try:
        result = yield context.call_activity_with_retry(step["agent"], retry_policy(step.get("retry")), step["input"])
    except Exception as exc:
        return {"error": short_error(str(exc))}
    return {"result": result}
