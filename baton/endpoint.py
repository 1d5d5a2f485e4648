"""Which API the CLI talks to: ``--url``, else ``$BATON_URL``, else a running ``devhost start``
found through its discovery file, else http://localhost:7071 (``func start``'s default)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://localhost:7071"
DEFAULT_URLS = {DEFAULT_URL, "http://127.0.0.1:7071"}
DISCOVERY_FILE = Path(".devhost") / "endpoint.json"  # written by ``devhost start`` in the app folder


@dataclass(frozen=True)
class Endpoint:
    url: str
    source: str  # "--url", "$BATON_URL", the discovery file's path, or "default"

    @property
    def is_default(self) -> bool:
        return self.url in DEFAULT_URLS


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return False
    return True


def discovered(start: Path | None = None) -> Endpoint | None:
    """The URL of a running devhost whose app folder is ``start`` (the working folder) or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        path = folder / DISCOVERY_FILE
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        url, pid = (record.get("url"), record.get("pid")) if isinstance(record, dict) else (None, None)
        if isinstance(url, str) and url and isinstance(pid, int) and process_alive(pid):
            return Endpoint(url.rstrip("/"), str(path))
    return None


def resolve(url: str | None = None) -> Endpoint:
    if url:
        return Endpoint(url.rstrip("/"), "--url")
    if os.environ.get("BATON_URL"):
        return Endpoint(os.environ["BATON_URL"].rstrip("/"), "$BATON_URL")
    return discovered() or Endpoint(DEFAULT_URL, "default")
