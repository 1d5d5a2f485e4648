"""Table entities <-> the Table service's JSON, typed exactly as ``azure-data-tables`` types them.

Written: ``str``, ``bool`` and int32 as plain JSON; ints outside int32 as ``Edm.Int64``
strings; ``float`` as ``Edm.Double`` (``NaN``/``Infinity`` spelled out); ``datetime`` as
``Edm.DateTime`` in UTC with microseconds (``%Y-%m-%dT%H:%M:%S.%fZ``, the SDK's form; a naive
datetime is taken as local time, as the SDK takes it); ``bytes`` as ``Edm.Binary``; ``UUID``
as ``Edm.Guid``; ``None`` is left out.  Read (``odata=minimalmetadata``): the same Python
values the SDK returns, except that a datetime is a plain ``datetime`` (UTC, truncated to
microseconds, like the SDK's) and an ``Edm.Int64`` is a plain ``int`` (the SDK wraps it in
``EntityProperty``).  ``Timestamp`` is dropped, as the SDK moves it to metadata.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote
from uuid import UUID

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_TYPE_SUFFIX = "@odata.type"


class Entity(dict[str, Any]):
    """An entity's properties (``PartitionKey``, ``RowKey`` included) and its ``etag``."""

    __slots__ = ("etag",)

    def __init__(self, *args: Any, etag: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.etag = etag


def encode(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object for ``entity``."""
    out: dict[str, Any] = {}
    for name, value in entity.items():
        kind = type(value)
        if kind is str or kind is bool:
            out[name] = value
        elif value is None:
            continue
        elif kind is int:
            if _INT32_MIN <= value <= _INT32_MAX:
                out[name] = value
            else:
                out[name] = str(value)
                out[name + _TYPE_SUFFIX] = "Edm.Int64"
        else:
            typed = _typed(value)
            out[name] = typed[1]
            out[name + _TYPE_SUFFIX] = typed[0]
    return out


def _typed(value: Any) -> tuple[str, Any]:
    if isinstance(value, datetime):
        return "Edm.DateTime", format_datetime(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "Edm.Double", "NaN"
        if math.isinf(value):
            return "Edm.Double", "Infinity" if value > 0 else "-Infinity"
        return "Edm.Double", value
    if isinstance(value, (Enum, str)):
        return "Edm.String", str(value)
    if isinstance(value, bool):
        return "Edm.Boolean", bool(value)
    if isinstance(value, int):
        number = int(value)
        return ("Edm.Int32", number) if _INT32_MIN <= number <= _INT32_MAX else ("Edm.Int64", str(number))
    if isinstance(value, (bytes, bytearray)):
        return "Edm.Binary", base64.b64encode(value).decode("ascii")
    if isinstance(value, UUID):
        return "Edm.Guid", str(value)
    raise TypeError(f"a table property cannot hold {type(value).__name__}")


def decode(item: Mapping[str, Any]) -> Entity:
    """The entity a JSON object (minimal metadata) describes."""
    entity = Entity(etag=item.get("odata.etag"))
    typed: list[tuple[str, str]] = []
    for name, value in item.items():
        if name.endswith(_TYPE_SUFFIX):
            typed.append((name[: -len(_TYPE_SUFFIX)], value))
        elif not name.startswith("odata."):
            entity[name] = value
    entity.pop("Timestamp", None)
    for name, edm in typed:
        if name in entity:
            entity[name] = _from_edm(edm, entity[name])
    return entity


def _from_edm(edm: str, value: Any) -> Any:
    if edm == "Edm.DateTime":
        return parse_datetime(value)
    if edm == "Edm.Int64":
        return int(value)
    if edm == "Edm.Double":
        return float(value)
    if edm == "Edm.Binary":
        return base64.b64decode(value)
    if edm == "Edm.Guid":
        return UUID(value)
    return value


def format_datetime(value: datetime) -> str:
    """``2024-05-01T10:00:00.123456Z`` (formatted by hand: ``strftime`` costs several times more)."""
    utc = value.astimezone(UTC)
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
            f".{utc.microsecond:06d}Z")


def parse_datetime(text: str) -> datetime:
    """``2024-05-01T10:00:00.1234567Z`` as an aware UTC datetime (digits past 6 truncated)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def key_path(table: str, partition_key: str, row_key: str) -> str:
    """The encoded path of one entity: ``/{table}(PartitionKey='..',RowKey='..')``."""
    pk = quote(partition_key.replace("'", "''"), safe="")
    rk = quote(row_key.replace("'", "''"), safe="")
    return f"/{table}(PartitionKey='{pk}',RowKey='{rk}')"


def literal(value: Any) -> str:
    """``value`` as an OData literal for a ``$filter``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if _INT32_MIN <= value <= _INT32_MAX else f"{value}L"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return f"datetime'{format_datetime(value)}'"
    if isinstance(value, UUID):
        return f"guid'{value}'"
    if isinstance(value, (bytes, bytearray)):
        return f"X'{bytes(value).hex()}'"
    return "'" + str(value).replace("'", "''") + "'"
