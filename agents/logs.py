"""Log lines that say which call they belong to: instance, workflow, agent, attempt.

Every module logs through ``logging.getLogger(__name__)`` wrapped in :class:`AgentLogger`,
which prefixes the message and sets the same fields as ``extra`` (``instance_id``,
``workflow``, ``agent``, ``attempt``) for structured handlers such as Application Insights.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallContext:
    """Who is calling: known fields are set, unknown ones stay ``None``."""

    instance_id: str | None = None
    workflow: str | None = None
    agent: str | None = None
    attempt: int | None = None


class AgentLogger(logging.LoggerAdapter):
    """A logger adapter that tags every record with a :class:`CallContext`."""

    def __init__(self, logger: logging.Logger, context: CallContext | None = None) -> None:
        self.context = context or CallContext()
        super().__init__(logger, dict(vars(self.context)))  # flat fields: no deep copy needed

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        c = self.context
        fields = (c.instance_id or "-", c.workflow or "-", c.agent or "-", c.attempt if c.attempt is not None else "-")
        instance, workflow, agent, attempt = (str(f).replace("%", "?") for f in fields)  # no stray format codes
        prefix = f"[instance={instance} workflow={workflow} agent={agent} attempt={attempt}] "
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return prefix + str(msg), kwargs


def agent_logger(name: str, context: CallContext | None = None) -> AgentLogger:
    return AgentLogger(logging.getLogger(name), context)
