"""Function keys for ``devhost start --auth keys``: generated at start, checked as the host checks them.

The Functions host's rules, matched here: a request presents a key in the ``x-functions-key``
header or the ``code`` query parameter; an ``anonymous`` function needs none; a ``function``
function takes one of its own function keys, a host key or the master key; an ``admin``
function takes only the master key; the Durable webhook API takes the
``durabletask_extension`` system key or the master key (and any ``/runtime/webhooks/<name>``
its ``<name>_extension`` system key or the master key).  A refused request is a 401.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

HEADER = "x-functions-key"
QUERY = "code"
SYSTEM_KEY = "durabletask_extension"
DEFAULT = "default"
EXTENSIONS = ("durabletask", "eventgrid", "blobs")  # the webhooks devhost serves


def new_key() -> str:
    """A fresh random key (URL-safe, 256 bits), the size of the keys the host generates.

    Never starting with ``-``, so ``--key <key>`` on a command line is not read as an option.
    """
    while (key := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return key


@dataclass(frozen=True)
class HostKeys:
    """Every key of one devhost: master, host keys, per-function keys, system keys."""

    master: str
    host: Mapping[str, str]
    functions: Mapping[str, Mapping[str, str]]
    system: Mapping[str, str]

    @classmethod
    def generate(cls, function_names: Iterable[str]) -> HostKeys:
        """``default`` host key, a ``default`` key per function, master and system keys."""
        return cls(
            master=new_key(),
            host={DEFAULT: new_key()},
            functions={name: {DEFAULT: new_key()} for name in function_names},
            system={f"{name}_extension": new_key() for name in EXTENSIONS},
        )

    @property
    def extension_key(self) -> str:
        """The Durable extension's system key, which the check-status URLs carry as ``code=``."""
        return self.system[SYSTEM_KEY]

    def allows(self, level: str, function_name: str, key: str | None) -> bool:
        """May a request with ``key`` call a function with auth ``level``?"""
        level = level.lower()
        if level == "anonymous":
            return True
        if not key:
            return False
        if level == "admin":
            return _equal(key, self.master)
        own = self.functions.get(function_name, {}).values()
        return _any_equal(key, [self.master, *self.host.values(), *own])

    def allows_extension(self, key: str | None, extension: str = "durabletask") -> bool:
        """May a request with ``key`` call ``/runtime/webhooks/<extension>`` (the Durable API by default)?"""
        own = self.system.get(f"{extension}_extension")
        return bool(key) and _any_equal(key or "", [self.master, *([own] if own else [])])

    def describe(self) -> list[str]:
        """Banner lines: every key with its name, as ``az functionapp keys list`` groups them."""
        lines = [f"        master key: {self.master}"]
        lines += [f"        host key {name}: {value}" for name, value in self.host.items()]
        lines += [f"        system key {name}: {value}" for name, value in self.system.items()]
        for function, keys in sorted(self.functions.items()):
            lines += [f"        function key {function}/{name}: {value}" for name, value in keys.items()]
        return lines


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key a request presents: the ``x-functions-key`` header, else ``?code=``."""
    return headers.get(HEADER) or query.get(QUERY) or None


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _any_equal(given: str, candidates: Iterable[str]) -> bool:
    results = [_equal(given, c) for c in candidates]  # compare with all: no early exit
    return any(results)
