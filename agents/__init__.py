"""Agents: one module per agent (``agents/<name>.py`` declares ``AGENT``), one Durable activity each.

:mod:`agents.registry` finds them and registers the activities (``agents.registry.bp``).
Every activity takes a JSON object (the agent's ``input_model``; unknown fields are
ignored) and returns ``AgentResult`` JSON::

    {"agent", "output": {...}, "backend": "azure-openai" | "openai" | "offline", "model",
     "latency_ms", "usage": {"prompt_tokens", "completion_tokens", "total_tokens", "estimated"},
     "cost_usd": float | null, "cached": bool, "attempt": int | null, "llm_requests": int,
     "failure": {"agent", "error", "kind", "permanent": true} | null}

A permanent failure comes back as ``failure`` (no retry can help); a transient one raises
:class:`~agents.llm.errors.TransientAgentError`, which the workflow's retry policy retries.
"""
