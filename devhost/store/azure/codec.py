"""Table rows <-> devhost values: history events and instance rows, exactly round-tripped.

History rows follow DurableTask.AzureStorage: one column per event member, ``EventType``
(and ``OrchestrationStatus``) stored as the enum *name*, ``Timestamp`` renamed
``_Timestamp``, timestamps (``Timestamp``, ``FireAt``, ``ScheduledStartTime``) as DateTime
when their text is devhost's canonical form (so it reads back identically), complex members
as JSON text.  What Table storage cannot say directly is
recorded so that :func:`decode_event` returns a dict equal to the one encoded:

* ``_Null``: members whose value was ``None`` (a property cannot hold null);
* ``_Json``: members stored as JSON text (dicts, lists, floats, big ints, strings that
  would be mistaken for an enum name);
* ``_Extra``: JSON object of members whose name cannot be a column.

Large string columns are replaced by ``""`` plus ``{Column}BlobName`` (see :mod:`.payloads`);
:func:`blob_refs` lists them and :func:`restore_blobs` puts the text back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ...engine.history import EventType
from ..base import HistoryEvent, OrchestrationInstance, RuntimeStatus
from .rest.entities import format_datetime

NULL = "_Null"
JSON = "_Json"
EXTRA = "_Extra"
BLOB_SUFFIX = "BlobName"
ROW_COLUMNS = frozenset({"PartitionKey", "RowKey", "Timestamp", "ETag", "ExecutionId"})
_COLUMN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,200}")
_INT32 = range(-(2**31), 2**31)
_STATUS_NAMES = {status.history_code: status.value for status in RuntimeStatus}
_STATUS_CODES = {name: code for code, name in _STATUS_NAMES.items()}
_RENAMED = {"Timestamp": "_Timestamp"}
_TIMESTAMPS = frozenset({"Timestamp", "FireAt", "ScheduledStartTime"})
_STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
_CANONICAL_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}0Z")
_UNRENAMED = {v: k for k, v in _RENAMED.items()}


# --- history events ------------------------------------------------------------------------
def encode_event(event: HistoryEvent) -> dict[str, Any]:
    """Columns of one history row (without keys and ``ExecutionId``)."""
    columns: dict[str, Any] = {}
    nulls: list[str] = []
    as_json: list[str] = []
    extra: dict[str, Any] = {}
    for key, value in event.items():
        column = _RENAMED.get(key, key)
        if key not in _RENAMED and not _is_member_column(key):
            extra[key] = value
        elif value is None:
            nulls.append(key)
        elif key == "EventType" and _is_int(value) and value in EventType._value2member_map_:
            columns[column] = EventType(value).name
        elif key == "OrchestrationStatus" and _is_int(value) and value in _STATUS_NAMES:
            columns[column] = _STATUS_NAMES[value]
        elif key in _TIMESTAMPS and isinstance(value, str) and (moment := _canonical_moment(value)) is not None:
            columns[column] = moment
        elif _is_native(key, value):
            columns[column] = value
        else:
            columns[column] = _dumps(value)
            as_json.append(key)
    if nulls:
        columns[NULL] = ",".join(nulls)
    if as_json:
        columns[JSON] = ",".join(as_json)
    if extra:
        columns[EXTRA] = _dumps(extra)
    return columns


def decode_event(columns: Mapping[str, Any]) -> HistoryEvent:
    """The event dict :func:`encode_event` was given (blobs already restored)."""
    as_json = set(_split(columns.get(JSON)))
    event: HistoryEvent = {}
    for column, value in columns.items():
        if column in ROW_COLUMNS or column in (NULL, JSON, EXTRA) or column.endswith(BLOB_SUFFIX):
            continue
        key = _UNRENAMED.get(column, column)
        if key in as_json:
            event[key] = json.loads(value)
        elif key == "EventType" and isinstance(value, str):
            event[key] = int(EventType[value])
        elif key == "OrchestrationStatus" and isinstance(value, str):
            event[key] = _STATUS_CODES[value]
        elif isinstance(value, datetime):
            event[key] = _stamp(value)
        else:
            event[key] = value
    for key in _split(columns.get(NULL)):
        event[key] = None
    if columns.get(EXTRA):
        event.update(json.loads(columns[EXTRA]))
    return event


def event_type_name(event: HistoryEvent) -> str:
    value = event.get("EventType")
    if _is_int(value) and value in EventType._value2member_map_:
        return EventType(value).name
    return "Event"


# --- instance rows ---------------------------------------------------------------------------
PAYLOAD_COLUMNS = ("Input", "Output", "CustomStatus")


def instance_columns(instance: OrchestrationInstance, hub: str) -> dict[str, Any]:
    """Columns of the ``Instances`` row (``None`` payloads and times are left out)."""
    columns: dict[str, Any] = {
        "Name": instance.name,
        "Version": instance.version,
        "ExecutionId": instance.execution_id,
        "RuntimeStatus": instance.runtime_status.value,
        "CreatedTime": instance.created_time,
        "LastUpdatedTime": instance.last_updated_time,
        "Generation": instance.generation,
        "TaskHubName": hub,
    }
    optional = {
        "Input": instance.input,
        "Output": instance.output,
        "CustomStatus": instance.custom_status,
        "CompletedTime": instance.completed_time,
        "ParentInstanceId": instance.parent_instance_id,
    }
    columns.update({k: v for k, v in optional.items() if v is not None})
    return columns


def decode_instance(instance_id: str, columns: Mapping[str, Any]) -> OrchestrationInstance:
    """The instance a row (or a sentinel snapshot, unprefixed) describes; blobs restored."""
    return OrchestrationInstance(
        instance_id=instance_id,
        name=columns.get("Name") or "",
        execution_id=columns.get("ExecutionId") or "",
        runtime_status=RuntimeStatus(columns["RuntimeStatus"]),
        created_time=_datetime(columns["CreatedTime"]),
        last_updated_time=_datetime(columns["LastUpdatedTime"]),
        input=columns.get("Input"),
        output=columns.get("Output"),
        custom_status=columns.get("CustomStatus"),
        completed_time=_datetime(columns["CompletedTime"]) if columns.get("CompletedTime") else None,
        parent_instance_id=columns.get("ParentInstanceId"),
        version=columns.get("Version") or "",
        generation=int(columns.get("Generation") or 0),
    )


def prefixed(columns: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {prefix + k: v for k, v in columns.items()}


def unprefixed(columns: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix):]: v for k, v in columns.items() if k.startswith(prefix)}


# --- blob references -------------------------------------------------------------------------
def blob_refs(columns: Mapping[str, Any]) -> list[str]:
    """Blob names a row refers to (``{Column}BlobName``)."""
    return [v for k, v in columns.items() if k.endswith(BLOB_SUFFIX) and isinstance(v, str) and v]


def restore_blobs(columns: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any]:
    """``columns`` with every offloaded column holding its text again."""
    out = dict(columns)
    for key, value in columns.items():
        if key.endswith(BLOB_SUFFIX) and value:
            out[key[: -len(BLOB_SUFFIX)]] = texts[value]
    return out


def offload_plan(columns: Mapping[str, Any], too_large: Callable[[str], bool]) -> list[str]:
    """Columns whose text must go to a blob, largest first."""
    big = [k for k, v in columns.items() if isinstance(v, str) and too_large(v)]
    return sorted(big, key=lambda k: len(columns[k]), reverse=True)


def with_blob(columns: dict[str, Any], column: str, blob_name: str, placeholder: str = "") -> None:
    columns[column] = placeholder
    columns[column + BLOB_SUFFIX] = blob_name


# --- helpers ---------------------------------------------------------------------------------
def _is_member_column(column: str) -> bool:
    return bool(_COLUMN.fullmatch(column)) and column not in ROW_COLUMNS and not column.endswith(BLOB_SUFFIX)


def _is_native(key: str, value: Any) -> bool:
    """Values a column holds as themselves (an enum member's string would read back as a code)."""
    if isinstance(value, bool) or (_is_int(value) and value in _INT32):
        return True
    return isinstance(value, str) and key not in ("EventType", "OrchestrationStatus")


def _canonical_moment(text: str) -> datetime | None:
    """The moment ``2024-05-01T10:00:00.1234560Z`` names, if the text is in exactly that form."""
    if not _CANONICAL_STAMP.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text[:26])  # strptime's result, about 30 times faster
    except ValueError:  # digits of another script, which only strptime reads
        moment = datetime.strptime(text[:26], _STAMP_FORMAT)
    moment = moment.replace(tzinfo=UTC)
    return moment if moment.year >= 1601 else None  # Table storage dates start in 1601


def _stamp(moment: datetime) -> str:
    """``2024-05-01T10:00:00.1234560Z``: the canonical form of a moment (seven fraction digits)."""
    return format_datetime(moment)[:-1] + "0Z"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _split(text: str | None) -> Iterable[str]:
    return text.split(",") if text else ()


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return datetime(
            value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond,
            tzinfo=value.tzinfo,
        )
    return datetime.fromisoformat(str(value))
