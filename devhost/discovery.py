"""The discovery file: where a running ``devhost start`` listens, for clients to find it.

While the host runs, ``APP_DIR/.devhost/endpoint.json`` holds ``{"url", "pid", "hub", "store"}``;
it is removed on exit. Clients (baton's CLI) read it from the folder they run in or a parent,
and ignore it when the process it names is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

FOLDER = ".devhost"
FILE = "endpoint.json"


def write(app_dir: Path, url: str, **details: str) -> Path:
    """Record this process's URL for ``app_dir`` (atomically); returns the file's path."""
    folder = app_dir / FOLDER
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# local state of devhost, not for version control\n*\n", encoding="utf-8")
    path = folder / FILE
    partial = folder / f"{FILE}.{os.getpid()}"
    partial.write_text(json.dumps({"url": url, "pid": os.getpid(), **details}) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def remove(path: Path) -> None:
    """Delete the file if it still names this process (another host may have replaced it)."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
