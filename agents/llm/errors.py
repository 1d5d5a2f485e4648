"""The agent error tree: how a failed agent call tells Durable whether to try again.

::

    AgentError                  base; ``kind`` names the cause, ``agent`` the agent
    ├── TransientAgentError     worth retrying: 429, 5xx, timeouts, connection errors,
    │                           storage hiccups.  The Durable retry policy retries it.
    └── PermanentAgentError     retrying cannot help: 400, content filter, auth, missing
                                deployment, bad input, output failing its schema after
                                one repair.  Orchestrators route it to the error handler.

Only these two leaf classes are raised, never subclasses, because the class name is all a
Durable orchestrator sees: the failure reads
``Activity function 'analyze' failed:  PermanentAgentError: [content_filter] ...``.
Messages never contain secrets (see :mod:`agents.llm.redact`).
"""

from __future__ import annotations

from .redact import redact


class AgentError(Exception):
    """An agent call failed; ``kind`` is a short machine-readable cause."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        agent: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.agent = agent
        self.status = status
        self.retry_after = retry_after
        self.detail = redact(message)
        prefix = f"[{kind}] " + (f"{agent}: " if agent else "")
        super().__init__(prefix + self.detail)

    def __reduce__(self):  # keep the keyword-only constructor picklable
        return (_rebuild, (type(self), self.detail, self.kind, self.agent, self.status, self.retry_after))


class TransientAgentError(AgentError):
    """A failure that may go away: the Durable retry policy should try again."""


class PermanentAgentError(AgentError):
    """A failure that retrying the same input cannot fix."""


def _rebuild(cls, detail, kind, agent, status, retry_after):  # pragma: no cover - pickling helper
    return cls(detail, kind=kind, agent=agent, status=status, retry_after=retry_after)
