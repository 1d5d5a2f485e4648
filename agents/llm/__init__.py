"""The LLM gateway and its backends: ``azure-openai`` (Entra ID), ``openai`` (compatible), ``offline``.

``complete`` lives in :mod:`agents.llm.gateway`; it is importable from here too (loaded on
first use, which keeps :mod:`agents.settings` free of an import cycle).
"""

from typing import Any

from .errors import AgentError, PermanentAgentError, TransientAgentError

__all__ = ["AgentError", "PermanentAgentError", "TransientAgentError", "complete"]


def __getattr__(name: str) -> Any:
    if name == "complete":
        from .gateway import complete

        return complete
    raise AttributeError(name)
