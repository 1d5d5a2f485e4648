"""``aggregate``: one report from whichever results the workflow collected.

The model writes only the narrative (headline, overview, recommendations); the facts are
merged in code from the results, field by field (``summary``, ``sentiment``, ``category``,
``confidence``, ``key_points``, ``entities``: whichever agent produced them), so no data is
lost to a model that paraphrases and any agent whose output has such fields contributes.
A result that does not validate against its agent's output model counts as missing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from . import textkit
from .agent import Agent, Call, Payload
from .analyze import Entity, Sentiment
from .documents import texts
from .inputs import AgentInput, Failure
from .lexicons import NEGATIVE, POSITIVE
from .llm.structured import describe
from .models import Bundle, BundleRef, ShortText, Text

NAME = "aggregate"
MERGED = ("summary", "sentiment", "category", "confidence", "key_points", "entities")


class AggregateInput(AgentInput):
    """The results so far (``{agent: output}`` or whole AgentResult dicts) and the failures."""

    bundle: BundleRef | Bundle | None = None
    results: dict[str, Any] = Field(default_factory=dict)
    errors: list[Failure] = Field(default_factory=list)


class ReportNarrative(BaseModel):
    """What the model writes; the rest of the report is merged in code."""

    headline: ShortText
    overview: Text
    recommendations: list[str] = Field(max_length=5)


class Report(ReportNarrative):
    """The narrative plus the merged results."""

    summary: str | None = None
    sentiment: Sentiment | None = None
    category: str | None = None
    confidence: float | None = None
    key_points: list[str] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="agents whose output was merged")
    missing: list[str] = Field(default_factory=list, description="agents with no usable output")
    errors: list[Failure] = Field(default_factory=list)
    degraded: bool = False


async def prepare(inp: AggregateInput, call: Call) -> dict[str, Any]:
    """``{"title", "documents": n, "results", "missing", "errors", "options": {}}``."""
    results, notes = usable_results(inp.results, call)
    errors = [*inp.errors, *notes]
    missing = list(dict.fromkeys([n.agent for n in notes] + [e.agent for e in inp.errors]))
    documents = 0 if inp.bundle is None else (
        inp.bundle.documents if isinstance(inp.bundle, BundleRef) else len(inp.bundle.documents))
    return {
        "title": inp.bundle.title if inp.bundle is not None else "", "documents": documents, "results": results,
        "missing": missing, "errors": [e.model_dump() for e in errors], "options": {},
    }


def usable_results(results: dict[str, Any], call: Call) -> tuple[dict[str, dict[str, Any]], list[Failure]]:
    """Outputs that validate against their agent's output model (plain outputs or whole AgentResult dicts)."""
    usable: dict[str, dict[str, Any]] = {}
    notes: list[Failure] = []
    for agent, value in results.items():
        if isinstance(value, dict) and "output" in value and "agent" in value:
            value = value["output"]
        known = call.agents.get(agent)
        if known is None:
            continue
        try:
            usable[agent] = known.output_model.model_validate(value).model_dump(mode="json")
        except ValidationError as exc:
            error = "output did not validate: " + "; ".join(describe(exc))
            notes.append(Failure(agent=agent, error=error, kind="schema", permanent=True))
    return usable, notes


def merged(results: Payload) -> dict[str, Any]:
    """The first value of each merged field found in the results, in their order."""
    facts: dict[str, Any] = {}
    for output in results.values():
        for key in MERGED:
            if key not in facts and isinstance(output, dict) and output.get(key) not in (None, "", []):
                facts[key] = output[key]
    return facts


def finalize(narrative: BaseModel, payload: Payload) -> Report:
    results = payload.get("results") or {}
    missing = list(payload.get("missing") or ())
    errors = [Failure.model_validate(e) for e in payload.get("errors") or ()]
    return Report(
        **narrative.model_dump(include={"headline", "overview", "recommendations"}), **merged(results),
        sources=list(results), missing=missing, errors=errors, degraded=bool(missing or errors),
    )


def offline(payload: Payload) -> dict[str, Any]:
    """A headline from the facts, an overview that strings them together, recommendations from concerns."""
    facts = merged(payload.get("results") or {})
    title = payload.get("title") or "Documents"
    sentiment = facts.get("sentiment") or {}
    labels = [f"{sentiment['label']} sentiment"] if sentiment else []
    if facts.get("category"):
        labels.append(str(facts["category"]))
    headline = f"{title}: {', '.join(labels)}" if labels else f"{title}: no analysis available"
    parts = [facts.get("summary") or " ".join(facts.get("key_points") or ())]
    if sentiment:
        parts.append(f"Sentiment is {sentiment['label']} ({float(sentiment['score']):+.2f}).")
    confidence = float(facts.get("confidence") or 0)
    if facts.get("category"):
        parts.append(f"Categorised as {facts['category']} (confidence {confidence:.0%}).")
    missing = list(payload.get("missing") or ())
    if missing:
        parts.append(f"Missing: {', '.join(missing)}; the report is partial.")
    recommendations = []
    concern = _main_concern([*textkit.sentences("\n\n".join(texts(payload))), *(facts.get("key_points") or ())])
    if sentiment.get("label") in ("negative", "mixed") and concern:
        recommendations.append(f"Follow up on the main concern: {concern}")
    if facts.get("category") and confidence < 0.4:
        recommendations.append(f"Check the category by hand: confidence in '{facts['category']}' is low.")
    recommendations.extend(f"Re-run {agent} once its failure is resolved." for agent in missing)
    overview = " ".join(p for p in parts if p) or "No agent produced a usable result."
    return {"headline": headline[:200], "overview": overview, "recommendations": recommendations[:5]}


def _main_concern(sentences: list[str]) -> str | None:
    """The sentence with the most negative (less positive) words, first on ties; ``None`` if none leans negative."""
    best, best_score = None, 0.0
    for sentence in sentences:
        words = [word.lower() for word in textkit.words(sentence)]
        score = sum(NEGATIVE.get(w, 0.0) for w in words) - sum(POSITIVE.get(w, 0.0) for w in words)
        if score > best_score:
            best, best_score = sentence, score
    return best


AGENT = Agent(
    name=NAME,
    description="Merges whichever results exist into one report.",
    instructions=(
        "You write the final report of a document analysis. The user message is JSON with the documents' title, "
        "the outputs of the agents that succeeded (results), the agents that are missing, and their errors. "
        "Write a headline (at most 15 words), a short overview that combines the results, and up to 5 concrete "
        "recommendations. If some agents are missing, say what the report lacks. Do not invent results."
    ),
    input_model=AggregateInput,
    output_model=ReportNarrative,
    prepare=prepare,
    offline=offline,
    finalize=finalize,
    temperature=0.3,
    max_output_tokens=700,
)
