"""Real-looking paragraphs the agents tests analyse."""

FINANCE = (
    "Acme Corp reported third-quarter revenue of $4.2 billion, up 12% from a year earlier, as strong demand "
    "for its payment services lifted sales. Net income rose to $610 million, and the company raised its "
    "full-year earnings guidance. Chief Financial Officer Jane Doe said operating margin improved to 18 percent "
    "thanks to lower costs. Investors welcomed the results and the stock gained 6% in after-hours trading. "
    "The board also approved a quarterly dividend of 25 cents per share, payable in December."
)

REVIEW = (
    "We visited Luigi's Trattoria in Boston last Friday and had a wonderful evening. The staff were friendly "
    "and attentive, and the pasta was absolutely delicious. Dessert was a little slow to arrive, but the "
    "tiramisu was worth the wait. I would highly recommend this place to anyone looking for great Italian food."
)

COMPLAINT = (
    "The latest update broke everything. The app crashes every time I open it, support never answered my "
    "emails, and I was charged twice for the same order. This is the worst experience I have had with any "
    "company, and I am very disappointed. I want a refund."
)

ANALYSIS = {
    "key_points": ["Revenue grew 12% to $4.2 billion.", "The full-year guidance was raised."],
    "sentiment": {"label": "positive", "score": 0.8},
    "entities": [{"name": "Acme Corp", "type": "organization", "mentions": 2}],
}
SUMMARY = {"summary": "Acme Corp grew revenue 12% to $4.2 billion and raised its guidance."}
CATEGORY = {"category": "finance", "confidence": 0.9, "rationale": "quarterly results"}


def documents_payload(text: str = FINANCE, **options: object) -> dict:
    """The payload the runner builds for an analysis agent."""
    return {"title": "Q3 results", "documents": [{"title": "Q3 results", "text": text}], "options": dict(options)}
