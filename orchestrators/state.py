"""The state of one workflow run: results, errors, usage, timestamps, and the progress checkpoint.

A :class:`WorkflowRun` lives inside an orchestrator, so it is rebuilt on every replay from the
same inputs in the same order: deterministic by construction (times come from
``context.current_utc_datetime``).  Every change publishes the progress users poll as the
instance's custom status::

    {"workflow", "stage", "completed", "total", "agents": {name: status}, "tokens": {...}, "cost_usd"}

The run's :meth:`snapshot` is the ``workflow_state`` the workflow returns and saves::

    {"workflow", "instance_id", "status", "outcome", "degraded",
     "data": {"document", "results", "report"}, "agents": {name: accounting},
     "errors": [{"agent", "error", "permanent"}], "usage": {...}, "timestamps": {stage: iso}}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("baton.workflows")

PENDING, RUNNING, COMPLETED, FAILED, SKIPPED = "pending", "running", "completed", "failed", "skipped"
STAGE_STATUS = {
    "collect": "collecting", "analysis": "analyzing", "aggregate": "aggregating",
    "error_handler": "recovering", "awaiting_approval": "awaiting_approval",
}
_PERMANENT_MARKER = "PermanentAgentError"


@dataclass(frozen=True)
class AgentOutcome:
    """What one agent call came to: its AgentResult dict, or the failure that ended it."""

    agent: str
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def permanent(self) -> bool:
        return bool(self.error) and _PERMANENT_MARKER in (self.error or "")

    @property
    def output(self) -> dict[str, Any]:
        return (self.result or {}).get("output") or {}

    @classmethod
    def from_failure(cls, agent: str, exc: BaseException | Any) -> AgentOutcome:
        return cls(agent, error=short_error(str(exc)))


def short_error(text: str) -> str:
    """``Activity function 'x' failed:  KeyError: 'y' \\n {details}`` -> ``KeyError: 'y'``."""
    head = text.split(" \n ", 1)[0].strip()
    if " failed: " in head and head.startswith(("Activity function", "Orchestrator function")):
        head = head.split(" failed: ", 1)[1].strip()
    return head[:2000]


class WorkflowRun:
    """Accumulates a workflow's outcome and publishes its progress (custom status)."""

    def __init__(self, context: Any, workflow: str, agents: list[str]) -> None:
        self.context = context
        self.workflow = workflow
        self.stage = "starting"
        self.agents = {name: PENDING for name in agents}
        self.results: dict[str, dict[str, Any]] = {}
        self.accounting: dict[str, dict[str, Any]] = {}
        self.errors: list[dict[str, Any]] = []
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cost_usd": 0.0}
        self.timestamps: dict[str, str] = {"started": self.now()}
        self.document: dict[str, Any] = {}
        self.report: dict[str, Any] = {}
        self.status = "running"
        self.outcome: str | None = None
        self.extra: dict[str, Any] = {}
        self.waiting: dict[str, Any] = {}

    # --- progress -----------------------------------------------------------------------
    def now(self) -> str:
        return self.context.current_utc_datetime.isoformat()

    def enter(self, stage: str, *agents: str) -> None:
        """Start a stage; its agents are now running."""
        self.stage = stage
        self.status = STAGE_STATUS.get(stage, self.status)
        self.timestamps.setdefault(stage, self.now())
        for agent in agents:
            self.agents[agent] = RUNNING
        self.trace("stage %s started", stage)
        self.publish()

    def record(self, outcome: AgentOutcome) -> AgentOutcome:
        """Take an agent's outcome into results, usage and errors; publish progress."""
        if outcome.ok:
            result = outcome.result or {}
            self.agents[outcome.agent] = COMPLETED
            self.results[outcome.agent] = outcome.output
            self.accounting[outcome.agent] = {k: v for k, v in result.items() if k != "output"}
            usage = result.get("usage") or {}
            for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                self.usage[key] += int(usage.get(key) or 0)
            self.usage["cost_usd"] = round(self.usage["cost_usd"] + float(result.get("cost_usd") or 0.0), 6)
            self.trace("agent %s completed", outcome.agent, agent=outcome.agent)
        else:
            self.agents[outcome.agent] = FAILED
            self.errors.append({"agent": outcome.agent, "error": outcome.error, "permanent": outcome.permanent})
            self.trace("agent %s failed: %s", outcome.agent, outcome.error, agent=outcome.agent, level=logging.WARNING)
        self.publish()
        return outcome

    def skip_pending(self) -> None:
        for name, status in self.agents.items():
            if status in (PENDING, RUNNING):
                self.agents[name] = SKIPPED

    def progress(self) -> dict[str, Any]:
        done = sum(1 for s in self.agents.values() if s in (COMPLETED, FAILED, SKIPPED))
        tokens = {k: self.usage[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
        progress = {
            "workflow": self.workflow, "stage": self.stage, "status": self.status,
            "completed": done, "total": len(self.agents), "agents": dict(self.agents),
            "tokens": tokens, "cost_usd": self.usage["cost_usd"],
        }
        if self.waiting:
            progress["waiting"] = dict(self.waiting)
        return progress

    def publish(self) -> None:
        self.context.set_custom_status(self.progress())

    # --- outcome ------------------------------------------------------------------------
    @property
    def degraded(self) -> bool:
        return bool(self.errors) and self.outcome not in ("failed",)

    def finish(self, outcome: str, *, status: str | None = None) -> dict[str, Any]:
        """Close the run: final stage, timestamps, progress; returns the workflow state."""
        self.outcome = outcome
        self.status = status or ("failed" if outcome == "failed" else "completed")
        self.waiting = {}
        self.skip_pending()
        self.stage = self.status
        self.timestamps["finished"] = self.now()
        self.trace("finished: %s", outcome)
        self.publish()
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "instance_id": self.context.instance_id,
            "status": self.status,
            "outcome": self.outcome,
            "degraded": self.degraded,
            "data": {"document": self.document, "results": dict(self.results), "report": self.report},
            "agents": dict(self.accounting),
            "errors": list(self.errors),
            "usage": dict(self.usage),
            "timestamps": dict(self.timestamps),
            **self.extra,
        }

    # --- logging ------------------------------------------------------------------------
    def trace(self, message: str, *args: Any, agent: str = "-", level: int = logging.INFO) -> None:
        """Log once, not on every replay, with the instance, workflow and agent."""
        if self.context.is_replaying:
            return
        log.log(
            level, "[instance=%s workflow=%s agent=%s] " + message, self.context.instance_id, self.workflow, agent,
            *args, extra={"instance_id": self.context.instance_id, "workflow": self.workflow, "agent": agent},
        )
