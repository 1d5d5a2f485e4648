"""Offline categorisation's keyword counting: exact words, ``prefix*`` keywords, phrases."""

from __future__ import annotations

from collections import Counter

from agents import textkit


def hits(keywords: tuple[str, ...], text: str) -> dict[str, int]:
    tokens = textkit.words(text)
    return textkit._keyword_hits(keywords, Counter(tokens), " ".join(tokens))


def test_each_word_counts_once_for_the_first_keyword_that_matches_it():
    keywords = ("revenue", "fin*", "financ*", "cash flow", "year-end")
    text = "Revenue and financing: financial revenue, cash flow at year-end; cash flows. Finland."
    assert hits(keywords, text) == {"revenue": 2, "fin": 3, "cash flow": 1, "year-end": 1}
    assert hits(("financ*", "fin*"), text) == {"financ": 2, "fin": 1}  # keyword order decides


def test_a_keyword_list_is_compiled_once():
    keywords = ("audit*", "tax", "due diligence")
    text = "Tax audits and auditors: due diligence on tax."
    before = textkit._matchers.cache_info()
    assert hits(keywords, text) == hits(keywords, text) == {"audit": 2, "tax": 2, "due diligence": 1}
    after = textkit._matchers.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
