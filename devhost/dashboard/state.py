"""The dashboard's state on the aiohttp application (one typed AppKey)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
from aiohttp import web

from ..client import TaskHubClient

DASHBOARD_PATH = "/_devhost"


@dataclass(frozen=True)
class Dashboard:
    """What the handlers need: the task hub client, the mode and the mermaid bundle if found."""

    client: TaskHubClient
    read_only: bool
    mermaid: Path | None


DASHBOARD = web.AppKey("devhost_dashboard", Dashboard)
TEMPLATES = web.AppKey("devhost_dashboard_templates", jinja2.Environment)
