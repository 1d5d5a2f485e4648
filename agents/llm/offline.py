"""The ``offline`` backend: deterministic, extractive, no network, and labelled as such.

Summaries are the best-scoring sentences of the text, sentiment comes from a word lexicon,
the category from keyword counts, entities from capitalised phrases (see
:mod:`agents.textkit`).  The same payload always yields the same output.  Results carry
``"backend": "offline"``, model :data:`MODEL`, estimated token counts and a cost of 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from .. import textkit
from ..lexicons import NEGATIVE, POSITIVE
from ..names import AGGREGATE, ANALYZE, CATEGORIZE, ERROR_HANDLER, SUMMARIZE
from .errors import PermanentAgentError

MODEL = "offline-extractive-v1"

Payload = Mapping[str, Any]


def produce(name: str, output_model: type[BaseModel], payload: Payload) -> BaseModel:
    """The agent's output for ``payload``, validated like an LLM reply would be."""
    handler = _HANDLERS.get(name)
    if handler is None:
        raise PermanentAgentError(f"the offline backend has no agent {name!r}", kind="config", agent=name)
    return output_model.model_validate(handler(payload), context=dict(payload.get("options") or {}))


def _texts(payload: Payload) -> list[str]:
    documents = payload.get("documents")
    if not isinstance(documents, list):  # a bundle reference carries only the count
        return []
    return [d["text"] for d in documents if isinstance(d, dict) and d.get("text")]


def _analyze(payload: Payload) -> dict[str, Any]:
    texts = _texts(payload)
    label, score = textkit.sentiment("\n\n".join(texts))
    entities = [{"name": n, "type": t, "mentions": m} for n, t, m in textkit.entities("\n\n".join(texts))]
    return {"key_points": textkit.key_points(texts), "sentiment": {"label": label, "score": score},
            "entities": entities}


def _summarize(payload: Payload) -> dict[str, Any]:
    budget = int((payload.get("options") or {}).get("summary_words") or 80)
    return {"summary": textkit.extractive_summary(_texts(payload), budget)}


def _categorize(payload: Payload) -> dict[str, Any]:
    taxonomy = list((payload.get("options") or {}).get("taxonomy") or ["other"])
    label, confidence, hits = textkit.categorize("\n\n".join(_texts(payload)), taxonomy)
    top = sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:6]
    rationale = (
        "keywords found: " + ", ".join(f"{word} x{count}" for word, count in top) if top
        else "no keywords of any category were found"
    )
    return {"category": label, "confidence": confidence, "rationale": rationale}


def _main_concern(sentences: list[str]) -> str | None:
    """The sentence with the most negative (less positive) words, first on ties; ``None`` if none leans negative."""
    best, best_score = None, 0.0
    for sentence in sentences:
        words = [word.lower() for word in textkit.words(sentence)]
        score = sum(NEGATIVE.get(w, 0.0) for w in words) - sum(POSITIVE.get(w, 0.0) for w in words)
        if score > best_score:
            best, best_score = sentence, score
    return best


def _aggregate(payload: Payload) -> dict[str, Any]:
    results = payload.get("results") or {}
    analysis, summary, category = (results.get(a) or {} for a in (ANALYZE, SUMMARIZE, CATEGORIZE))
    title = payload.get("title") or "Documents"
    sentiment = analysis.get("sentiment") or {}
    facts = [f"{sentiment['label']} sentiment"] if sentiment else []
    if category:
        facts.append(str(category["category"]))
    headline = f"{title}: {', '.join(facts)}" if facts else f"{title}: no analysis available"
    parts = [summary.get("summary") or " ".join(analysis.get("key_points") or ())]
    if sentiment:
        parts.append(f"Sentiment is {sentiment['label']} ({float(sentiment['score']):+.2f}).")
    if category:
        parts.append(f"Categorised as {category['category']} (confidence {float(category['confidence']):.0%}).")
    missing = list(payload.get("missing") or ())
    if missing:
        parts.append(f"Missing: {', '.join(missing)}; the report is partial.")
    recommendations = []
    concern = _main_concern([*textkit.sentences("\n\n".join(_texts(payload))), *(analysis.get("key_points") or ())])
    if sentiment.get("label") in ("negative", "mixed") and concern:
        recommendations.append(f"Follow up on the main concern: {concern}")
    if category and float(category.get("confidence") or 0) < 0.4:
        recommendations.append(f"Check the category by hand: confidence in '{category['category']}' is low.")
    recommendations.extend(f"Re-run {agent} once its failure is resolved." for agent in missing)
    overview = " ".join(p for p in parts if p) or "No agent produced a usable result."
    return {"headline": headline[:200], "overview": overview, "recommendations": recommendations[:5]}


_CAUSES: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("content_filter", "content management policy", "responsibleaipolicyviolation"),
     "The content filter blocked the request or the reply.",
     ("Review the document for content that triggers the filter.",
      "If the content is legitimate, adjust the deployment's content filter policy.")),
    (("rate_limited", "429", "quota"),
     "The model endpoint was rate limited and the retries ran out.",
     ("Retry later or raise the deployment's tokens-per-minute quota.", "Lower the number of concurrent workflows.")),
    (("timeout", "timed out", "did not answer in time"),
     "The model did not answer within the timeout.",
     ("Raise BATON_LLM_TIMEOUT_SECONDS or send shorter documents.",)),
    (("[schema]", "did not validate", "schema"),
     "The model's reply did not match the expected output schema, even after a repair attempt.",
     ("Use a model that supports structured outputs (json_schema).", "Check BATON_RESPONSE_FORMAT.")),
    (("[auth]", "401", "403", "token"),
     "The app could not authenticate to the model endpoint.",
     ("Grant the app's identity the 'Cognitive Services OpenAI User' role.", "Check AZURE_CLIENT_ID.")),
    (("not_found", "404", "deploymentnotfound"),
     "The model or deployment was not found.",
     ("Check AZURE_OPENAI_DEPLOYMENT / OPENAI_MODEL.",)),
    (("server_error", "connection", "bad_response", "500", "502", "503"),
     "The model service failed or could not be reached, and the retries ran out.",
     ("Retry the workflow later.", "Check the service health of the model endpoint.")),
    (("[input]", "validation error", "field required"),
     "The agent received invalid input.",
     ("Fix the request that started the workflow.",)),
    (("storage", "bundle", "blob"),
     "Blob storage was unavailable or a stored document was missing.",
     ("Check AzureWebJobsStorage and that the blobs exist.",)),
    (("approval",),
     "No approval decision arrived before the deadline.",
     ("Ask an approver to review the report.", "Start again with a longer approval_timeout_hours.")),
)


def _error_handler(payload: Payload) -> dict[str, Any]:
    failure = payload.get("failure") or {}
    agent = str(failure.get("agent") or "an agent")
    error = str(failure.get("error") or "unknown error")
    lowered = f"{agent} {error}".lower()
    cause, recommendations = "An unexpected error occurred.", ("Inspect the instance's history for details.",)
    for needles, text, advice in _CAUSES:
        if any(n in lowered for n in needles):
            cause, recommendations = text, advice
            break
    how = "permanently" if failure.get("permanent") else "after its retries"
    summary = f"The {agent} step failed {how}: {error[:300]}"
    succeeded = sorted(payload.get("results") or {})
    if succeeded:
        summary += f" Results of {', '.join(succeeded)} are still available."
    if payload.get("fallback"):
        summary += " A fallback result from the offline backend stands in for the failed step."
    return {"summary": summary, "likely_cause": cause, "recommendations": list(recommendations)}


_HANDLERS: dict[str, Callable[[Payload], dict[str, Any]]] = {
    ANALYZE: _analyze, SUMMARIZE: _summarize, CATEGORIZE: _categorize,
    AGGREGATE: _aggregate, ERROR_HANDLER: _error_handler,
}
