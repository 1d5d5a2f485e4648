"""Reading a JSON request body strictly: media type, size, encoding and nesting limits.

Parsing is orjson's (the library devhost's Durable API reader uses): strict RFC 8259, no
``NaN``, UTF-8 only, and a nesting limit it enforces without recursion, so a 5,000-deep body
is a 400 instead of a ``RecursionError``.  On top of that a body may nest at most
:data:`MAX_DEPTH` levels (the default ``MaxDepth`` of Json.NET, which the Functions host and
the Durable extension parse with); the API's own bodies nest three levels at most.

The media type must be JSON (``application/json`` or ``application/*+json``, charset UTF-8 if
one is named), else 415.  A body *without* a ``Content-Type`` is refused too: RFC 9110 8.3
lets a server treat it as ``application/octet-stream``, every JSON client (curl ``-H``,
``requests``/``aiohttp`` ``json=``, the baton CLI) names the type, and a browser page can send
an untyped body cross-site without a CORS preflight, which a JSON type forces.  An empty
body needs no type (events and terminate take an optional body).
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 64
_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class BodyError(ValueError):
    """A body the API refuses: ``status`` (400, 413, 415) and a message safe to show the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/<x>+json``, with no charset or a UTF-8 one."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    kind, _, subtype = media.partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def parse_body(data: bytes, content_type: str | None, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of a non-empty body; :class:`BodyError` for anything the API refuses."""
    if len(data) > max_bytes:
        raise BodyError(413, f"request body is {len(data)} bytes; the limit is {max_bytes} bytes")
    if not is_json_media_type(content_type):
        sent = f"'{content_type}'" if content_type else "no Content-Type"
        raise BodyError(415, f"the body must be JSON sent as 'application/json' (UTF-8); got {sent}")
    if data.startswith(_OTHER_BOMS) or (len(data) > 1 and 0 in data[:2]):
        raise BodyError(400, "the body is not UTF-8 (UTF-16 or UTF-32?); send UTF-8 JSON")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            raise BodyError(400, f"the JSON body nests deeper than {max_depth} levels") from None
        if "utf-8" in str(exc).lower():
            raise BodyError(400, "the body is not valid UTF-8; send UTF-8 JSON") from None
        raise BodyError(400, f"malformed JSON: {exc}") from None
    if depth_of(value) > max_depth:
        raise BodyError(400, f"the JSON body nests deeper than {max_depth} levels")
    return value


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
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in item)
    return deepest
