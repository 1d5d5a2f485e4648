"""The LLM gateway (:mod:`agents.llm.gateway`, ``complete``) and its backends: ``azure-openai``
(Entra ID), ``openai`` (any compatible server) and ``offline`` (each agent's own behaviour)."""

from .errors import AgentError, PermanentAgentError, TransientAgentError

__all__ = ["AgentError", "PermanentAgentError", "TransientAgentError"]
