"""The input every document-reading agent shares: the bundle, and the payload built from it.

``analyze``, ``summarize``, ``categorize`` (and any agent you add that reads the collected
documents) take :class:`DocumentsInput` and use :func:`prepare_documents`: the model reads
``{"title", "documents": [{"title", "text"}], "options": {only what the agent reads}}``.
"""

from __future__ import annotations

from typing import Any

from . import bundles
from .agent import Call
from .inputs import AgentInput, DocumentsInput


async def prepare_documents(inp: DocumentsInput, call: Call) -> dict[str, Any]:
    """The documents (loaded when passed by reference, cut to ``BATON_MAX_INPUT_CHARS``) and options."""
    bundle = await bundles.resolve(inp.bundle, call.settings, call.context.agent or "")
    return documents_payload(bundle, inp, call)


def documents_payload(bundle: bundles.Bundle, inp: AgentInput, call: Call) -> dict[str, Any]:
    settings = call.settings
    agent = call.agents.get(call.context.agent or "")
    wanted = agent.options if agent else ()
    options = {
        "taxonomy": list(inp.options.taxonomy or bundle.options.taxonomy or settings.taxonomy),
        "summary_words": inp.options.summary_words or bundle.options.summary_words or settings.summary_words,
    }
    budget = settings.max_input_chars
    documents = []
    for document in bundle.documents:
        text = document.text if len(document.text) <= budget else document.text[:budget] + " [truncated]"
        budget = max(0, budget - len(text))
        documents.append({"title": document.title, "text": text})
        if budget == 0:
            break
    return {"title": bundle.title, "documents": documents, "options": {k: options[k] for k in wanted}}


def texts(payload: Any) -> list[str]:
    """The documents' texts in a payload (a bundle reference carries only the count)."""
    documents = payload.get("documents")
    if not isinstance(documents, list):
        return []
    return [d["text"] for d in documents if isinstance(d, dict) and d.get("text")]
