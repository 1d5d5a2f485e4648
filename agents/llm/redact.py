"""Keep secrets out of messages: known secret values and credential-shaped text become ``***``.

Secrets are registered as they are met (the API key when settings are read, each bearer
token as the token provider hands it out); :func:`redact` is applied to every exception
message and log argument the agents layer builds from foreign text.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

MASK = "***"
_MAX_SECRETS = 64
_MIN_SECRET_LENGTH = 6
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"),
    re.compile(
        r"(?i)((?<![\w-])(?:api[-_]?key|access[-_]?token|client[-_]?secret)[\"']?\s*[:=]\s*[\"']?)"
        r"[\w.~+/=-]{12,}"
    ),
    re.compile(r"(?i)(accountkey=)[^;\s]+"),
    re.compile(r"(?i)([?&]sig=)[^&\s\"']+"),
    re.compile(r"()\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"),  # a JWT
    re.compile(r"()\bsk-[A-Za-z0-9_-]{12,}"),  # an OpenAI-style key
)

_lock = threading.Lock()
_secrets: OrderedDict[str, None] = OrderedDict()


def register_secret(value: str | None) -> None:
    """Remember ``value`` so :func:`redact` masks it wherever it appears."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets[value] = None
        _secrets.move_to_end(value)
        while len(_secrets) > _MAX_SECRETS:
            _secrets.popitem(last=False)


def redact(text: object) -> str:
    """``text`` as a string with registered secrets and credential-shaped substrings masked."""
    result = str(text)
    with _lock:
        known = list(_secrets)
    for secret in known:
        if secret in result:
            result = result.replace(secret, MASK)
    for pattern in _PATTERNS:
        result = pattern.sub(lambda m: m.group(1) + MASK, result)
    return result
