"""The aiohttp application: the app's HTTP triggers plus the Durable HTTP and RPC APIs."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from ..client import TaskHubClient
from ..clock import Clock
from ..dashboard import setup_dashboard
from ..keys import HostKeys
from ..loader import FunctionRegistry, HttpFunction
from ..settings import HostSettings
from ..store.base import TaskHubStore
from .binding import client_binding_json
from .durable_api import setup_durable_api
from .http_triggers import HttpTriggers
from .middlewares import setup_middlewares


class Webhooks(Protocol):
    """Extension webhooks mounted under ``/runtime/webhooks/`` (the trigger runtime's)."""

    def setup_routes(self, app: web.Application) -> None: ...

TASK_HUB_CLIENT = web.AppKey("task_hub_client", TaskHubClient)
HTTP_TRIGGERS = web.AppKey("http_triggers", HttpTriggers)
MAX_BODY_BYTES = 100 * 1024 * 1024


def create_app(
    registry: FunctionRegistry, settings: HostSettings, store: TaskHubStore, clock: Clock,
    webhooks: Webhooks | None = None, *, dashboard: str = "on", keys: HostKeys | None = None,
) -> web.Application:
    """Build the application; nothing starts until it is run.

    ``dashboard`` is ``on``, ``read-only`` or ``off`` (the dashboard under ``/_devhost/``);
    ``keys`` enforce the functions' auth levels (``None``: open, as with Core Tools).
    """
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    setup_middlewares(app, keys)
    code = keys.extension_key if keys is not None else None
    orchestrators = {key: fn.name for key, fn in registry.orchestrators.items()}
    client = TaskHubClient(
        store, clock, orchestrators, accept_unregistered=settings.backend.accepts_unregistered_orchestrators
    )
    app[TASK_HUB_CLIENT] = client

    def binding(request: web.Request, function: HttpFunction) -> str:
        origin = f"{request.scheme}://{request.host}"
        hub = function.client_task_hub or settings.hub_name
        local = f"http://127.0.0.1:{request.url.port or request.transport.get_extra_info('sockname')[1]}"
        return client_binding_json(origin, hub, f"{local}/durabletask/", code)

    triggers = HttpTriggers(registry.http, settings.route_prefix, str(registry.app_dir), binding, keys)
    app[HTTP_TRIGGERS] = triggers
    setup_durable_api(app, client, hub_name=settings.hub_name, code=code)
    if webhooks is not None:
        webhooks.setup_routes(app)
    if dashboard != "off":
        setup_dashboard(app, client, app_dir=registry.app_dir, read_only=dashboard == "read-only")
    prefix = f"/{settings.route_prefix}" if settings.route_prefix else ""
    app.router.add_route("*", prefix + r"/{tail:[\s\S]*}", triggers.handle)  # any path, newlines too
    app.router.add_get("/", _health)
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "running", "host": "devhost"})
