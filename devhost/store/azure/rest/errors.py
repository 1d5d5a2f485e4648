"""Errors of the storage REST client.

    RestError                 a request failed (``status``, ``code``: the service's error code)
     ├── NotFound             404: no such entity, message, table or queue
     ├── Conflict             409: the entity (or table, queue) exists already
     ├── PreconditionFailed   412: ``If-Match`` did not match (the entity changed)
     ├── TransactionFailed    an entity-group transaction failed; ``index`` names the operation
     └── TransportError       no answer: connection refused or reset, timeout (after retries)

:class:`~devhost.store.azure.calls.StorageCalls` turns what a caller does not handle into
:class:`~devhost.errors.StoreError`.
"""

from __future__ import annotations


class RestError(Exception):
    """A storage request failed."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    @property
    def status_code(self) -> int:
        """The HTTP status (named as the Azure SDK names it)."""
        return self.status

    @property
    def error_code(self) -> str | None:
        """The service's error code (named as the Azure SDK names it)."""
        return self.code

    def __str__(self) -> str:
        detail = ", ".join(p for p in (str(self.status) if self.status else "", self.code or "") if p)
        return f"{self.message} ({detail})" if detail else self.message


class NotFound(RestError):
    """404: the entity, message, table or queue does not exist."""


class Conflict(RestError):
    """409: what is being created exists already."""


class PreconditionFailed(RestError):
    """412: the ``If-Match`` ETag is not the current one."""


class TransactionFailed(RestError):
    """An entity-group transaction was rolled back because operation ``index`` failed."""

    def __init__(self, status: int, code: str | None, message: str, index: int | None) -> None:
        super().__init__(status, code, message)
        self.index = index


class TransportError(RestError):
    """The request got no answer (after retries)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, None, message)


_BY_STATUS: dict[int, type[RestError]] = {404: NotFound, 409: Conflict, 412: PreconditionFailed}


def error_for(status: int, code: str | None, message: str) -> RestError:
    """The exception for a failed response."""
    return _BY_STATUS.get(status, RestError)(status, code, message)
