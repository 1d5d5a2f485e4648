"""Idempotency: the result cache in Blob storage and the in-process memo of permanent failures.

A result is stored under ``<agent>/<key>.json`` in ``BATON_CACHE_CONTAINER``, where the key
is the sha256 of the agent, its version, backend, model, instructions, output schema,
sampling settings and the exact input (:func:`cache_key`).  A repeated call (a Durable
retry after a crash, the same document twice) returns the stored result with
``cached: true`` and no LLM call.  ``BATON_CACHE=off`` disables it; when storage is not
configured or unreachable the cache is off, with one warning, and the agent still runs.

Permanent failures are remembered in process for ``BATON_FAILURE_CACHE_SECONDS`` under the
same key, so the Durable retries of a call that cannot succeed do not reach the LLM again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from .agent import Agent
from .llm.errors import PermanentAgentError
from .llm.redact import redact
from .llm.structured import schema_json
from .settings import Settings
from .storage import shared_blob_service, upload_blob

log = logging.getLogger(__name__)

DEGRADED_SECONDS = 300.0
"""After a storage failure the cache stays off this long before it tries storage again."""


def cache_key(spec: Agent, backend: str, model: str, payload: Mapping[str, Any]) -> str:
    material = {
        "agent": spec.name, "version": spec.version, "backend": backend, "model": model,
        "instructions": spec.instructions, "schema": schema_json(spec.output_model),
        "temperature": spec.temperature, "max_output_tokens": spec.max_output_tokens, "input": payload,
    }
    text = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResultCache:
    """Agent results in Blob storage; every failure degrades to a miss, never to an agent failure."""

    _degraded_until: dict[tuple[Any, ...], float] = {}
    _lock = threading.Lock()

    def __init__(self, settings: Settings, logger: logging.Logger | logging.LoggerAdapter = log) -> None:
        self.settings = settings
        self.log = logger
        storage = settings.storage
        self._where = (storage.connection_string, storage.blob_service_uri, settings.cache_container)

    @property
    def enabled(self) -> bool:
        if not (self.settings.cache_enabled and self.settings.storage.configured):
            return False
        return time.monotonic() >= self._degraded_until.get(self._where, 0.0)

    async def get(self, agent: str, key: str) -> dict[str, Any] | None:
        """The stored result, or ``None`` (miss, cache off, or storage trouble)."""
        if not self.enabled:
            return None
        try:
            blob = self._container().get_blob_client(_name(agent, key))
            data = await (await blob.download_blob()).readall()
            return json.loads(data)
        except ResourceNotFoundError:
            return None
        except Exception as exc:
            self._degrade(exc)
            return None

    async def put(self, agent: str, key: str, result: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        body = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            await upload_blob(self.settings.storage, self.settings.cache_container, _name(agent, key), body)
        except Exception as exc:
            self._degrade(exc)

    def _container(self) -> Any:
        return shared_blob_service(self.settings.storage).get_container_client(self.settings.cache_container)

    def _degrade(self, exc: BaseException) -> None:
        with self._lock:
            already = time.monotonic() < self._degraded_until.get(self._where, 0.0)
            self._degraded_until[self._where] = time.monotonic() + DEGRADED_SECONDS
        if not already:
            self.log.warning(
                "result cache off for %.0fs: storage unavailable (%s: %s)",
                DEGRADED_SECONDS, type(exc).__name__, redact(exc).splitlines()[0][:200] if str(exc) else "",
            )

    @classmethod
    def reset(cls) -> None:
        """Forget degraded state (tests)."""
        with cls._lock:
            cls._degraded_until.clear()


def _name(agent: str, key: str) -> str:
    return f"{agent}/{key}.json"


class FailureMemo:
    """Permanent failures by cache key, each for a limited time (bounded, thread-safe)."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, PermanentAgentError]] = OrderedDict()
        self._lock = threading.Lock()

    def recall(self, key: str) -> PermanentAgentError | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, error = entry
            if time.monotonic() >= expires:
                del self._entries[key]
                return None
            return error

    def remember(self, key: str, error: PermanentAgentError, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, error)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


failures = FailureMemo()
