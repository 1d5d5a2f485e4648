"""The environment variables the Functions host gives a language worker.

Core Tools sets these for the worker process; apps read them (``WEBSITE_HOSTNAME`` to build
callback URLs, ``AzureWebJobsScriptRoot`` to find their files).  A value the user's settings
or shell already define wins; what devhost set is removed again when the host stops.
"""

from __future__ import annotations

import os
from pathlib import Path

_SET_BY_DEVHOST: dict[str, set[str]] = {}  # values any host in this process set (not the user's)


class HostEnvironment:
    """Set the host's variables without overriding the user's; :meth:`restore` undoes ours."""

    def __init__(self) -> None:
        self._ours: dict[str, str] = {}

    def provide(self, app_dir: Path) -> None:
        """What the worker sees before any app code runs."""
        self._set("FUNCTIONS_WORKER_RUNTIME", "python")
        self._set("AzureWebJobsScriptRoot", str(app_dir))
        self._set("AZURE_FUNCTIONS_ENVIRONMENT", "Development")

    def provide_address(self, host: str, port: int) -> None:
        """``WEBSITE_HOSTNAME`` as Core Tools sets it: ``localhost:<port>`` for a local listener."""
        name = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost") else host
        self._set("WEBSITE_HOSTNAME", f"{name}:{port}")

    def restore(self) -> None:
        for key, value in self._ours.items():
            if os.environ.get(key) == value:
                del os.environ[key]
        self._ours.clear()

    def _set(self, key: str, value: str) -> None:
        current = os.environ.get(key)
        if current is not None and key not in self._ours and current not in _SET_BY_DEVHOST.get(key, set()):
            return  # the user's own value
        os.environ[key] = value
        self._ours[key] = value
        _SET_BY_DEVHOST.setdefault(key, set()).add(value)
