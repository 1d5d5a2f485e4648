"""Management actions from the dashboard's buttons, through the task hub client.

``POST /_devhost/api/instances/{id}/{action}`` with a JSON body; answers JSON, ``{"message"}``
on success and ``{"error"}`` with a 4xx status otherwise.  Requests must be
``application/json`` from the dashboard's own origin, so another web page open in the same
browser cannot submit them (a cross-site form can send neither).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..client import TaskHubClient
from ..errors import DevhostError
from ..server.middlewares import status_for
from .state import DASHBOARD

ACTIONS = ("raise-event", "terminate", "suspend", "resume", "restart", "purge", "rewind")
REWIND_REASON = (
    "devhost does not implement rewind yet (its Durable HTTP API answers 501). The Durable extension's "
    "rewind (a preview) replays a failed instance after removing the failed tasks from its history; "
    "use Restart to run the orchestrator again with the same input."
)


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def act(request: web.Request) -> web.Response:
    """Run one action on one instance."""
    dashboard = request.app[DASHBOARD]
    action = request.match_info["action"]
    if action not in ACTIONS:
        return _error(f"unknown action '{action}'; use one of {', '.join(ACTIONS)}", 404)
    if dashboard.read_only:
        return _error("the dashboard is read-only (started with --dashboard read-only)", 403)
    refusal = _refuse_cross_site(request)
    if refusal is not None:
        return refusal
    try:
        body = await request.json() if (await request.text()).strip() else {}
    except ValueError:
        return _error("the request body must be a JSON object", 400)
    if not isinstance(body, dict):
        return _error("the request body must be a JSON object", 400)
    instance_id = request.match_info["instance_id"]
    try:
        return await _run(dashboard.client, action, instance_id, body)
    except ValueError as exc:
        return _error(str(exc), 400)
    except DevhostError as exc:
        status = status_for(exc)
        return _error(str(exc) or type(exc).__name__, status if status < 500 else 503)


async def _run(client: TaskHubClient, action: str, instance_id: str, body: dict[str, Any]) -> web.Response:
    reason = body.get("reason") or "from the devhost dashboard"
    if not isinstance(reason, str):
        raise ValueError("reason must be a string")
    if action == "raise-event":
        name, data = _event(body)
        await client.raise_event(instance_id, name, data)
        return web.json_response({"message": f"event '{name}' sent"}, status=202)
    if action in ("terminate", "suspend", "resume"):
        await getattr(client, action)(instance_id, reason)
        return web.json_response({"message": f"{action} requested"}, status=202)
    if action == "restart":
        new_id = await client.restart(instance_id, new_instance_id=True)
        return web.json_response({"message": "restarted", "instanceId": new_id}, status=202)
    if action == "purge":
        instance = await client.get(instance_id)
        if not instance.runtime_status.is_terminal:
            return _error(f"instance '{instance_id}' is {instance.runtime_status.value}: "
                          "terminate it before purging", 409)
        await client.purge(instance_id)
        return web.json_response({"message": "purged"})
    await client.get(instance_id)
    return _error(REWIND_REASON, 501)


def _event(body: dict[str, Any]) -> tuple[str, str | None]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("the event needs a name")
    data = body.get("data")
    if data is None or (isinstance(data, str) and not data.strip()):
        return name.strip(), None
    if not isinstance(data, str):
        raise ValueError("data must be the event's JSON text")
    try:
        json.loads(data)
    except ValueError as exc:
        raise ValueError(f"the event data is not valid JSON: {exc}") from exc
    return name.strip(), data


def _refuse_cross_site(request: web.Request) -> web.Response | None:
    if request.content_type != "application/json":
        return _error("send application/json (the dashboard's buttons do)", 415)
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return _error("cross-origin requests are refused", 403)
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return _error("cross-site requests are refused", 403)
    return None
