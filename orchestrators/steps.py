"""Steps every workflow is built from (generator helpers used with ``yield from``).

Each agent call uses the retry policy carried in the workflow's input (``options.retry``),
so the orchestrator reads no settings itself and replays identically.  A failed agent never
raises out of these helpers: it becomes a failed :class:`AgentOutcome`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any

import azure.durable_functions as df

from agents.names import AGGREGATE, COLLECT_DATA, ERROR_HANDLER

from .names import AGENT_STEP, SAVE_RESULT
from .payloads import agent_payload, handler_payload
from .state import AgentOutcome, WorkflowRun

Steps = Generator[Any, Any, Any]
Stages = Callable[[WorkflowRun, dict[str, Any], dict[str, Any]], Steps]
"""``(run, options, request) -> outcome`` or ``(outcome, final status)``: a workflow's body."""
DEFAULT_RETRY = {"first_retry_ms": 2000, "max_attempts": 3}


def run_workflow(context: Any, workflow: str, agents: list[str], stages: Stages) -> Steps:
    """The frame of every workflow: read the input, run the stages, finish, save the state."""
    workflow_input = context.get_input() or {}
    options = workflow_input.get("options") or {}
    run = WorkflowRun(context, workflow, list(agents))
    ended = yield from stages(run, options, workflow_input.get("request") or {})
    outcome, status = ended if isinstance(ended, tuple) else (ended, None)
    return (yield from save(context, run, run.finish(outcome, status=status), options))


def retry_options(options: dict[str, Any]) -> df.RetryOptions:
    retry = {**DEFAULT_RETRY, **(options.get("retry") or {})}
    return df.RetryOptions(
        first_retry_interval_in_milliseconds=max(1, int(retry["first_retry_ms"])),
        max_number_of_attempts=max(1, int(retry["max_attempts"])),
    )


def start_agent(context: Any, run: WorkflowRun, agent: str, options: dict[str, Any], **payload: Any) -> Any:
    """Schedule one agent activity with retries; returns the task (not yet awaited)."""
    body = agent_payload(context, run.workflow, agent, options, **payload)
    return context.call_activity_with_retry(agent, retry_options(options), body)


def run_agent(context: Any, run: WorkflowRun, agent: str, options: dict[str, Any], **payload: Any) -> Steps:
    """Call one agent and record its outcome; never raises."""
    run.enter(run.stage, agent)
    try:
        result = yield start_agent(context, run, agent, options, **payload)
    except Exception as exc:
        return run.record(AgentOutcome.from_failure(agent, exc))
    return run.record(AgentOutcome(agent, result=result))


def run_parallel(context: Any, run: WorkflowRun, agents: list[str], options: dict[str, Any], **payload: Any) -> Steps:
    """Fan out ``agents`` (one ``agent_step`` child each) and fan in as each finishes.

    Children never fail, so one failed branch cannot fail the stage, and waiting for them
    one at a time lets progress show each agent as it completes.
    """
    run.enter(run.stage, *agents)
    pending = {}
    for agent in agents:
        step = {"agent": agent, "options": options,
                "payload": agent_payload(context, run.workflow, agent, options, **payload)}
        child = context.call_sub_orchestrator(AGENT_STEP, step, f"{context.instance_id}-{agent}")
        pending[child] = agent
    outcomes: dict[str, AgentOutcome] = {}
    while pending:
        done = yield context.task_any(list(pending))
        agent = pending.pop(done)
        value = done.result if isinstance(done.result, dict) else {"error": str(done.result)}
        outcomes[agent] = run.record(AgentOutcome(agent, result=value.get("result"), error=value.get("error")))
    return [outcomes[agent] for agent in agents]


def collect(context: Any, run: WorkflowRun, options: dict[str, Any], request: dict[str, Any]) -> Steps:
    """Normalise the request into a document bundle (``run.document`` holds its summary)."""
    run.enter("collect")
    outcome = yield from run_agent(context, run, COLLECT_DATA, options, request=request)
    if outcome.ok:
        run.document = describe_bundle(outcome.output)
    return outcome


def aggregate(context: Any, run: WorkflowRun, options: dict[str, Any], bundle: Any) -> Steps:
    run.enter("aggregate")
    outcome = yield from run_agent(
        context, run, AGGREGATE, options, bundle=bundle, results=dict(run.results), errors=list(run.errors)
    )
    if outcome.ok:
        run.report = outcome.output
    return outcome


def handle_failure(
    context: Any, run: WorkflowRun, options: dict[str, Any], failed: AgentOutcome, bundle: Any = None
) -> Steps:
    """Route a failure to the error-handler agent; its report becomes the run's report.

    If even the handler fails, the report is built here from what is known, so the
    workflow still completes with a useful answer.
    """
    run.enter("error_handler")
    body = handler_payload(context, run.workflow, options, failed, run.results, bundle)
    run.agents[ERROR_HANDLER] = "running"
    try:
        result = yield context.call_activity_with_retry(ERROR_HANDLER, retry_options(options), body)
    except Exception as exc:
        run.record(AgentOutcome.from_failure(ERROR_HANDLER, exc))
        run.report = {
            "summary": f"{failed.agent} failed and the error handler was unavailable.",
            "failed_agent": failed.agent, "error": failed.error, "fallback": None,
        }
        return None
    run.record(AgentOutcome(ERROR_HANDLER, result=result))
    run.report = run.results.get(ERROR_HANDLER, {})
    return result


def save(context: Any, run: WorkflowRun, state: dict[str, Any], options: dict[str, Any]) -> Steps:
    """Persist the final state as a blob (outlives history purges); returns the state."""
    try:
        location = yield context.call_activity_with_retry(
            SAVE_RESULT, retry_options(options), {"workflow": run.workflow, "instance_id": run.context.instance_id,
                                                   "state": state},
        )
    except Exception as exc:
        run.trace("saving the result failed: %s", exc)
        return {**state, "saved_as": None}
    return {**state, "saved_as": location}


def describe_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """A small description of the collected documents for the workflow state."""
    keys = ("title", "documents", "chars", "words", "ref", "blob")
    described = {k: bundle[k] for k in keys if k in bundle}
    if isinstance(described.get("documents"), list):
        described["documents"] = len(described["documents"])
    return described or {"bundle": json.dumps(bundle)[:200]}
