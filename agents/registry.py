"""The agent registry: every module in ``agents/`` that declares ``AGENT`` is an activity.

Adding an agent is adding ``agents/<name>.py`` (or a folder ``agents/<name>/`` whose
``__init__.py`` declares it, with its prompt beside it).  :data:`AGENTS` maps each name to
its :class:`~agents.agent.Agent`; :data:`bp` registers one activity per agent, named after
it.  There is no other list of agents.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import azure.durable_functions as df

from .agent import Agent
from .runner import run_agent

PACKAGE = __name__.rpartition(".")[0]


def discover() -> dict[str, Agent]:
    """Import every module of the package and collect the agents they declare, by name."""
    found: dict[str, Agent] = {}
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if module.name.startswith("_") or module.name == "registry":
            continue
        agent = getattr(importlib.import_module(f"{PACKAGE}.{module.name}"), "AGENT", None)
        if isinstance(agent, Agent):
            if agent.name in found:
                raise ValueError(f"two agents are named {agent.name!r}")
            found[agent.name] = agent
    return found


def activity_for(agent: Agent) -> Any:
    """The activity function of one agent (named after it, for the Functions host)."""

    async def activity(payload: Any) -> dict[str, Any]:
        return await run_agent(agent, payload, AGENTS)

    activity.__name__ = activity.__qualname__ = agent.name
    activity.__doc__ = agent.description
    return activity


AGENTS: dict[str, Agent] = discover()
bp = df.Blueprint()
for _agent in AGENTS.values():
    bp.activity_trigger(input_name="payload", activity=_agent.name)(activity_for(_agent))
