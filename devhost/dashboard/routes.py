"""Mount the dashboard on the host's application: every route in one table."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from ..client import TaskHubClient
from .actions import act
from .assets import STATIC_DIR, default_search_dirs, find_mermaid
from .state import DASHBOARD, DASHBOARD_PATH, TEMPLATES, Dashboard
from .views import entities_page, instance_page, instances_page, mermaid_script


def clock_time(timestamp: str) -> str:
    """``2026-01-01T12:00:30.1234560Z`` -> ``12:00:30.123`` (the full value is in the title)."""
    return timestamp[11:23] if len(timestamp) >= 23 else timestamp[11:19]


async def _to_index(request: web.Request) -> web.Response:
    raise web.HTTPFound(DASHBOARD_PATH + "/")


def setup_dashboard(app: web.Application, client: TaskHubClient, *, app_dir: Path, read_only: bool = False) -> None:
    """Serve the dashboard under ``/_devhost/`` (register before any catch-all route)."""
    app[DASHBOARD] = Dashboard(client, read_only, find_mermaid(default_search_dirs(app_dir)))
    aiohttp_jinja2.setup(
        app, app_key=TEMPLATES, loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=jinja2.select_autoescape(default=True), undefined=jinja2.StrictUndefined,
        filters={"clock": clock_time},
    )
    app.router.add_routes([
        web.get(DASHBOARD_PATH, _to_index),
        web.get(DASHBOARD_PATH + "/", instances_page),
        web.get(DASHBOARD_PATH + "/instances/{instance_id}", instance_page),
        web.get(DASHBOARD_PATH + "/entities", entities_page),
        web.get(DASHBOARD_PATH + "/static/mermaid.min.js", mermaid_script),
        web.static(DASHBOARD_PATH + "/static", STATIC_DIR),
        web.post(DASHBOARD_PATH + "/api/instances/{instance_id}/{action}", act),
    ])
