"""Pydantic models of what agents produce: bundles, per-agent outputs, and the AgentResult envelope.

Each LLM-backed agent's ``output_model`` (see :mod:`agents.specs`) is one of these; its JSON
schema is what the model is asked to return.  Validators that depend on the request (the
summary's word budget, the taxonomy) read the pydantic validation context, which the
gateway fills with the call's ``options``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, computed_field, field_validator, model_validator

BackendName = Literal["azure-openai", "openai", "offline"]


def count_words(text: str) -> int:
    return len(re.findall(r"\S+", text))


# --- collect_data ---------------------------------------------------------------------------
class Document(BaseModel):
    """One document of a bundle."""

    title: str = ""
    text: str = Field(min_length=1)
    source: str = Field("request", description="'request' or 'blob:<container>/<name>'")


class BundleOptions(BaseModel):
    """Options that ride along with the documents (the agents' own ``options`` win)."""

    model_config = ConfigDict(extra="ignore")
    taxonomy: list[str] | None = Field(None, min_length=2)
    summary_words: int | None = Field(None, ge=5, le=5000)


class Bundle(BaseModel):
    """The normalised documents every analysis agent reads (``collect_data``'s inline output)."""

    title: str
    documents: list[Document] = Field(min_length=1)
    chars: int
    words: int
    options: BundleOptions = Field(default_factory=BundleOptions)


class BundleRef(BaseModel):
    """A bundle too large for a Durable message, stored as a blob (``collect_data``'s output then)."""

    ref: str = Field(description="'<container>/<blob name>' in the app's storage account")
    sha256: str
    title: str
    documents: int
    chars: int
    words: int
    bytes: int


# --- analyze / summarize / categorize --------------------------------------------------------
class Sentiment(BaseModel):
    label: Literal["positive", "negative", "neutral", "mixed"]
    score: float = Field(ge=-1.0, le=1.0, description="-1 very negative .. +1 very positive")


class Entity(BaseModel):
    name: str = Field(min_length=1)
    type: str = Field("other", description="person, organization, location, product, money, percent, date or other")
    mentions: int = Field(1, ge=1)


class Analysis(BaseModel):
    """``analyze``: key points, overall sentiment, named entities."""

    key_points: list[str] = Field(min_length=1, max_length=8)
    sentiment: Sentiment
    entities: list[Entity] = Field(default_factory=list, max_length=30)


class Summary(BaseModel):
    """``summarize``: a summary within the word budget (``options.summary_words``)."""

    summary: str = Field(min_length=1)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def word_count(self) -> int:
        return count_words(self.summary)

    @model_validator(mode="after")
    def _within_budget(self, info: ValidationInfo) -> Summary:
        budget = (info.context or {}).get("summary_words")
        if budget:
            allowed = int(budget) + max(5, int(budget) // 4)
            if self.word_count > allowed:
                raise ValueError(f"summary has {self.word_count} words; the budget is {budget} words")
        return self


class Categorization(BaseModel):
    """``categorize``: one category of the taxonomy (``options.taxonomy``) and a confidence."""

    category: str = Field(min_length=1)
    confidence: float = Field(ge=0.0, le=1.0)
    rationale: str = ""

    @field_validator("category")
    @classmethod
    def _in_taxonomy(cls, value: str, info: ValidationInfo) -> str:
        taxonomy = (info.context or {}).get("taxonomy")
        if not taxonomy:
            return value
        wanted = value.strip().lower()
        for label in taxonomy:
            if label.lower() == wanted:
                return label
        raise ValueError(f"category {value!r} is not one of {list(taxonomy)}")


# --- aggregate / error_handler ---------------------------------------------------------------
class FailureNote(BaseModel):
    """A failed agent as orchestrators report it."""

    model_config = ConfigDict(extra="ignore")
    agent: str
    error: str = ""
    permanent: bool = False


class ReportNarrative(BaseModel):
    """What the LLM writes for ``aggregate``; the rest of the report is merged in code."""

    headline: str = Field(min_length=1, max_length=200)
    overview: str = Field(min_length=1)
    recommendations: list[str] = Field(default_factory=list, max_length=5)


class Report(ReportNarrative):
    """``aggregate``'s output: the narrative plus the merged analysis results."""

    summary: str | None = None
    sentiment: Sentiment | None = None
    category: str | None = None
    confidence: float | None = None
    key_points: list[str] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="agents whose output was merged")
    missing: list[str] = Field(default_factory=list, description="agents with no usable output")
    errors: list[FailureNote] = Field(default_factory=list)
    degraded: bool = False


class ErrorNarrative(BaseModel):
    """What the LLM writes for ``error_handler``."""

    summary: str = Field(min_length=1)
    likely_cause: str = Field(min_length=1)
    recommendations: list[str] = Field(default_factory=list, max_length=5)


class Fallback(BaseModel):
    """A best-effort result standing in for the failed agent's."""

    agent: str
    output: dict[str, Any] | None = None
    backend: str = "offline"
    note: str = ""


class ErrorReport(ErrorNarrative):
    """``error_handler``'s output."""

    failed_agent: str
    error: str
    permanent: bool
    fallback: Fallback | None = None


# --- the envelope every activity returns -----------------------------------------------------
class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = Field(False, description="true when counted from characters, not reported by a server")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            estimated=self.estimated or other.estimated,
        )


class AgentResult(BaseModel):
    """What every agent activity returns (as ``model_dump(mode="json")``)."""

    agent: str
    output: dict[str, Any]
    backend: BackendName
    model: str
    latency_ms: float
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = Field(None, description="None when the model's price is unknown")
    cached: bool = False
    attempt: int | None = Field(None, description="the activity attempt, where known")
    llm_requests: int = Field(0, description="LLM requests this call made (2 after a schema repair)")
