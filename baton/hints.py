"""Commands the CLI suggests, spelled so they work when copy-pasted into the same shell and folder."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from .endpoint import Endpoint


def _shortest(path: str) -> str:
    """``path`` as typed: its bare name when PATH finds this very file, else relative to the working folder."""
    name = Path(path).name
    found = shutil.which(name)
    if found and os.path.abspath(found) == os.path.abspath(path):  # not samefile: a venv's python is a link
        return name
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def program() -> str:
    """How this CLI was started: ``baton`` (installed), or ``.venv/bin/python -m baton``."""
    script = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if script and Path(script).name == "baton" and os.path.exists(script):
        return shlex.quote(_shortest(script))
    return f"{shlex.quote(_shortest(sys.executable))} -m baton"


def command(*args: str, endpoint: Endpoint | None = None) -> str:
    """A full CLI line; ``--url`` is added unless the API is the default one."""
    words = [shlex.quote(arg) for arg in args]
    if endpoint is not None and not endpoint.is_default:
        words += ["--url", shlex.quote(endpoint.url)]
    return " ".join([program(), *words])
