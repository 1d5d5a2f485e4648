"""Token prices per model and the cost of one call.

Prices are USD per million tokens, ``{"model": {"input": x, "output": y}}``.  The built-in
table covers common OpenAI / Azure OpenAI models; ``BATON_PRICES`` (same JSON shape, or
``{"model": [input, output]}``) overrides or extends it.  A model matches its exact entry,
else the longest entry its name starts with (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``).
An unknown model has no price: its cost is ``None``, not a made-up zero.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    """USD per million input (prompt) and output (completion) tokens."""

    input: float
    output: float


BUILTIN_PRICES: Mapping[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-35-turbo": Price(0.50, 1.50),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "o4-mini": Price(1.10, 4.40),
    "o3-mini": Price(1.10, 4.40),
    "offline-extractive-v1": Price(0.0, 0.0),
}


def parse_prices(text: str | None) -> dict[str, Price]:
    """The built-in table updated with the ``BATON_PRICES`` JSON (``ValueError`` if malformed)."""
    table = dict(BUILTIN_PRICES)
    if not text or not text.strip():
        return table
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("BATON_PRICES must be a JSON object of model -> price")
    for model, value in data.items():
        try:
            if isinstance(value, dict):
                price = Price(float(value["input"]), float(value["output"]))
            else:
                first, second = value
                price = Price(float(first), float(second))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"BATON_PRICES[{model!r}] must be {{'input': x, 'output': y}} or [x, y]") from None
        table[str(model).lower()] = price
    return table


def price_for(models: Iterable[str | None], table: Mapping[str, Price]) -> Price | None:
    """The price of the first of ``models`` the table knows (exact, then longest prefix)."""
    for model in models:
        if not model:
            continue
        name = model.lower()
        if name in table:
            return table[name]
        prefixes = [key for key in table if name.startswith(key.lower())]
        if prefixes:
            return table[max(prefixes, key=len)]
    return None


def cost_usd(price: Price | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for the tokens, or ``None`` when the price is unknown."""
    if price is None:
        return None
    return round((prompt_tokens * price.input + completion_tokens * price.output) / 1_000_000, 8)
