"""Pydantic models every agent shares: document bundles, failures, and the AgentResult envelope.

Each agent's own output model lives in its module (``agents/analyze.py`` has ``Analysis``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

BackendName = Literal["azure-openai", "openai", "offline"]


class Failure(BaseModel):
    """A failed agent (or wait), as data: ``kind`` says why, ``permanent`` whether retrying could help."""

    model_config = ConfigDict(extra="ignore")
    agent: str
    error: str = ""
    kind: str = "unknown"
    permanent: bool = False


def count_words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _short(value: str) -> str:
    if len(value) > SHORT_TEXT:
        raise ValueError(f"must be at most {SHORT_TEXT} characters")
    return value


SHORT_TEXT = 200
Text = Annotated[str, AfterValidator(_not_blank)]
"""Non-empty text in an output model, checked here: strict structured outputs allow no ``minLength``."""
ShortText = Annotated[str, AfterValidator(_not_blank), AfterValidator(_short)]
"""Non-empty text of at most 200 characters (a headline), checked here, not in the schema."""


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
    output: dict[str, Any] = Field(default_factory=dict)
    backend: BackendName
    model: str
    latency_ms: float
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = Field(None, description="None when the model's price is unknown")
    cached: bool = False
    failure: Failure | None = Field(None, description="set when the agent failed permanently; output is then {}")
    attempt: int | None = Field(None, description="the activity attempt, where known")
    llm_requests: int = Field(0, description="LLM requests this call made (2 after a schema repair)")
