"""Agents: one Durable activity per agent (``bp``), backed by the LLM gateway.

Input contract (a JSON object; unknown fields are ignored)
-----------------------------------------------------------
Every agent::

    {"instance_id": str, "workflow": str, "attempt": int?,           # for logs and results
     "options": {"taxonomy": [str, ...]?, "summary_words": int?}}     # override bundle/settings

``collect_data`` adds ``"request"`` (or carries the request's fields at the top level)::

    {"text": str, "title": str?} | {"documents": [{"title": str?, "text": str}, ...]}
      | {"blobs": ["container/name", ...]}        # + optional "taxonomy", "summary_words"

``analyze``, ``summarize``, ``categorize`` add ``"bundle"``: ``collect_data``'s output, inline
or by reference (loaded transparently).  ``aggregate`` adds ``"results": {agent: output}``
(any subset of analyze/summarize/categorize; whole AgentResult dicts are accepted too),
``"errors": [{"agent", "error", "permanent"}]`` and optionally ``"bundle"``.
``error_handler`` adds ``"failure": {"agent", "error", "permanent"}``, optionally
``"results"`` and ``"bundle"`` (with a bundle it attaches an offline fallback result).

Output contract: every activity returns ``AgentResult`` JSON
---------------------------------------------------------------
::

    {"agent": str, "output": {...}, "backend": "azure-openai" | "openai" | "offline",
     "model": str, "latency_ms": float,
     "usage": {"prompt_tokens": int, "completion_tokens": int, "total_tokens": int, "estimated": bool},
     "cost_usd": float | null,          # null: no price known for the model
     "cached": bool,                    # true: from the result cache, usage 0, no LLM call
     "attempt": int | null,             # the input's attempt, else this worker's count of the same call
     "llm_requests": int}               # 0 offline/cached, 1, or 2 after a schema repair

``output`` per agent:

* ``collect_data``: ``{"title", "documents": [{"title", "text", "source"}], "chars", "words",
  "options": {"taxonomy", "summary_words"}}``, or when its JSON exceeds 32 KB a reference
  ``{"ref": "container/blob", "sha256", "title", "documents": n, "chars", "words", "bytes"}``.
* ``analyze``: ``{"key_points": [str], "sentiment": {"label", "score"}, "entities": [{"name", "type", "mentions"}]}``
* ``summarize``: ``{"summary": str, "word_count": int}``
* ``categorize``: ``{"category": str, "confidence": float, "rationale": str}``
* ``aggregate``: ``{"headline", "overview", "recommendations", "summary", "sentiment", "category",
  "confidence", "key_points", "entities", "sources", "missing", "errors", "degraded"}``
* ``error_handler``: ``{"summary", "likely_cause", "recommendations", "failed_agent", "error",
  "permanent", "fallback": {"agent", "output", "backend", "note"} | null}``

Failures raise :class:`TransientAgentError` (retry) or :class:`PermanentAgentError` (route to
the error handler); the Durable failure message starts with the class name.
"""

from .activities import bp
from .llm.errors import AgentError, PermanentAgentError, TransientAgentError
from .llm.gateway import complete
from .models import AgentResult
from .names import AGENTS, AGGREGATE, ANALYZE, CATEGORIZE, COLLECT_DATA, ERROR_HANDLER, SUMMARIZE
from .specs import SPECS, AgentSpec

__all__ = [
    "AGENTS",
    "AGGREGATE",
    "ANALYZE",
    "CATEGORIZE",
    "COLLECT_DATA",
    "ERROR_HANDLER",
    "SPECS",
    "SUMMARIZE",
    "AgentError",
    "AgentResult",
    "AgentSpec",
    "PermanentAgentError",
    "TransientAgentError",
    "bp",
    "complete",
]
