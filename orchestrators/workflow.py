"""What a workflow is (:class:`Workflow`) and the bookkeeping of one run (:class:`WorkflowRun`).

A workflow module declares ``WORKFLOW = Workflow(name, description, graph)`` next to its
orchestrator function.  Inside the orchestrator, a :class:`WorkflowRun` keeps the outcome and
publishes progress; it never yields and never decides what runs next.  It is rebuilt on every
replay from the same inputs in the same order, so it is deterministic (times come from
``context.current_utc_datetime``, child ids from ``context.new_uuid()``).

Progress, the instance's custom status, after every change::

    {"workflow", "stage", "status", "completed", "total", "agents": {name: state},
     "tokens": {...}, "cost_usd", "waiting"?, "graph": "<mermaid flowchart with node states>"}

The workflow state it returns and saves (:meth:`WorkflowRun.snapshot`)::

    {"workflow", "instance_id", "status", "outcome", "degraded", "data": {"document", "results", "report"},
     "agents": {name: accounting}, "errors": [{"agent", "error", "kind", "permanent"}], "usage", "timestamps"}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df

from agents.inputs import Failure
from agents.registry import AGENTS

from .graph import COMPLETED, FAILED, PENDING, RUNNING, SKIPPED, WAITING, Graph

log = logging.getLogger("baton.workflows")
DEFAULT_RETRY = {"first_retry_ms": 2000, "max_attempts": 3}
STAGE_STATUS = {"collect": "collecting", "analysis": "analyzing", "aggregate": "aggregating",
                "error_handler": "recovering", "awaiting_approval": "awaiting_approval"}


@dataclass(frozen=True)
class Workflow:
    """A workflow as the API, the CLI and the README list it (every workflow takes the API's request)."""

    name: str
    description: str
    graph: Graph

    @property
    def agents(self) -> tuple[str, ...]:
        """The graph's nodes that are agents (the others are decisions and ends)."""
        return tuple(node for node in self.graph.nodes if node in AGENTS)


@dataclass(frozen=True)
class Outcome:
    """What one agent call came to: its output, or the failure that ended it."""

    agent: str
    output: dict[str, Any]
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def retry_policy(retry: dict[str, Any] | None) -> df.RetryOptions:
    """The Durable retry policy from the workflow input's ``options.retry`` (set by the HTTP starter)."""
    chosen = {**DEFAULT_RETRY, **(retry or {})}
    return df.RetryOptions(max(1, int(chosen["first_retry_ms"])), max(1, int(chosen["max_attempts"])))


def short_error(text: str) -> str:
    """``Activity function 'x' failed: TransientAgentError: ... \\n {details}`` -> its first line."""
    head = text.split(" \n ", 1)[0].strip()
    if " failed: " in head and head.startswith(("Activity function", "Orchestrator function")):
        head = head.split(" failed: ", 1)[1].strip()
    return head[:2000]


class WorkflowRun:
    """The outcome of one run so far, and the progress it publishes (custom status)."""

    def __init__(self, context: df.DurableOrchestrationContext, workflow: Workflow) -> None:
        given = context.get_input() or {}
        self.context, self.workflow = context, workflow
        self.request: dict[str, Any] = given.get("request") or {}
        self.options: dict[str, Any] = given.get("options") or {}
        self.run_token = str(given.get("run") or "")[:32]
        self.retry = retry_policy(self.options.get("retry"))
        self.stage_name, self.status = "starting", "running"
        self.nodes: dict[str, str] = {node: PENDING for node in workflow.graph.nodes}
        self.results: dict[str, dict[str, Any]] = {}
        self.accounting: dict[str, dict[str, Any]] = {}
        self.errors: list[Failure] = []
        self.failure: Failure | None = None
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cost_usd": 0.0,
                      "estimated": False}
        self.timestamps: dict[str, str] = {"started": self.now()}
        self.document: dict[str, Any] = {}
        self.report: dict[str, Any] = {}
        self.outcome: str | None = None
        self.extra: dict[str, Any] = {}
        self.waiting: dict[str, Any] = {}
        self.publish()

    def now(self) -> str:
        return self.context.current_utc_datetime.isoformat()

    # --- what agents receive ------------------------------------------------------------
    def input_for(self, agent: str, **fields: Any) -> dict[str, Any]:
        """The JSON an agent activity receives: who is calling, the call options, ``fields``."""
        return {"instance_id": self.context.instance_id, "workflow": self.workflow.name,
                "options": dict(self.options.get("agents") or {}), **fields}

    def branch(self, agent: str, **fields: Any) -> tuple[dict[str, Any], str]:
        """Input and a child instance id for an ``agent_step`` branch, unique per run: from the run token the
        HTTP starter puts in the input, else from ``context.new_uuid()`` (both replay identically)."""
        token = self.run_token or str(self.context.new_uuid())[:8]
        child = f"{self.context.instance_id}-{agent}-{token}"
        step = {"agent": agent, "retry": self.options.get("retry") or {}, "input": self.input_for(agent, **fields)}
        return step, child

    def save_input(self, state: dict[str, Any]) -> dict[str, Any]:
        """What ``save_workflow_result`` receives."""
        return {"workflow": self.workflow.name, "instance_id": self.context.instance_id, "state": state}

    # --- progress -----------------------------------------------------------------------
    def stage(self, name: str, *agents: str) -> None:
        """A stage starts; its agents are running."""
        self.stage_name = name
        self.status = STAGE_STATUS.get(name, self.status)
        self.timestamps.setdefault(name, self.now())
        for agent in agents:
            self.nodes[agent] = RUNNING
        self.trace("stage %s started", name)
        self.publish()

    def mark(self, node: str, state: str) -> None:
        """Set a decision's or end's state in the graph."""
        self.nodes[node] = state
        self.publish()

    def wait_for(self, node: str, event: str, deadline: str) -> None:
        """Stage ``awaiting_<event>``: the graph's ``node`` waits for the external event until ``deadline``."""
        self.waiting = {"event": event, "deadline": deadline}
        self.nodes[node] = WAITING
        self.stage(f"awaiting_{event}")

    def record(self, agent: str, result: Any, *, required: bool = True) -> Outcome:
        """Take an agent's AgentResult (or the exception its retries ended in) into the run.

        A failed ``required`` agent becomes the run's failure (the error handler takes over);
        a failed branch (``required=False``) is recorded and the run goes on, degraded.
        """
        if isinstance(result, Exception):
            failure = Failure(agent=agent, error=short_error(str(result)), kind="retries_exhausted")
        elif not isinstance(result, dict):
            failure = Failure(agent=agent, error=f"unexpected result {str(result)[:200]}", kind="bad_response")
        elif result.get("failure"):
            failure = Failure.model_validate(result["failure"])
        else:
            return self._completed(agent, result)
        self.nodes[agent] = FAILED
        self.errors.append(failure)
        if required and self.failure is None:
            self.failure = failure
        self.trace("agent %s failed: %s", agent, failure.error, agent=agent, level=logging.WARNING)
        self.publish()
        return Outcome(agent, {}, failure)

    def record_branch(self, agent: str, step: Any) -> Outcome:
        """An ``agent_step`` child's answer: ``{"result": AgentResult}`` or ``{"error": text}``."""
        step = step if isinstance(step, dict) else {"error": str(step)}
        result = step.get("result") if "result" in step else RuntimeError(step.get("error") or "no result")
        return self.record(agent, result, required=False)

    def handled(self, handler: str, result: Any) -> None:
        """The error handler's answer becomes the report; if even it failed, a report from what is known."""
        handled = self.record(handler, result, required=False)
        failure = self.failure or Failure(agent="unknown")
        self.report = handled.output or {
            "summary": f"{failure.agent} failed and the error handler was unavailable.",
            "failed_agent": failure.agent, "error": failure.error, "kind": failure.kind, "fallback": None,
        }

    def collected(self, outcome: Outcome) -> None:
        """A short description of the collected documents for the workflow state."""
        keys = ("title", "documents", "chars", "words", "ref")
        self.document = {k: outcome.output[k] for k in keys if k in outcome.output}
        if isinstance(self.document.get("documents"), list):
            self.document["documents"] = len(self.document["documents"])

    def require_any(self, agents: tuple[str, ...]) -> None:
        """Nothing usable from ``agents``: the first of their failures becomes the run's."""
        if self.failure is None and not any(a in self.results for a in agents):
            self.failure = next(e for e in self.errors if e.agent in agents)

    def _completed(self, agent: str, result: dict[str, Any]) -> Outcome:
        output = result.get("output") or {}
        self.nodes[agent] = COMPLETED
        self.results[agent] = output
        self.accounting[agent] = {k: v for k, v in result.items() if k not in ("output", "failure")}
        usage = result.get("usage") or {}
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            self.usage[key] += int(usage.get(key) or 0)
        self.usage["cost_usd"] = round(self.usage["cost_usd"] + float(result.get("cost_usd") or 0.0), 6)
        self.usage["estimated"] = bool(self.usage["estimated"] or usage.get("estimated"))
        self.trace("agent %s completed", agent, agent=agent)
        self.publish()
        return Outcome(agent, output)

    def progress(self) -> dict[str, Any]:
        agents = {name: self.nodes[name] for name in self.workflow.agents}
        done = sum(1 for state in agents.values() if state in (COMPLETED, FAILED, SKIPPED))
        progress = {
            "workflow": self.workflow.name, "stage": self.stage_name, "status": self.status,
            "completed": done, "total": len(agents), "agents": agents,
            "tokens": {k: self.usage[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens", "estimated")},
            "cost_usd": self.usage["cost_usd"],
        }
        if self.waiting:
            progress["waiting"] = dict(self.waiting)
        progress["graph"] = self.workflow.graph.render(self.nodes)
        return progress

    def publish(self) -> None:
        self.context.set_custom_status(self.progress())

    # --- outcome ------------------------------------------------------------------------
    def finish(self, outcome: str | None = None, *, status: str | None = None, end: str | None = None,
               ) -> dict[str, Any]:
        """Close the run (outcome: ``failed`` after a failure, else ``degraded`` or ``succeeded``); the state."""
        self.outcome = outcome or ("failed" if self.failure else "degraded" if self.errors else "succeeded")
        self.status = status or ("failed" if self.outcome == "failed" else "completed")
        if end:
            self.nodes[end] = COMPLETED
        self.nodes = {n: SKIPPED if s in (PENDING, RUNNING, WAITING) else s for n, s in self.nodes.items()}
        self.waiting = {}
        self.stage_name = self.status
        self.timestamps["finished"] = self.now()
        self.trace("finished: %s", self.outcome)
        self.publish()
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        """The state as of now (its lists and mappings copied: later records do not change it)."""
        extra = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                 for k, v in self.extra.items()}
        return {
            "workflow": self.workflow.name, "instance_id": self.context.instance_id, "status": self.status,
            "outcome": self.outcome, "degraded": bool(self.errors) and self.outcome != "failed",
            "data": {"document": self.document, "results": dict(self.results), "report": self.report},
            "agents": dict(self.accounting), "errors": [e.model_dump() for e in self.errors],
            "usage": dict(self.usage), "timestamps": dict(self.timestamps), **extra,
        }

    def trace(self, message: str, *args: Any, agent: str = "-", level: int = logging.INFO) -> None:
        """Log once, not on every replay, with the instance, workflow and agent."""
        if self.context.is_replaying:
            return
        instance, workflow = self.context.instance_id, self.workflow.name
        log.log(level, "[instance=%s workflow=%s agent=%s] " + message, instance, workflow, agent, *args,
                extra={"instance_id": instance, "workflow": workflow, "agent": agent})
