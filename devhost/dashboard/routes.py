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


async def _to_index(request: web.Request) -> web.Response:
    raise web.HTTPFound(DASHBOARD_PATH + "/")


def setup_dashboard(app: web.Application, client: TaskHubClient, *, app_dir: Path, read_only: bool = False) -> None:
    """Serve the dashboard under ``/_devhost/`` (register before any catch-all route)."""
    app[DASHBOARD] = Dashboard(client, read_only, find_mermaid(default_search_dirs(app_dir)))
    aiohttp_jinja2.setup(
        app, app_key=TEMPLATES, loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=jinja2.select_autoescape(default=True), undefined=jinja2.StrictUndefined,
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
