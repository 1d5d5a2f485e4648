"""JSON text on the hot paths: orjson wherever it gives the same JSON value as :mod:`json`.

orjson is strict (RFC 8259): it refuses ``NaN``/``Infinity`` and lone surrogates, and it
reads integers beyond 64 bits as floats; Python's ``json`` reads and writes all of them
exactly.  Each function here falls back to ``json`` for those, so a value never changes;
only the spelling of the text may (no space after separators, non-ASCII characters as
UTF-8 rather than ``\\uXXXX`` escapes).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import orjson

_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def loads(text: str | bytes) -> Any:
    """``json.loads``, through orjson when the text is strict JSON.

    orjson reads an integer beyond 64 bits as a float, so a text with 19 or more digits in
    a row (perhaps inside a string: the check is only a cheap scan) goes to ``json``.
    """
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if _LONG_NUMBER not in data.translate(_DIGITS_AS_ZERO):  # ~10x faster than a regex
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
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
    strict = _is_strict(text) if len(text) <= _REMEMBERED_CHARS else _check_strict(text)
    return orjson.Fragment(text) if strict else None


_REMEMBERED_CHARS = 64 * 1024  # a status poll reads the same texts again: remember the answer


def _check_strict(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


_is_strict = functools.lru_cache(maxsize=256)(_check_strict)
