"""``host.json`` ``extensions.queues`` / ``extensions.blobs`` with the Functions host's defaults."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AppLoadError

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_timespan(value: Any, where: str) -> float:
    """Seconds in a .NET TimeSpan string (``[d.]hh:mm:ss[.fff]``)."""
    found = _TIMESPAN.match(str(value).strip())
    if not found:
        raise AppLoadError(f"host.json {where}: '{value}' is not a TimeSpan (use hh:mm:ss)")
    days, hours, minutes, seconds = found.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@dataclass(frozen=True)
class QueuesOptions:
    """``extensions.queues``: the storage queues extension's options and defaults."""

    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0
    batch_size: int = 16
    new_batch_threshold: int | None = None
    max_dequeue_count: int = 5
    message_encoding: str = "base64"

    @property
    def batch_threshold(self) -> int:
        return self.batch_size // 2 if self.new_batch_threshold is None else self.new_batch_threshold


@dataclass(frozen=True)
class BlobsOptions:
    """``extensions.blobs``: ``maxDegreeOfParallelism`` (how many blobs run at once)."""

    max_degree_of_parallelism: int = 8


@dataclass(frozen=True)
class TriggerOptions:
    queues: QueuesOptions = QueuesOptions()
    blobs: BlobsOptions = BlobsOptions()


def load_trigger_options(app_dir: Path) -> TriggerOptions:
    """Read the trigger extensions' sections of ``host.json`` (missing: defaults)."""
    path = app_dir / "host.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError as exc:
        raise AppLoadError(f"{path}: not valid JSON: {exc}") from exc
    extensions = data.get("extensions") or {}
    queues = extensions.get("queues") or {}
    blobs = extensions.get("blobs") or {}
    encoding = str(queues.get("messageEncoding", "base64")).lower()
    if encoding not in ("base64", "none"):
        raise AppLoadError(f"{path}: extensions.queues.messageEncoding must be 'base64' or 'none'")
    defaults = QueuesOptions()
    batch_size = int(queues.get("batchSize", defaults.batch_size))
    if not 1 <= batch_size <= 32:
        raise AppLoadError(f"{path}: extensions.queues.batchSize must be between 1 and 32")
    threshold = queues.get("newBatchThreshold")
    return TriggerOptions(
        queues=QueuesOptions(
            max_polling_interval=parse_timespan(queues["maxPollingInterval"], "extensions.queues.maxPollingInterval")
            if "maxPollingInterval" in queues else defaults.max_polling_interval,
            visibility_timeout=parse_timespan(queues["visibilityTimeout"], "extensions.queues.visibilityTimeout")
            if "visibilityTimeout" in queues else defaults.visibility_timeout,
            batch_size=batch_size,
            new_batch_threshold=int(threshold) if threshold is not None else None,
            max_dequeue_count=max(1, int(queues.get("maxDequeueCount", defaults.max_dequeue_count))),
            message_encoding=encoding,
        ),
        blobs=BlobsOptions(max_degree_of_parallelism=max(1, int(blobs.get("maxDegreeOfParallelism", 8)))),
    )
