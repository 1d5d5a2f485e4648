"""Strict JSON request bodies for devhost's endpoints: size and nesting limits, never a 500.

Parsing is orjson's (strict RFC 8259: no ``NaN``, no lone surrogates, UTF-8 only, and a
built-in nesting limit of 1024 that it enforces without recursion).  On top of that a body
may nest at most :data:`MAX_DEPTH` levels, the default ``MaxDepth`` of Json.NET 13, which
the Durable extension's HTTP API parses bodies with; deeper bodies are refused there too.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 64
_BOM = b"\xef\xbb\xbf"


class JsonBodyError(ValueError):
    """A body that is not acceptable JSON; the message says why (safe to show the client)."""


def parse_json(data: bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int | None = None) -> Any:
    """The JSON value of ``data``; raises :class:`JsonBodyError` for anything not acceptable."""
    if max_bytes is not None and len(data) > max_bytes:
        raise JsonBodyError(f"The request body is larger than {max_bytes} bytes.")
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            raise JsonBodyError(f"The JSON content nests deeper than {max_depth} levels.") from None
        raise JsonBodyError(f"Invalid JSON content: {exc}") from None
    if depth_of(value) > max_depth:
        raise JsonBodyError(f"The JSON content nests deeper than {max_depth} levels.")
    return value


def decode_text(data: bytes) -> str:
    """The text of a body :func:`parse_json` accepted (UTF-8, without a byte order mark)."""
    return (data[len(_BOM):] if data.startswith(_BOM) else data).decode("utf-8")


def depth_of(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, ``[]`` is 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in item)
    return deepest
