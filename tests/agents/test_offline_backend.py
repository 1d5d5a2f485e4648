"""The offline backend: deterministic, honest labels, sensible results on real paragraphs."""

from __future__ import annotations

import pytest

from agents import textkit
from agents.aggregate import NAME as AGGREGATE
from agents.analyze import NAME as ANALYZE
from agents.categorize import NAME as CATEGORIZE
from agents.error_handler import NAME as ERROR_HANDLER
from agents.llm.gateway import complete
from agents.registry import AGENTS
from agents.settings import DEFAULT_TAXONOMY
from agents.summarize import NAME as SUMMARIZE
from tests.agents.texts import COMPLAINT, FINANCE, REVIEW, documents_payload

TAXONOMY = list(DEFAULT_TAXONOMY)


async def run(agent: str, payload: dict) -> dict:
    result = await complete(AGENTS[agent], payload)
    assert result.backend == "offline" and result.model == "offline-extractive-v1"
    assert result.cost_usd == 0.0 and result.usage.estimated is True and result.llm_requests == 0
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens > 0
    return result.output


async def test_same_input_gives_the_same_output():
    for agent, options in ((ANALYZE, {}), (SUMMARIZE, {"summary_words": 40}), (CATEGORIZE, {"taxonomy": TAXONOMY})):
        first = await run(agent, documents_payload(REVIEW, **options))
        second = await run(agent, documents_payload(REVIEW, **options))
        assert first == second


@pytest.mark.parametrize(("text", "label"), [(REVIEW, "positive"), (FINANCE, "positive"), (COMPLAINT, "negative")])
async def test_sentiment_follows_the_text(text, label):
    output = await run(ANALYZE, documents_payload(text))
    assert output["sentiment"]["label"] == label
    assert (output["sentiment"]["score"] > 0) == (label == "positive")


def test_negation_flips_sentiment():
    assert textkit.sentiment("The food was good.")[0] == "positive"
    assert textkit.sentiment("The food was not good at all, never good.")[0] == "negative"


@pytest.mark.parametrize(
    ("text", "category"), [(FINANCE, "finance"), (REVIEW, "customer feedback"), (COMPLAINT, "customer feedback")]
)
async def test_category_follows_the_keywords(text, category):
    output = await run(CATEGORIZE, documents_payload(text, taxonomy=TAXONOMY))
    assert output["category"] == category
    assert 0 < output["confidence"] <= 1
    assert output["rationale"].startswith("keywords found:")


async def test_custom_taxonomy_labels_use_known_keyword_lists():
    output = await run(CATEGORIZE, documents_payload(FINANCE, taxonomy=["Sports", "Business & Markets", "Misc"]))
    assert output["category"] == "Business & Markets"


async def test_text_without_evidence_falls_back_to_the_catch_all():
    output = await run(CATEGORIZE, documents_payload("Lorem ipsum dolor sit amet.", taxonomy=["finance", "other"]))
    assert output == {"category": "other", "confidence": 0.0, "rationale": "no keywords of any category were found"}


async def test_summary_is_shorter_and_made_of_the_texts_sentences():
    output = await run(SUMMARIZE, documents_payload(FINANCE, summary_words=45))
    summary = output["summary"]
    assert output["word_count"] <= 45 < len(FINANCE.split())
    original = textkit.sentences(FINANCE)
    chosen = textkit.sentences(summary)
    assert chosen and all(sentence in original for sentence in chosen)
    assert chosen == [s for s in original if s in chosen]  # document order kept
    assert "$4.2 billion" in summary  # the lead sentence carries the news


async def test_a_short_text_is_still_summarised_shorter():
    output = await run(SUMMARIZE, documents_payload(REVIEW, summary_words=200))
    assert 0 < output["word_count"] < len(REVIEW.split())


async def test_analysis_finds_key_points_and_entities():
    output = await run(ANALYZE, documents_payload(FINANCE))
    assert 1 <= len(output["key_points"]) <= 5
    assert all(point in FINANCE for point in output["key_points"])
    entities = {(e["name"], e["type"]) for e in output["entities"]}
    assert ("Acme Corp", "organization") in entities
    assert ("$4.2 billion", "money") in entities and ("12%", "percent") in entities
    assert ("Jane Doe", "person") in entities or any(n.endswith("Jane Doe") for n, _ in entities)


def test_sentences_keep_abbreviations_and_quotes_together():
    text = "Dr. Smith met Mr. Jones in the U.S. office. Sales rose 5.5% in Q3! Was it enough? \u201cYes.\u201d"
    assert textkit.sentences(text) == [
        "Dr. Smith met Mr. Jones in the U.S. office.", "Sales rose 5.5% in Q3!", "Was it enough?", "\u201cYes.\u201d",
    ]


async def test_aggregate_merges_a_partial_set_of_results():
    summary = await run(SUMMARIZE, documents_payload(COMPLAINT, summary_words=30))
    payload = {"title": "Complaint", "documents": 1, "results": {SUMMARIZE: summary},
               "missing": [ANALYZE, CATEGORIZE], "errors": [{"agent": ANALYZE, "error": "timeout"}], "options": {}}
    report = await run(AGGREGATE, payload)
    assert report["summary"] == summary["summary"] and report["sentiment"] is None
    assert report["sources"] == [SUMMARIZE] and report["missing"] == [ANALYZE, CATEGORIZE]
    assert report["degraded"] is True
    assert "Re-run analyze once its failure is resolved." in report["recommendations"]


async def test_error_handler_explains_the_failure():
    failure = {"agent": SUMMARIZE, "error": "[content_filter] summarize: HTTP 400", "kind": "content_filter",
               "permanent": True}
    payload = {"failure": failure, "results": {}, "title": "", "fallback": None}
    report = await run(ERROR_HANDLER, payload)
    assert report["failed_agent"] == SUMMARIZE and report["permanent"] is True
    assert "content filter" in report["likely_cause"]
    assert report["recommendations"] and report["fallback"] is None
