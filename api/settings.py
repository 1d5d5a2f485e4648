"""Settings of the HTTP API, read from the environment (app settings) at request time."""

from __future__ import annotations

import os
from collections.abc import Mapping
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


POSITIVE_INTEGERS = {"BATON_MAX_BODY_BYTES": 1024, "BATON_RETRY_FIRST_MS": 1, "BATON_RETRY_MAX_ATTEMPTS": 1}


def problems(env: Mapping[str, str] | None = None) -> list[str]:
    """One line per bad API setting, naming it and what it allows (empty: all good)."""
    env = os.environ if env is None else env
    found = []
    for name, minimum in POSITIVE_INTEGERS.items():
        text = (env.get(name) or "").strip()
        if text and not (text.isdigit() and int(text) >= minimum):
            found.append(f"{name} must be a whole number of at least {minimum}, got {text!r}")
    found += hours_problems(env, "BATON_APPROVAL_TIMEOUT_HOURS")
    return found


def hours_problems(env: Mapping[str, str], name: str) -> list[str]:
    """The line for setting ``name`` when it is set but not a finite number of hours above 0."""
    text = (env.get(name) or "").strip()
    if not text:
        return []
    try:
        ok = 0 < float(text) < float("inf")
    except ValueError:
        ok = False
    return [] if ok else [f"{name} must be a number of hours above 0, got {text!r}"]
