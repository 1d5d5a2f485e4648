"""The inputs workflows send to agent activities (the agents' input contract, in one place)."""

from __future__ import annotations

from typing import Any

from .state import AgentOutcome


def agent_payload(context: Any, workflow: str, agent: str, options: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The JSON dict one agent activity receives."""
    return {
        "instance_id": context.instance_id,
        "workflow": workflow,
        "options": dict(options.get("agents") or {}),
        **fields,
    }


def handler_payload(
    context: Any, workflow: str, options: dict[str, Any], failed: AgentOutcome, results: dict[str, Any],
    bundle: Any = None,
) -> dict[str, Any]:
    """What the error-handler agent receives about a failure (with the bundle, it adds a fallback)."""
    extra = {"bundle": bundle} if bundle else {}
    return agent_payload(
        context, workflow, "error_handler", options,
        failure={"agent": failed.agent, "error": failed.error, "permanent": failed.permanent},
        results=dict(results), **extra,
    )
