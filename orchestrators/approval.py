"""``approval``: the pipeline's stages, then a human decision raced against a durable timer.

approve -> the result is published; reject -> the rejection is recorded; no decision before
the deadline (``options.approval_timeout_hours``, default 24) -> escalated through the
error-handler agent.  The decision arrives as the external event ``approval`` with
``{"approved": bool, "by": str, "comment": str}``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from .names import APPROVAL, APPROVAL_EVENT
from .parallel import AGENTS, analysis_stages
from .state import AgentOutcome, WorkflowRun
from .steps import Steps, handle_failure, run_workflow

bp = df.Blueprint()
DEFAULT_TIMEOUT_HOURS = 24.0


def parse_decision(value: Any) -> dict[str, Any]:
    """The event's data as a decision; the Python client delivers it as JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = {"approved": value.strip().lower() in ("true", "yes", "approve", "approved")}
    if isinstance(value, bool):
        value = {"approved": value}
    if not isinstance(value, dict):
        value = {}
    return {
        "approved": value.get("approved") is True,
        "by": str(value.get("by") or "unknown"),
        "comment": str(value.get("comment") or ""),
    }


def approval_stages(context: Any, run: WorkflowRun, options: dict[str, Any], request: dict[str, Any]) -> Steps:
    outcome = yield from analysis_stages(context, run, options, request)
    if outcome == "failed":
        return outcome

    hours = float(options.get("approval_timeout_hours") or DEFAULT_TIMEOUT_HOURS)
    deadline = context.current_utc_datetime + timedelta(hours=hours)
    run.waiting = {"event": APPROVAL_EVENT, "deadline": deadline.isoformat()}
    run.enter("awaiting_approval")
    decision_task = context.wait_for_external_event(APPROVAL_EVENT)
    timer = context.create_timer(deadline)
    winner = yield context.task_any([decision_task, timer])
    if winner == decision_task:
        timer.cancel()
        decision = {**parse_decision(decision_task.result), "at": context.current_utc_datetime.isoformat()}
        run.extra["approval"] = decision
        run.trace("decision: %s by %s", "approved" if decision["approved"] else "rejected", decision["by"])
        return ("approved", "published") if decision["approved"] else ("rejected", "rejected")
    run.waiting = {}
    run.extra["approval"] = {"approved": None, "timed_out": True, "deadline": deadline.isoformat()}
    late = AgentOutcome("approval", error=f"No approval decision within {hours:g} hours; escalated.")
    run.errors.append({"agent": "approval", "error": late.error, "permanent": False})
    yield from handle_failure(context, run, options, late)
    return ("escalated", "escalated")


@bp.orchestration_trigger(context_name="context", orchestration=APPROVAL)
def approval_workflow(context: df.DurableOrchestrationContext):
    """Analyse, then wait for a person to approve or reject the report."""
    return (yield from run_workflow(
        context, APPROVAL, AGENTS, lambda run, options, request: approval_stages(context, run, options, request)
    ))
