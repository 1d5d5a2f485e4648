"""Settings of the HTTP API, read from the environment (app settings) at request time."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    retry_first_ms: int = 2000
    retry_max_attempts: int = 3
    approval_timeout_hours: float = 24.0

    @classmethod
    def from_environment(cls) -> ApiSettings:
        return cls(
            max_body_bytes=_int("BATON_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            retry_first_ms=_int("BATON_RETRY_FIRST_MS", 2000),
            retry_max_attempts=_int("BATON_RETRY_MAX_ATTEMPTS", 3),
            approval_timeout_hours=float(os.environ.get("BATON_APPROVAL_TIMEOUT_HOURS") or 24.0),
        )


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        return default
