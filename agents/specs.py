"""The agents as data: each is an :class:`AgentSpec` (instructions, output model, sampling).

``output_model`` is what the LLM must return (its JSON schema goes into the request).  For
``aggregate`` and ``error_handler`` the LLM writes only the narrative; ``finalize`` then
merges it with facts taken in code from the payload, so data is never lost to a model that
paraphrases.  ``options`` names the call options an agent reads (and so its cache key);
``choices`` pairs (field, option) turn an option into an enum of the requested schema
(``category`` from the taxonomy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from . import names, reports
from .models import Analysis, Categorization, ErrorNarrative, ReportNarrative, Summary

Finalize = Callable[[BaseModel, Mapping[str, Any]], BaseModel]


@dataclass(frozen=True)
class AgentSpec:
    """One agent: what it is told, what it must answer, how it samples."""

    name: str
    instructions: str
    output_model: type[BaseModel]
    temperature: float = 0.2
    max_output_tokens: int = 800
    options: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    finalize: Finalize | None = None
    version: int = 1

    def complete_output(self, output: BaseModel, payload: Mapping[str, Any]) -> BaseModel:
        """The agent's final output: the validated reply, finalized when the spec says so."""
        return self.finalize(output, payload) if self.finalize else output


_DOCUMENTS = "The user message is JSON: {\"title\", \"documents\": [{\"title\", \"text\"}], \"options\"}. "

ANALYZE = AgentSpec(
    name=names.ANALYZE,
    instructions=(
        "You are an analyst. " + _DOCUMENTS + "Extract the 3 to 5 most important key points as short "
        "sentences, the overall sentiment (label positive, negative, neutral or mixed, and a score from "
        "-1 to 1), and the named entities (people, organizations, locations, products, amounts) with how "
        "often each is mentioned. Use only facts stated in the documents."
    ),
    output_model=Analysis,
    temperature=0.1,
    max_output_tokens=900,
)

SUMMARIZE = AgentSpec(
    name=names.SUMMARIZE,
    instructions=(
        "You are a precise summarizer. " + _DOCUMENTS + "Write a faithful summary of the documents in at "
        "most options.summary_words words. Keep numbers and names exact; add nothing that is not in the text."
    ),
    output_model=Summary,
    temperature=0.2,
    max_output_tokens=1200,
    options=("summary_words",),
)

CATEGORIZE = AgentSpec(
    name=names.CATEGORIZE,
    instructions=(
        "You are a classifier. " + _DOCUMENTS + "Choose the single best category for the documents from "
        "options.taxonomy (copy the label exactly), give your confidence from 0 to 1, and a one-sentence rationale."
    ),
    output_model=Categorization,
    temperature=0.0,
    max_output_tokens=300,
    options=("taxonomy",),
    choices=(("category", "taxonomy"),),
)

AGGREGATE = AgentSpec(
    name=names.AGGREGATE,
    instructions=(
        "You write the final report of a document analysis. The user message is JSON with the documents' "
        "title, the outputs of the agents that succeeded (results: analyze, summarize, categorize), the "
        "agents that are missing, and their errors. Write a headline (at most 15 words), a short overview "
        "that combines the results, and up to 5 concrete recommendations. If some agents are missing, say "
        "what the report lacks. Do not invent results."
    ),
    output_model=ReportNarrative,
    temperature=0.3,
    max_output_tokens=700,
    finalize=reports.finalize_report,
)

ERROR_HANDLER = AgentSpec(
    name=names.ERROR_HANDLER,
    instructions=(
        "You explain failures of an automated document-analysis workflow to its operators. The user message "
        "is JSON: the failure (agent, error, permanent), the results that did succeed, and a fallback result "
        "if one exists. Write a one-paragraph summary of what failed and what it means for the output, the "
        "likely cause, and up to 5 concrete recommendations to fix it."
    ),
    output_model=ErrorNarrative,
    temperature=0.2,
    max_output_tokens=600,
    finalize=reports.finalize_error,
)

SPECS: dict[str, AgentSpec] = {spec.name: spec for spec in (ANALYZE, SUMMARIZE, CATEGORIZE, AGGREGATE, ERROR_HANDLER)}
"""Every LLM-backed agent by activity name (``collect_data`` needs no model)."""
