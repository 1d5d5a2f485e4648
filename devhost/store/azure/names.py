"""Names and keys of a task hub in Azure Storage, as DurableTask.AzureStorage spells them.

* Tables ``{Hub}Instances``, ``{Hub}History`` and ``{Hub}Partitions`` (hub name as configured).
* Queues ``{hub}-control-00`` ... ``{hub}-control-NN`` and ``{hub}-workitems`` (lower case).
* Containers ``{hub}-largemessages`` (payloads over the service limits).
* Table keys are *sanitized* instance ids (``KeySanitation``); an instance's control queue is
  ``FNV-1a 32-bit(UTF-8 id) % partition_count``; history rows are keyed by their position as
  16 upper-case hex digits.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from dataclasses import dataclass

from ...errors import StoreError

MAX_PARTITIONS = 16
SENTINEL_ROW = "sentinel"
_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
_HUB = re.compile(r"[A-Za-z][A-Za-z0-9]{2,48}")
_ESCAPES = {"^": "^^", "/": "^0", "\\": "^1", "#": "^2", "?": "^3"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}


def sanitize_key(instance_id: str) -> str:
    """A table key for ``instance_id``: ``^ / \\ # ?`` and control characters escaped with ``^``."""
    out = []
    for char in instance_id:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code <= 0x1F or 0x7F <= code <= 0x9F:
            out.append("^" + chr(0xC0 + code))
        else:
            out.append(char)
    return "".join(out)


def unsanitize_key(key: str) -> str:
    """The instance id a sanitized key was made from."""
    out = []
    chars = iter(key)
    for char in chars:
        if char != "^":
            out.append(char)
            continue
        escaped = next(chars, "")
        out.append(_UNESCAPES.get(escaped) or chr(ord(escaped) - 0xC0))
    return "".join(out)


@functools.lru_cache(maxsize=1 << 16)
def partition_of(instance_id: str, partition_count: int) -> int:
    """The control-queue index of an instance: FNV-1a 32-bit of its UTF-8 bytes."""
    value = _FNV_OFFSET
    for byte in instance_id.encode("utf-8"):
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value % partition_count


def history_row_key(position: int) -> str:
    """``0000000000000000``, ``0000000000000001``, ...: the row of the event at ``position``."""
    return f"{position:016X}"


def is_history_row_key(row_key: str) -> bool:
    return len(row_key) == 16 and all(c in "0123456789ABCDEF" for c in row_key)


def digest(text: str) -> str:
    """A short stable digest of ``text`` (blob names derived from message ids)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def random_suffix() -> str:
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class HubNames:
    """Every resource name of one task hub."""

    hub: str
    partition_count: int

    @classmethod
    def of(cls, hub: str, partition_count: int) -> HubNames:
        if not _HUB.fullmatch(hub):
            raise StoreError(
                f"task hub name '{hub}' cannot be used with Azure Storage: use 3-49 letters and digits, "
                "starting with a letter"
            )
        if not 1 <= partition_count <= MAX_PARTITIONS:
            raise StoreError(f"partition count must be between 1 and {MAX_PARTITIONS}, not {partition_count}")
        return cls(hub, partition_count)

    @property
    def instances_table(self) -> str:
        return f"{self.hub}Instances"

    @property
    def history_table(self) -> str:
        return f"{self.hub}History"

    @property
    def partitions_table(self) -> str:
        return f"{self.hub}Partitions"

    def control_queue(self, partition: int) -> str:
        return f"{self.hub.lower()}-control-{partition:02d}"

    @property
    def control_queues(self) -> list[str]:
        return [self.control_queue(p) for p in range(self.partition_count)]

    @property
    def work_item_queue(self) -> str:
        return f"{self.hub.lower()}-workitems"

    @property
    def large_messages_container(self) -> str:
        return f"{self.hub.lower()}-largemessages"

    def partition(self, instance_id: str) -> int:
        return partition_of(instance_id, self.partition_count)


def history_blob_name(instance_id: str, row_key: str, event_type: str, prop: str) -> str:
    return f"{sanitize_key(instance_id)}/history-{row_key}-{event_type}-{random_suffix()}-{prop}.json.gz"


def instance_blob_name(instance_id: str, prop: str) -> str:
    return f"{sanitize_key(instance_id)}/instance-{prop}-{random_suffix()}.json.gz"


def message_blob_name(instance_id: str, message_id: str, event_type: str) -> str:
    """Deterministic per message id, so sending a message again rewrites the same blob."""
    return f"{sanitize_key(instance_id)}/message-{digest(message_id)}-{event_type}.json.gz"


def outbox_blob_name(instance_id: str, checkpoint: int) -> str:
    return f"{sanitize_key(instance_id)}/outbox-{checkpoint:016X}.json.gz"


def blob_prefix(instance_id: str) -> str:
    """Every large payload of an instance lives under this prefix (purge deletes it)."""
    return f"{sanitize_key(instance_id)}/"
