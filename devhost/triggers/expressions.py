"""Binding expressions: ``%Setting%``, ``{rand-guid}``, ``{DateTime}`` and trigger metadata.

Resolution follows the WebJobs SDK: ``%NAME%`` reads an app setting; ``{name}`` reads the
trigger's binding data (case-insensitive; dotted paths reach into JSON objects); ``{{`` and
``}}`` are literal braces.  Blob trigger paths are also *patterns* whose ``{name}`` parts
capture binding data from the blob's name (:class:`BlobPathPattern`).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import DevhostError

_SETTING = re.compile(r"%([^%]+)%")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


class BindingExpressionError(DevhostError, ValueError):
    """A binding expression names data the invocation does not have, or is malformed."""


def resolve_settings(text: str) -> str:
    """Expand ``%NAME%`` from app settings (the environment); a missing one is an error."""

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise BindingExpressionError(f"'%{name}%' does not resolve to a value: no app setting '{name}'")
        return os.environ[name]

    return _SETTING.sub(setting, text)


def resolve(template: str, data: Mapping[str, Any], now: Callable[[], datetime]) -> str:
    """Resolve one binding expression against ``data`` (trigger binding data)."""
    text = resolve_settings(template)
    folded = {k.lower(): v for k, v in data.items()}

    def token(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole in ("{{", "}}"):
            return whole[0]
        expression, _, fmt = match.group(1).strip().partition(":")
        return _value(expression, fmt, folded, now)

    return _TOKEN.sub(token, text)


def _value(expression: str, fmt: str, data: Mapping[str, Any], now: Callable[[], datetime]) -> str:
    key = expression.lower()
    if key == "rand-guid":
        guid = uuid.uuid4()
        return guid.hex if fmt.upper() == "N" else str(guid)
    if key == "datetime":
        if fmt:
            raise BindingExpressionError(f"'{{DateTime:{fmt}}}': devhost supports only the default format")
        return now().strftime("%Y-%m-%dT%H-%M-%SZ")
    head, *rest = key.split(".")
    if head not in data:
        raise BindingExpressionError(f"no value for named parameter '{expression}'")
    value: Any = data[head]
    for part in rest:
        folded = {str(k).lower(): v for k, v in value.items()} if isinstance(value, Mapping) else {}
        if part not in folded:
            raise BindingExpressionError(f"no value for named parameter '{expression}'")
        value = folded[part]
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class BlobPathPattern:
    """A blob trigger path ``container/prefix{name}.ext``: which blobs match, and what they bind."""

    container: str
    prefix: str
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, path: str) -> BlobPathPattern:
        path = resolve_settings(path).strip("/")
        container, sep, blob = path.partition("/")
        if not container or "{" in container:
            raise BindingExpressionError(f"blob path '{path}': the container name must be literal")
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}", container):
            raise BindingExpressionError(f"blob path '{path}': '{container}' is not a valid container name")
        pattern, prefix, literal_prefix_open = "", "", True
        for piece in re.split(r"(\{\{|\}\}|\{[^{}]*\})", blob if sep else ""):
            if piece in ("{{", "}}"):
                pattern += re.escape(piece[0])
                prefix += piece[0] if literal_prefix_open else ""
            elif piece.startswith("{"):
                name = piece[1:-1].strip()
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    raise BindingExpressionError(f"blob path '{path}': '{piece}' is not a parameter name")
                pattern += f"(?P<{name}>.*)"  # greedy, as the WebJobs SDK captures
                literal_prefix_open = False
            else:
                pattern += re.escape(piece)
                prefix += piece if literal_prefix_open else ""
        return cls(container, prefix, re.compile(f"^{pattern or '.+'}$", re.DOTALL))

    def match(self, blob_name: str) -> dict[str, str] | None:
        """The parameters a blob name binds, or ``None`` when it does not match."""
        found = self.regex.match(blob_name)
        return None if found is None else dict(found.groupdict())
