"""``categorize``: the one category of the taxonomy (``taxonomy``) that fits the documents best."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from . import textkit
from .agent import Agent, Payload
from .documents import prepare_documents, texts
from .inputs import DocumentsInput
from .models import Text

NAME = "categorize"


class Categorization(BaseModel):
    """One category of the taxonomy (``options.taxonomy``, sent to the model as an enum) and a confidence."""

    category: Text
    confidence: float = Field(ge=0.0, le=1.0)
    rationale: str

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


def offline(payload: Payload) -> dict[str, Any]:
    """Keyword counts per category; the catch-all when nothing matches."""
    taxonomy = list((payload.get("options") or {}).get("taxonomy") or ["other"])
    label, confidence, hits = textkit.categorize("\n\n".join(texts(payload)), taxonomy)
    top = sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:6]
    rationale = (
        "keywords found: " + ", ".join(f"{word} x{count}" for word, count in top) if top
        else "no keywords of any category were found"
    )
    return {"category": label, "confidence": confidence, "rationale": rationale}


AGENT = Agent(
    name=NAME,
    description="One category of the taxonomy, with a confidence.",
    instructions=(
        "You are a classifier. The user message is JSON: {\"title\", \"documents\": [{\"title\", \"text\"}], "
        "\"options\"}. Choose the single best category for the documents from options.taxonomy (copy the label "
        "exactly), give your confidence from 0 to 1, and a one-sentence rationale."
    ),
    input_model=DocumentsInput,
    output_model=Categorization,
    prepare=prepare_documents,
    offline=offline,
    options=("taxonomy",),
    choices=(("category", "taxonomy"),),
    temperature=0.0,
    max_output_tokens=300,
)
