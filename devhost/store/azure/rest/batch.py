"""Entity-group transactions: the ``multipart/mixed`` body of a ``$batch`` request and the
parser of its response ("Performing entity group transactions" in the Table REST reference).

One changeset holds every operation; each part is an HTTP request (absolute URL, JSON body)
and each response part an HTTP response.  The service answers all parts on success, or one
part with the failing operation's status, whose message starts with its index (``"1:..."``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import entities
from .errors import TransactionFailed
from .http import error_detail

Action = Literal["insert", "replace", "merge", "upsert", "upsert_merge", "delete"]
_METHODS: dict[str, str] = {
    "insert": "POST", "replace": "PUT", "merge": "PATCH", "upsert": "PUT", "upsert_merge": "PATCH",
    "delete": "DELETE",
}
_CONDITIONAL = frozenset({"replace", "merge", "delete"})
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")
_BOUNDARY = re.compile(rb"boundary=([^\s;]+)")
_INDEX = re.compile(r"^(\d+):")
CRLF = "\r\n"


@dataclass(frozen=True)
class Operation:
    """One operation of a transaction.  ``etag`` is the ``If-Match`` of ``replace``, ``merge``
    and ``delete`` (``None``: ``*``, unconditional); ``upsert``s never match."""

    action: Action
    entity: dict[str, Any]
    etag: str | None = None


@dataclass(frozen=True)
class PartResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def build(base_url: str, table: str, operations: Sequence[Operation]) -> tuple[str, bytes]:
    """``(content type, body)`` of a ``$batch`` request; ``base_url`` is the table endpoint
    with its path prefix (``http://127.0.0.1:10002/devstoreaccount1``)."""
    batch = f"batch_{uuid.uuid4()}"
    changeset = f"changeset_{uuid.uuid4()}"
    parts = [f"--{batch}{CRLF}Content-Type: multipart/mixed; boundary={changeset}{CRLF}{CRLF}"]
    for index, op in enumerate(operations):
        entity = op.entity
        if op.action == "insert":
            url = f"{base_url}/{table}"
        else:
            url = base_url + entities.key_path(table, entity["PartitionKey"], entity["RowKey"])
        lines = [
            f"--{changeset}", "Content-Type: application/http", "Content-Transfer-Encoding: binary",
            f"Content-ID: {index}", "", f"{_METHODS[op.action]} {url} HTTP/1.1",
            "Accept: application/json;odata=minimalmetadata", "DataServiceVersion: 3.0",
        ]
        if op.action in _CONDITIONAL:
            lines.append(f"If-Match: {op.etag or '*'}")
        if op.action == "delete":
            parts.append(CRLF.join(lines) + CRLF + CRLF)
            continue
        if op.action == "insert":
            lines.append("Prefer: return-no-content")
        body = json.dumps(entities.encode(entity), ensure_ascii=False, separators=(",", ":"))
        lines += ["Content-Type: application/json", f"Content-Length: {len(body.encode('utf-8'))}", "", body]
        parts.append(CRLF.join(lines) + CRLF)
    parts.append(f"--{changeset}--{CRLF}{CRLF}--{batch}--{CRLF}")
    return f"multipart/mixed; boundary={batch}", "".join(parts).encode("utf-8")


def parse(content_type: str, body: bytes) -> list[PartResponse]:
    """The response parts of a ``$batch`` answer, in order."""
    found = _BOUNDARY.search(content_type.encode("latin-1"))
    if found is None:
        raise ValueError(f"a batch response without a boundary: {content_type!r}")
    outer = found.group(1).strip(b'"')
    responses: list[PartResponse] = []
    for section in _sections(body, outer):
        head, _, rest = section.partition(b"\r\n\r\n")
        inner = _BOUNDARY.search(head)
        if inner is None:  # a bare response part outside a changeset (a failed batch)
            responses.append(_response(section))
            continue
        responses.extend(_response(part) for part in _sections(rest, inner.group(1).strip(b'"')))
    return responses


def _sections(body: bytes, boundary: bytes) -> list[bytes]:
    delimiter = b"--" + boundary
    chunks = body.split(delimiter)
    return [c.strip(b"\r\n") for c in chunks[1:] if not c.startswith(b"--")]


def _response(part: bytes) -> PartResponse:
    """One ``application/http`` part: MIME headers, blank line, then the HTTP response."""
    match = _STATUS_LINE.search(part)
    if match is None:
        raise ValueError("a batch response part without a status line")
    head, _, body = part[match.start():].partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in [*part[: match.start()].split(b"\r\n"), *head.split(b"\r\n")[1:]]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return PartResponse(int(match.group(1)), headers, body.strip(b"\r\n"))


def results(parts: list[PartResponse], count: int) -> list[str | None]:
    """The ETag of each operation; raises :class:`TransactionFailed` for a failed part."""
    for part in parts:
        if part.status >= 300:
            code, message = error_detail(part.body)
            found = _INDEX.match(message)
            index = int(found.group(1)) if found else _content_id(part)
            if found:
                message = message[found.end():]
            raise TransactionFailed(part.status, code, f"transaction failed at operation {index}: {message}", index)
    if len(parts) != count:
        raise TransactionFailed(0, None, f"the transaction answered {len(parts)} parts for {count} operations", None)
    return [part.headers.get("etag") for part in parts]


def _content_id(part: PartResponse) -> int | None:
    value = part.headers.get("content-id")
    return int(value) if value and value.isdigit() else None
