"""The dashboard's pages: instances, one instance, entities (server-rendered HTML)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from ..engine.entities import parse_entity_id
from ..server.status import format_time
from ..store.base import RuntimeStatus
from . import queries
from .actions import REWIND_REASON
from .events import history_rows
from .state import DASHBOARD, DASHBOARD_PATH, TEMPLATES
from .svg import render_timeline
from .timeline import build_timeline

_ACTIVE = {RuntimeStatus.RUNNING, RuntimeStatus.PENDING, RuntimeStatus.SUSPENDED, RuntimeStatus.CONTINUED_AS_NEW}


def _render(name: str, request: web.Request, context: dict[str, Any], status: int = 200) -> web.Response:
    dashboard = request.app[DASHBOARD]
    base = {
        "base": DASHBOARD_PATH,
        "hub": dashboard.client.hub_name,
        "read_only": dashboard.read_only,
        "mermaid": dashboard.mermaid is not None,
        "now": format_time(dashboard.client.clock.now()),
    }
    response = aiohttp_jinja2.render_template(name, request, {**base, **context}, app_key=TEMPLATES, status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


async def instances_page(request: web.Request) -> web.Response:
    """The instances table with its filters and paging."""
    client = request.app[DASHBOARD].client
    try:
        wanted = queries.InstanceFilter.parse(request.query)
    except ValueError as exc:
        return _render("instances.html", request, _filters_context(request, None, error=str(exc)), status=400)
    page = await queries.orchestrations(client, wanted)
    context = _filters_context(request, wanted)
    context["rows"] = [
        {
            "instance": row,
            "created": format_time(row.created_time),
            "updated": format_time(row.last_updated_time),
            "summary": queries.summary(row.custom_status),
        }
        for row in page.rows
    ]
    if page.next_token:
        params = [(k, v) for k, v in request.query.items() if k != "token"] + [("token", page.next_token)]
        context["next_url"] = f"{DASHBOARD_PATH}/?{urlencode(params)}"
    if wanted.token:
        params = [(k, v) for k, v in request.query.items() if k != "token"]
        context["first_url"] = f"{DASHBOARD_PATH}/?{urlencode(params)}"
    return _render("instances.html", request, context)


def _filters_context(request: web.Request, wanted: queries.InstanceFilter | None, error: str = "") -> dict[str, Any]:
    chosen = {s.value for s in (wanted.statuses or ())} if wanted else set()
    return {
        "error": error,
        "rows": [],
        "statuses": [(s.value, s.value in chosen) for s in RuntimeStatus],
        "name": request.query.get("name", ""),
        "from": request.query.get("from", ""),
        "to": request.query.get("to", ""),
        "top": wanted.top if wanted else 50,
        "page_sizes": queries.PAGE_SIZES,
        "next_url": None,
        "first_url": None,
    }


async def instance_page(request: web.Request) -> web.Response:
    """One instance: details, graph, timeline, history and the action buttons."""
    client = request.app[DASHBOARD].client
    instance_id = request.match_info["instance_id"]
    instance = await client.store.get_instance(instance_id)
    if instance is None or instance_id.startswith("@"):
        context = {"missing": instance_id}
        return _render("instance.html", request, context, status=404)
    history = await client.history(instance_id)
    running = instance.runtime_status in _ACTIVE
    timeline = build_timeline(history, client.clock.now(), running=running)
    failed = instance.runtime_status is RuntimeStatus.FAILED
    context = {
        "instance": instance,
        "created": format_time(instance.created_time),
        "updated": format_time(instance.last_updated_time),
        "completed": format_time(instance.completed_time),
        "input": queries.pretty(instance.input) or "null",
        "output": "" if failed else queries.pretty(instance.output),
        "failure": queries.failure_parts(instance.output) if failed else ("", ""),
        "custom_status": queries.pretty(instance.custom_status),
        "graph": queries.graph_of(instance.custom_status),
        "timeline": render_timeline(timeline, base_path=DASHBOARD_PATH) if timeline else None,
        "history": history_rows(history),
        "active": running,
        "suspended": instance.runtime_status is RuntimeStatus.SUSPENDED,
        "terminal": instance.runtime_status.is_terminal,
        "rewind_reason": REWIND_REASON,
    }
    return _render("instance.html", request, context)


async def entities_page(request: web.Request) -> web.Response:
    """Durable entities and their state."""
    client = request.app[DASHBOARD].client
    page = await queries.entities(client, request.query.get("token") or None)
    rows = []
    for row in page.rows:
        name, key = parse_entity_id(row.instance_id)
        rows.append({"name": name, "key": key, "id": row.instance_id, "state": queries.pretty(row.input),
                     "updated": format_time(row.last_updated_time)})
    next_url = f"{DASHBOARD_PATH}/entities?{urlencode({'token': page.next_token})}" if page.next_token else None
    return _render("entities.html", request, {"rows": rows, "next_url": next_url})


async def mermaid_script(request: web.Request) -> web.FileResponse:
    """Mermaid from the local ``node_modules`` (404 when there is none)."""
    found = request.app[DASHBOARD].mermaid
    if found is None:
        raise web.HTTPNotFound(text="mermaid is not installed (npm install mermaid)")
    return web.FileResponse(found, headers={"Cache-Control": "max-age=3600"})
