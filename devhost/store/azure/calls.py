"""Every storage round trip goes through :class:`StorageCalls`: it counts them and turns SDK
and :mod:`.rest` client errors into :class:`~devhost.errors.StoreError`.

``round_trips`` is the total number of requests sent; ``by_kind`` splits it by operation
(``"table.batch"``, ``"queue.put"``, ...), so tests and benchmarks can tell the commit path
from background polling.  Callers that handle an SDK error themselves (a 404, a 412) name it
in ``allow`` and get it unchanged; every other SDK error becomes ``StoreError``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from azure.core.exceptions import AzureError, ResourceExistsError

from ...errors import StoreError
from .rest import RestError

T = TypeVar("T")
_STORAGE_ERRORS = (AzureError, RestError)

BACKGROUND_KINDS = frozenset(
    {"queue.receive", "lease.read", "lease.write", "queue.renew", "checkpoint.mark", "checkpoint.scan"}
)
"""Kinds issued by background loops (polling, leases, lock renewal, lazy checkpoint marks,
the recovery scan of a newly acquired partition), not on behalf of a store call."""


class StorageCalls:
    """Round-trip counter and error boundary of one store."""

    def __init__(self) -> None:
        self.round_trips = 0
        self.by_kind: Counter[str] = Counter()

    def count(self, kind: str, n: int = 1) -> None:
        self.round_trips += n
        self.by_kind[kind] += n

    @property
    def foreground(self) -> int:
        """Round trips made on behalf of a store call (everything but background loops)."""
        return self.round_trips - sum(self.by_kind[k] for k in BACKGROUND_KINDS)

    async def ensure_table(self, table: Any) -> None:
        """Create ``table`` unless it exists (one round trip)."""
        with contextlib.suppress(ResourceExistsError):
            await self.call("table.create", table.create_table(), allow=(ResourceExistsError,))

    async def call(self, kind: str, awaitable: Awaitable[T], *, allow: tuple[type[BaseException], ...] = ()) -> T:
        """Await one request (SDK or REST client)."""
        self.count(kind)
        try:
            return await awaitable
        except allow:
            raise
        except _STORAGE_ERRORS as exc:
            raise StoreError(f"{kind} failed: {_describe(exc)}") from exc

    async def pages(self, kind: str, pager: Any) -> AsyncIterator[Any]:
        """Items of a paged listing (SDK pager or :class:`.rest.Query`); each page is one round trip."""
        try:
            async for page in pager.by_page():
                self.count(kind)
                if isinstance(page, list):
                    for entity in page:
                        yield entity
                    continue
                async for item in page:
                    yield item
        except _STORAGE_ERRORS as exc:
            raise StoreError(f"{kind} failed: {_describe(exc)}") from exc

    async def collect(self, kind: str, pager: Any) -> list[Any]:
        return [item async for item in self.pages(kind, pager)]


def _describe(exc: AzureError | RestError) -> str:
    code = getattr(exc, "error_code", None)
    status = getattr(exc, "status_code", None)
    first_line = (getattr(exc, "message", None) or str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
    parts = [p for p in (str(status) if status else None, str(code) if code else None) if p]
    return f"{first_line} ({', '.join(parts)})" if parts else first_line
