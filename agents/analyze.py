"""``analyze``: key points, overall sentiment and named entities of the documents."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from . import textkit
from .agent import Agent, Payload
from .documents import prepare_documents, texts
from .inputs import DocumentsInput
from .models import Text

NAME = "analyze"


class Sentiment(BaseModel):
    label: Literal["positive", "negative", "neutral", "mixed"]
    score: float = Field(ge=-1.0, le=1.0, description="-1 very negative .. +1 very positive")


class Entity(BaseModel):
    name: Text
    type: str = Field(description="person, organization, location, product, money, percent, date or other")
    mentions: int = Field(ge=1)


class Analysis(BaseModel):
    """Key points, overall sentiment, named entities."""

    key_points: list[str] = Field(min_length=1, max_length=8)
    sentiment: Sentiment
    entities: list[Entity] = Field(max_length=30)


def offline(payload: Payload) -> dict[str, Any]:
    """Key sentences, lexicon sentiment, capitalised phrases as entities."""
    documents = texts(payload)
    label, score = textkit.sentiment("\n\n".join(documents))
    entities = [{"name": n, "type": t, "mentions": m} for n, t, m in textkit.entities("\n\n".join(documents))]
    return {"key_points": textkit.key_points(documents), "sentiment": {"label": label, "score": score},
            "entities": entities}


AGENT = Agent(
    name=NAME,
    description="Key points, sentiment and entities of the documents.",
    instructions=(
        "You are an analyst. The user message is JSON: {\"title\", \"documents\": [{\"title\", \"text\"}], "
        "\"options\"}. Extract the 3 to 5 most important key points as short sentences, the overall sentiment "
        "(label positive, negative, neutral or mixed, and a score from -1 to 1), and the named entities (people, "
        "organizations, locations, products, amounts) with how often each is mentioned. Use only facts stated "
        "in the documents."
    ),
    input_model=DocumentsInput,
    output_model=Analysis,
    prepare=prepare_documents,
    offline=offline,
    temperature=0.1,
    max_output_tokens=900,
)
