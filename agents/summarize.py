"""``summarize``: a faithful summary of the documents within a word budget (``summary_words``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationInfo, computed_field, model_validator

from . import textkit
from .agent import Agent, Payload
from .documents import prepare_documents, texts
from .inputs import DocumentsInput
from .models import Text, count_words

NAME = "summarize"


class Summary(BaseModel):
    """A summary within the word budget (``options.summary_words``, checked with a margin)."""

    summary: Text

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


def offline(payload: Payload) -> dict[str, Any]:
    """The best-scoring sentences of the texts, within the budget."""
    budget = int((payload.get("options") or {}).get("summary_words") or 80)
    return {"summary": textkit.extractive_summary(texts(payload), budget)}


AGENT = Agent(
    name=NAME,
    description="A summary of the documents within the word budget.",
    instructions=(
        "You are a precise summarizer. The user message is JSON: {\"title\", \"documents\": [{\"title\", "
        "\"text\"}], \"options\"}. Write a faithful summary of the documents in at most options.summary_words "
        "words. Keep numbers and names exact; add nothing that is not in the text."
    ),
    input_model=DocumentsInput,
    output_model=Summary,
    prepare=prepare_documents,
    offline=offline,
    options=("summary_words",),
    max_output_tokens=1200,
)
