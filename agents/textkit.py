"""Plain-text analysis for the offline backend: sentences, extractive summaries, sentiment,
keyword categorisation and capitalised-phrase entities.  Deterministic, no dependencies.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from . import lexicons as lx

_ABBREVIATIONS = frozenset(
    ("mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co", "corp", "e.g", "i.e",
     "u.s", "u.k", "no", "fig", "approx", "dept", "est")
)
_RSQUO, _LSQUO, _RDQUO, _LDQUO = "\u2019", "\u2018", "\u201d", "\u201c"  # typographic quotes
_BOUNDARY = re.compile(rf"[.!?]+[\"'{_RDQUO}{_RSQUO})\]]*\s+(?=[\"'{_LDQUO}{_LSQUO}(\[]?[A-Z0-9])")
_WORD = re.compile(rf"[A-Za-z][A-Za-z'{_RSQUO}-]*")
_TOKEN = re.compile(rf"[A-Za-z0-9$€£¥][\w'{_RSQUO}&.$€£¥%-]*")
_CLOSERS = f"\"'{_RDQUO}{_RSQUO})"
_MONEY = re.compile(
    r"[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|trillion|thousand|bn|m|k)\b)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:million|billion)?\s?(?:dollars|euros|pounds|USD|EUR|GBP)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent\b)", re.IGNORECASE)
_QUARTER = re.compile(r"\b(?:Q[1-4]|H[12]|FY)\s?\d{2,4}\b")


# --- sentences and words -----------------------------------------------------------------------
def sentences(text: str) -> list[str]:
    """Sentences of ``text``, paragraph by paragraph, keeping abbreviations like ``Dr.`` intact."""
    found: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*•]\s)", text):
        flat = " ".join(paragraph.split()).lstrip("-*• ")
        start = 0
        for match in _BOUNDARY.finditer(flat):
            candidate = flat[start:match.end()].strip()
            last = candidate.rstrip(_CLOSERS + "] ").rstrip(".!?").split(" ")[-1].lower()
            if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                continue
            found.append(candidate)
            start = match.end()
        tail = flat[start:].strip()
        if tail:
            found.append(tail)
    return found


def words(text: str) -> list[str]:
    return [w.lower().replace(_RSQUO, "'") for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if len(w) > 2 and w not in lx.STOPWORDS]


def stem(word: str) -> str:
    """A crude suffix stripper: enough to group ``growth``/``grow``, ``customers``/``customer``."""
    for suffix in ("ations", "ation", "ments", "ment", "ingly", "ings", "ing", "edly", "ed", "ies", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


# --- extractive summaries and key points --------------------------------------------------------
@dataclass(frozen=True)
class Scored:
    index: int
    text: str
    score: float
    words: int


def score_sentences(texts: Sequence[str]) -> list[Scored]:
    """Every sentence of the documents, scored by the document-wide frequency of its content words."""
    per_doc = [sentences(t) for t in texts]
    frequency = Counter(stem(w) for t in texts for w in content_words(t))
    top = max(frequency.values(), default=1)
    scored: list[Scored] = []
    for doc in per_doc:
        for position, sentence in enumerate(doc):
            terms = {stem(w) for w in content_words(sentence)}
            count = len(sentence.split())
            score = sum(frequency[t] / top for t in terms) / (len(terms) ** 0.7 if terms else 1)
            if position == 0:
                score *= 1.15
            if count < 5:
                score *= 0.5
            scored.append(Scored(len(scored), sentence, round(score, 9), count))
    return scored


def extractive_summary(texts: Sequence[str], budget: int) -> str:
    """The best-scoring sentences that fit ``budget`` words, in document order.

    The budget is also held under about 60% of the text, so a summary is never the whole
    text unless the text is a single sentence.
    """
    scored = score_sentences(texts)
    if not scored:
        return ""
    total = sum(s.words for s in scored)
    best = max(scored, key=lambda s: (s.score, -s.index))
    limit = min(budget, max(math.ceil(total * 0.6), best.words if best.words <= budget else 0))
    chosen: list[Scored] = []
    used = 0
    for candidate in sorted(scored, key=lambda s: (-s.score, s.index)):
        if used + candidate.words > limit or _redundant(candidate, chosen):
            continue
        chosen.append(candidate)
        used += candidate.words
    if not chosen:
        return " ".join(best.text.split()[:budget]).rstrip(",;:") + " …"
    return " ".join(s.text for s in sorted(chosen, key=lambda s: s.index))


def key_points(texts: Sequence[str], limit: int = 5, max_words: int = 40) -> list[str]:
    scored = score_sentences(texts)
    wanted = min(limit, max(1, round(len(scored) * 0.4)))
    chosen: list[Scored] = []
    for candidate in sorted(scored, key=lambda s: (-s.score, s.index)):
        if len(chosen) == wanted:
            break
        if not _redundant(candidate, chosen):
            chosen.append(candidate)
    points = []
    for s in sorted(chosen, key=lambda s: s.index):
        tokens = s.text.split()
        points.append(s.text if len(tokens) <= max_words else " ".join(tokens[:max_words]) + " …")
    return points


def _redundant(candidate: Scored, chosen: list[Scored]) -> bool:
    mine = set(content_words(candidate.text))
    for other in chosen:
        theirs = set(content_words(other.text))
        if mine and theirs and len(mine & theirs) / len(mine | theirs) > 0.6:
            return True
    return False


# --- sentiment ----------------------------------------------------------------------------------
def sentiment(text: str) -> tuple[str, float]:
    """``(label, score)`` from the lexicon, with negation ("not good") and intensifiers."""
    tokens = words(text)
    positive = negative = 0.0
    for i, token in enumerate(tokens):
        value = lx.POSITIVE.get(token, 0.0) - lx.NEGATIVE.get(token, 0.0)
        if not value:
            continue
        window = tokens[max(0, i - 3):i]
        if any(w in lx.NEGATORS or w.endswith("n't") for w in window):
            value *= -0.75
        if i and tokens[i - 1] in lx.INTENSIFIERS:
            value *= 1.4
        elif i and tokens[i - 1] in lx.DAMPENERS:
            value *= 0.6
        if value > 0:
            positive += value
        else:
            negative -= value
    total = positive - negative
    score = round(total / math.sqrt(total * total + 15), 3)
    if positive >= 2 and negative >= 2 and min(positive, negative) / max(positive, negative) > 0.5 and abs(score) < 0.5:
        return "mixed", score
    if score >= 0.15:
        return "positive", score
    if score <= -0.15:
        return "negative", score
    return "neutral", score


# --- categorisation -----------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def keywords_for(label: str) -> tuple[str, ...]:
    """Keywords of a taxonomy label: the built-in list it names, plus the label's own words."""
    name = label.strip().lower()
    label_words = set(re.findall(r"[a-z]+", name))
    keywords: list[str] = list(lx.CATEGORY_KEYWORDS.get(name, ()))
    for known, aliases in lx.CATEGORY_ALIASES.items():
        if known != name and label_words & set(aliases):
            keywords.extend(lx.CATEGORY_KEYWORDS[known])
    keywords.extend(stem(w) + "*" for w in label_words if len(w) > 2 and w not in lx.STOPWORDS)
    return tuple(dict.fromkeys(keywords))


def categorize(text: str, taxonomy: Sequence[str]) -> tuple[str, float, dict[str, int]]:
    """``(label, confidence, matched keyword counts)`` for the label whose keywords occur most."""
    tokens = words(text)
    counts = Counter(tokens)
    lowered = " ".join(tokens)
    money = len(_MONEY.findall(text)) + len(_PERCENT.findall(text))
    scores: dict[str, float] = {}
    evidence: dict[str, dict[str, int]] = {}
    for label in taxonomy:
        if label.strip().lower() in lx.CATCH_ALL:
            continue
        hits = _keyword_hits(keywords_for(label), counts, lowered)
        score = float(sum(hits.values()))
        if "finance" in label.lower() or label.lower() in lx.CATEGORY_ALIASES["finance"]:
            score += 0.5 * money
        scores[label], evidence[label] = score, hits
    ranked = sorted(scores.items(), key=lambda item: (-item[1], taxonomy.index(item[0])))
    if not ranked or ranked[0][1] <= 0:
        fallback = next((label for label in taxonomy if label.strip().lower() in lx.CATCH_ALL), taxonomy[0])
        return fallback, 0.0, {}
    label, top = ranked[0]
    share = top / sum(s for _, s in ranked)
    confidence = round(share * (1 - math.exp(-top / 4)), 3)
    return label, confidence, evidence[label]


def _keyword_hits(keywords: tuple[str, ...], counts: Counter[str], lowered: str) -> dict[str, int]:
    """Occurrences per keyword; each word counts for the first keyword that matches it."""
    hits: Counter[str] = Counter()
    exact, prefixes, phrases = _matchers(keywords)
    for word, n in counts.items():
        if word in exact:
            hits[word] += n
        elif prefixes is not None and (prefix := prefixes.match(word)):
            hits[prefix.group()] += n
    for phrase, pattern in phrases:
        n = len(pattern.findall(lowered))
        if n:
            hits[phrase] += n
    return dict(hits)


Matchers = tuple[frozenset[str], re.Pattern[str] | None, tuple[tuple[str, re.Pattern[str]], ...]]


@functools.lru_cache(maxsize=256)
def _matchers(keywords: tuple[str, ...]) -> Matchers:
    """Compiled once per keyword list: the exact words, one pattern of the ``prefix*`` keywords (an
    alternation in keyword order, so a match is the first prefix that fits), the phrase patterns."""
    exact = frozenset(k for k in keywords if not k.endswith("*") and " " not in k and "-" not in k)
    prefixes = [re.escape(k[:-1]) for k in keywords if k.endswith("*")]
    phrases = tuple((k, re.compile(r"\b" + re.escape(k) + r"\b")) for k in keywords if " " in k or "-" in k)
    return exact, re.compile("|".join(prefixes)) if prefixes else None, phrases


# --- entities -----------------------------------------------------------------------------------
def entities(text: str, limit: int = 20) -> list[tuple[str, str, int]]:
    """``(name, type, mentions)`` of capitalised phrases, amounts, percentages and periods."""
    found: Counter[tuple[str, str]] = Counter()
    order: dict[tuple[str, str], int] = {}
    mid_sentence_caps = {t for s in sentences(text) for t in _tokens(s)[1:] if t[:1].isupper()}
    for sentence in sentences(text):
        for name, kind in _phrases(sentence, mid_sentence_caps):
            key = (name, kind)
            found[key] += 1
            order.setdefault(key, len(order))
    for pattern, kind in ((_MONEY, "money"), (_PERCENT, "percent"), (_QUARTER, "date")):
        for match in pattern.finditer(text):
            key = (" ".join(match.group(0).split()), kind)
            found[key] += 1
            order.setdefault(key, len(order))
    ranked = sorted(found.items(), key=lambda item: (-item[1], order[item[0]]))
    return [(name, kind, count) for (name, kind), count in ranked[:limit]]


def _tokens(sentence: str) -> list[str]:
    return [t.rstrip(".,;:!?" + _CLOSERS) for t in _TOKEN.findall(sentence)]


def _phrases(sentence: str, mid_sentence_caps: set[str]) -> list[tuple[str, str]]:
    tokens = _tokens(sentence)
    phrases: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        if not _capitalised(tokens[i]):
            i += 1
            continue
        j = i + 1
        while j < len(tokens) and (
            _capitalised(tokens[j])
            or (tokens[j].lower() in ("of", "&", "de", "and") and j + 1 < len(tokens) and _capitalised(tokens[j + 1]))
        ):
            j += 1
        run = tokens[i:j]
        if i == 0 and len(run) == 1 and (run[0].lower() in lx.STOPWORDS or run[0] not in mid_sentence_caps):
            i = j
            continue
        if i == 0 and run[0].lower() in lx.STOPWORDS:
            run = run[1:]
        title = run[0].lower() in lx.PERSON_TITLES and len(run) > 1
        if title:
            run = run[1:]
        name = " ".join(run).removesuffix("'s").removesuffix(_RSQUO + "s")
        if name and name.lower() not in lx.STOPWORDS and name.lower() not in lx.PERSON_TITLES:
            before = tokens[i - 1].lower() if i else ""
            after = tokens[j].lower() if j < len(tokens) else ""
            phrases.append((name, "person" if title else _entity_type(run, before, after)))
        i = j
    return phrases


def _capitalised(token: str) -> bool:
    return bool(token) and token[0].isupper() and token.lower() != "i"


def _entity_type(run: list[str], before: str, after: str) -> str:
    last = run[-1].lower()
    if run[0].lower() in lx.MONTHS:
        return "date"
    if last in lx.ORG_SUFFIXES or (len(run) == 1 and run[0].isupper() and 2 <= len(run[0]) <= 5):
        return "organization"
    if before in lx.PERSON_TITLES or after in lx.SPEECH_VERBS:
        return "person"
    if any(t.lower() in lx.PLACES for t in run) or (before in lx.LOCATION_CUES and len(run) <= 2):
        return "location"
    return "other"
