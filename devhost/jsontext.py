"""JSON text on the hot paths: orjson wherever it gives the same JSON value as :mod:`json`.

orjson is strict (RFC 8259): it refuses ``NaN``/``Infinity``, integers beyond 64 bits and
lone surrogates, all of which Python's ``json`` reads and writes.  Each function here falls
back to ``json`` for those, so a value never changes; only the spelling of the text may (no
space after separators, non-ASCII characters as UTF-8 rather than ``\\uXXXX`` escapes).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(text: str | bytes) -> Any:
    """``json.loads``, through orjson when the text is strict JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dumps(value: Any) -> str:
    """``json.dumps`` for values without float ``NaN``/``Infinity`` (orjson writes those as null)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def strict_fragment(text: str | None) -> orjson.Fragment | None:
    """``text`` to embed verbatim in an orjson document, when it is one strict JSON value."""
    if not text:
        return None
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return orjson.Fragment(text)
