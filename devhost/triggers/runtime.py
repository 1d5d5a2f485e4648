"""The trigger runtime of one host: listeners for queue, blob and timer triggers, the Event Grid
webhook, shared storage clients, and the startup banner lines."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from ..clock import Clock
from ..loader import FunctionRegistry, TriggerFunction
from ..server.binding import client_binding_json
from .bindings import BindingContext, Invocation, invoke
from .blob import BlobListener
from .blob_webhook import BlobWebhook
from .eventgrid import WEBHOOK_PATH, EventGridWebhook
from .options import load_trigger_options
from .queue import QueueListener
from .storage import ConnectionNotFound, StorageAccounts
from .timer import TimerListener

log = logging.getLogger("devhost.triggers")


def host_id(app_dir: Path) -> str:
    """The host id receipts are kept under: ``AzureFunctionsWebHost__hostid``, else from the app."""
    configured = os.environ.get("AzureFunctionsWebHost__hostid")
    if configured:
        return configured.lower()[:32]
    base = re.sub(r"[^a-z0-9-]", "", (os.environ.get("WEBSITE_SITE_NAME") or app_dir.name).lower()) or "devhost"
    return f"{base[:23]}-{hashlib.sha1(str(app_dir).encode()).hexdigest()[:8]}"


class TriggerRuntime:
    """Serves an app's non-HTTP triggers; :meth:`start` after the HTTP server listens."""

    def __init__(self, registry: FunctionRegistry, hub_name: str, clock: Clock) -> None:
        self.registry = registry
        self.hub_name = hub_name
        self.clock = clock
        self.options = load_trigger_options(registry.app_dir)
        self.base_url: str | None = None
        self.ctx = BindingContext(
            storage=StorageAccounts(),
            clock=clock,
            client_binding=self._client_binding,
            app_dir=str(registry.app_dir),
            queue_encoding=self.options.queues.message_encoding,
        )
        self.host_id = host_id(registry.app_dir)
        self.listeners: dict[str, Any] = {}
        self.not_served: dict[str, str] = {}
        for function in registry.triggers:
            listener = self._listener(function)
            if listener is not None:
                self.listeners[function.name] = listener
        self.webhook = EventGridWebhook(registry.triggers, self._invoke)
        self.blob_webhook = BlobWebhook([x for x in self.listeners.values() if isinstance(x, BlobListener)])
        self._tasks: list[asyncio.Task[None]] = []

    def _listener(self, function: TriggerFunction) -> Any:
        if function.kind == "queueTrigger":
            return QueueListener(function, self.ctx, self.options.queues)
        if function.kind == "blobTrigger":
            return BlobListener(function, self.ctx, self.host_id, self.options.queues.max_dequeue_count,
                                self.options.blobs.max_degree_of_parallelism)
        if function.kind == "timerTrigger":
            return TimerListener(function, self.ctx, self.clock)
        return None

    def _client_binding(self, task_hub: str | None) -> str:
        base = self.base_url or "http://127.0.0.1:7071"
        return client_binding_json(base, task_hub or self.hub_name, f"{base}/durabletask/")

    async def _invoke(self, invocation: Invocation) -> Any:
        return await invoke(self.ctx, invocation)

    def setup_routes(self, app: web.Application) -> None:
        """Mount the Event Grid and blobs webhooks (before any catch-all route)."""
        self.webhook.setup(app)
        self.blob_webhook.setup(app)

    async def start(self, base_url: str) -> None:
        """Start polling queues and containers and running timers."""
        self.base_url = base_url
        for name, listener in list(self.listeners.items()):
            try:
                self._check_connection(listener)
            except ConnectionNotFound as exc:
                log.error("Functions.%s is not served: %s", name, exc)
                self.not_served[name] = str(exc)
                del self.listeners[name]
                continue
            task = asyncio.ensure_future(listener.run())
            task.add_done_callback(lambda t, n=name: _report_stop(n, t))
            self._tasks.append(task)

    def _check_connection(self, listener: Any) -> None:
        connection = listener.function.trigger.get("connection")
        if isinstance(listener, QueueListener):
            self.ctx.storage.queue_service(connection)
        elif isinstance(listener, BlobListener):
            self.ctx.storage.blob_service(connection)
            self.ctx.storage.queue_service(connection)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()
        await self.ctx.storage.close()

    # --- virtual time -------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return any(getattr(listener, "busy", False) for listener in self.listeners.values())

    def next_due(self) -> datetime | None:
        """The earliest timer occurrence, or ``None`` (also while a timer function runs)."""
        if self.busy:
            return None
        dues = [d for listener in self.listeners.values() if (d := getattr(listener, "next_due", _none)())]
        return min(dues, default=None)

    def describe(self, url: str) -> list[str]:
        """Startup banner lines, as ``func start`` lists non-HTTP functions."""
        lines = []
        for function in self.registry.triggers:
            trigger = function.trigger
            if function.kind == "eventGridTrigger":
                detail = f"eventGridTrigger: {url}{WEBHOOK_PATH}?functionName={function.name}"
            elif function.name in self.not_served:
                detail = ""
            elif function.kind == "queueTrigger":
                detail = f"queueTrigger (queue '{self.listeners[function.name].queue_name}')"
            elif function.kind == "blobTrigger":
                source = trigger.get("source") or "LogsAndContainerScan"
                pattern = self.listeners[function.name].pattern
                path = f"{pattern.container}/{trigger.get('path', '').partition('/')[2]}"
                detail = f"blobTrigger (path '{path}', source {source}; devhost scans the container)"
            else:
                detail = self.listeners[function.name].describe()
            if function.name in self.not_served:
                detail = f"{function.kind}: not served by devhost: {self.not_served[function.name]}"
            lines.append(f"        {function.name}: {detail}")
        return lines


def _none() -> None:
    return None


def _report_stop(name: str, task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the trigger listener of Functions.%s stopped: %r", name, task.exception())
