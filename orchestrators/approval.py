"""``approval``: the parallel analysis, then a human decision raced against a durable timer.

approve -> the report is published; reject -> the rejection is recorded; no decision before
the deadline (``approval_timeout_hours``, default 24) -> escalated through the error handler.
The decision arrives as the external event ``approval``: ``{"approved": bool, "by", "comment"}``.
"""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.aggregate import NAME as AGGREGATE
from agents.analyze import NAME as ANALYZE
from agents.categorize import NAME as CATEGORIZE
from agents.collect_data import NAME as COLLECT_DATA
from agents.error_handler import NAME as ERROR_HANDLER
from agents.inputs import Failure
from agents.summarize import NAME as SUMMARIZE

from .agent_step import AGENT_STEP
from .graph import COMPLETED, FAILED, Graph
from .results import SAVE_RESULT
from .workflow import Workflow, WorkflowRun

bp = df.Blueprint()
APPROVAL_EVENT = "approval"
DEFAULT_TIMEOUT_HOURS = 24.0
WORKFLOW = Workflow(
    name="approval",
    description="The parallel analysis, then waits for a person to approve or reject the report.",
    graph=Graph("""
        collect_data[Collect data] --> analyze[Analyze] & summarize[Summarize] & categorize[Categorize]
        analyze & summarize & categorize --> merge{Merge}
        merge -->|any result| aggregate[Aggregator]
        merge -->|nothing usable| error_handler[Error handler]
        aggregate --> approval{{Approval or timeout}}
        approval -->|approved| published([Published])
        approval -->|rejected| rejected([Rejected])
        approval -->|timeout| error_handler
    """),
)
BRANCHES = (ANALYZE, SUMMARIZE, CATEGORIZE)


class Decision(BaseModel):
    """The ``approval`` event's data (the API validates it with this model before raising it)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    approved: bool
    by: str = Field("", max_length=200)
    comment: str = Field("", max_length=2000)


def parse_decision(value: Any) -> dict[str, Any]:
    """The event's data as a decision (the Python client may deliver it as JSON text; anything else rejects)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    try:
        return Decision.model_validate(value).model_dump()
    except ValidationError:
        return {"approved": False, "by": "unknown", "comment": f"unreadable decision: {str(value)[:200]}"}


@bp.orchestration_trigger(context_name="context", orchestration=WORKFLOW.name)
def approval(context: df.DurableOrchestrationContext):
    """Analyse, then wait for a person to approve or reject the report."""
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
        run.stage("analysis", *BRANCHES)
        branches = {}
        for agent in BRANCHES:
            step, child_id = run.branch(agent, bundle=collected.output)
            branches[context.call_sub_orchestrator(AGENT_STEP, step, child_id)] = agent
        while branches:
            finished = yield context.task_any(list(branches))
            run.record_branch(branches.pop(finished), finished.result)
        run.require_any(BRANCHES)
        run.mark("merge", COMPLETED)

    if not run.failure:
        run.stage("aggregate", AGGREGATE)
        try:
            result = yield context.call_activity_with_retry(AGGREGATE, run.retry, run.input_for(
                AGGREGATE, bundle=collected.output, results=run.results, errors=[e.model_dump() for e in run.errors]))
        except Exception as exc:
            result = exc
        run.report = run.record(AGGREGATE, result).output

    outcome, status, end = None, None, None
    if not run.failure:
        hours = float(run.options.get("approval_timeout_hours") or DEFAULT_TIMEOUT_HOURS)
        deadline = context.current_utc_datetime + timedelta(hours=hours)
        run.wait_for("approval", APPROVAL_EVENT, deadline.isoformat())
        decision_task = context.wait_for_external_event(APPROVAL_EVENT)
        timeout_task = context.create_timer(deadline)
        winner = yield context.task_any([decision_task, timeout_task])
        if winner == decision_task:
            timeout_task.cancel()
            decision = {**parse_decision(decision_task.result), "at": context.current_utc_datetime.isoformat()}
            run.extra["approval"] = decision
            run.mark("approval", COMPLETED)
            run.trace("decision: %s by %s", "approved" if decision["approved"] else "rejected", decision["by"])
            outcome, status = ("approved", "published") if decision["approved"] else ("rejected", "rejected")
            end = status
        else:
            run.extra["approval"] = {"approved": None, "timed_out": True, "deadline": deadline.isoformat()}
            run.mark("approval", FAILED)
            late = Failure(agent="approval", error=f"No decision within {hours:g} hours; escalated.", kind="timeout")
            run.errors.append(late)
            run.failure, outcome, status = late, "escalated", "escalated"

    if run.failure:
        run.stage("error_handler", ERROR_HANDLER)
        try:
            result = yield context.call_activity_with_retry(ERROR_HANDLER, run.retry, run.input_for(
                ERROR_HANDLER, failure=run.failure.model_dump(), results=run.results, bundle=collected.output or None))
        except Exception as exc:
            result = exc
        run.handled(ERROR_HANDLER, result)

    state = run.finish(outcome, status=status, end=end)
    try:
        state["saved_as"] = yield context.call_activity_with_retry(SAVE_RESULT, run.retry, run.save_input(state))
    except Exception as exc:
        run.trace("saving the result failed: %s", exc)
        state["saved_as"] = None
    return state
