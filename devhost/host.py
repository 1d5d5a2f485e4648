"""DevHost: one running local Functions host (app + HTTP server + dispatcher + task hub)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from . import azurite, worker
from .backends import azure_storage_hub
from .clock import Clock, SystemClock, VirtualClock
from .dashboard.state import DASHBOARD, DASHBOARD_PATH
from .engine import fastdates, fastexecutor
from .engine.dispatcher import Dispatcher, DispatcherOptions
from .environment import HostEnvironment
from .errors import DevhostError
from .keys import HostKeys
from .loader import FunctionRegistry, load_app
from .settings import HostSettings, load_host_settings, load_local_settings
from .store.base import RuntimeStatus, TaskHubStore
from .store.memory import MemoryStore
from .triggers.runtime import TriggerRuntime

log = logging.getLogger("devhost")

STORES = ("memory", "azurite")
AUTH_MODES = ("none", "keys")
DASHBOARD_MODES = ("on", "read-only", "off")
SHUTDOWN_GRACE_SECONDS = 1.0  # how long a stop waits for HTTP requests still running


class DevHost:
    """A started host.  Create with :meth:`start` (an async context manager)."""

    def __init__(
        self,
        registry: FunctionRegistry,
        settings: HostSettings,
        store: TaskHubStore,
        clock: Clock,
        dispatcher: Dispatcher,
        runner: web.AppRunner,
        url: str,
        triggers: TriggerRuntime,
        keys: HostKeys | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.store = store
        self.clock = clock
        self.dispatcher = dispatcher
        self.runner = runner
        self.url = url
        self.triggers = triggers
        self.keys = keys

    @property
    def hub_name(self) -> str:
        """The task hub the app configured (the azurite store may keep it under a storage-safe name)."""
        return self.settings.hub_name

    @property
    def dashboard_url(self) -> str | None:
        """Where the dashboard is served (``None`` when it is off)."""
        mounted = self.runner.app.get(DASHBOARD)
        if mounted is None:
            return None
        code = f"?code={self.keys.master}" if self.keys is not None else ""  # --auth keys: the master key opens it
        return f"{self.url}{DASHBOARD_PATH}/{code}"

    @property
    def client(self) -> Any:
        """The host's :class:`~devhost.client.TaskHubClient`."""
        from .server.app import TASK_HUB_CLIENT

        return self.runner.app[TASK_HUB_CLIENT]

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        app_dir: str | Path = ".",
        *,
        store: str | TaskHubStore = "memory",
        clock: str | Clock = "system",
        host: str = "127.0.0.1",
        port: int = 0,
        hub_name: str | None = None,
        dashboard: str = "on",
        auth: str = "none",
    ) -> AsyncIterator[DevHost]:
        """Load the app, open the task hub, serve HTTP and dispatch work until the block exits.

        ``auth="keys"`` enforces the app's auth levels with keys generated here (``host.keys``).
        """
        from .server.app import create_app

        if dashboard not in DASHBOARD_MODES:
            raise DevhostError(f"unknown dashboard mode '{dashboard}': use one of {', '.join(DASHBOARD_MODES)}")
        app_dir = Path(app_dir).resolve()
        environment = HostEnvironment()
        local_values = load_local_settings(app_dir)
        settings = load_host_settings(app_dir, hub_name)
        environment.provide(app_dir)
        if port:
            environment.provide_address(host, port)
        try:
            registry = load_app(app_dir)
            keys = _make_keys(auth, registry)
        except BaseException:
            environment.restore()
            raise
        fastdates.install()
        fastexecutor.install()
        the_clock = _make_clock(clock)
        emulators: list[azurite.AzuriteProcess] = []
        dispatcher: Dispatcher | None = None
        runner: web.AppRunner | None = None
        task: asyncio.Task[None] | None = None
        the_store: TaskHubStore | None = None
        triggers: TriggerRuntime | None = None
        switch_interval = worker.quicken_switching()
        try:
            triggers = TriggerRuntime(registry, settings.hub_name, the_clock)
            emulators = _ensure_emulators(
                app_dir, settings, local_values, required=isinstance(store, str) and store == "azurite"
            )
            the_store = _make_store(store, settings)
            log.info("%s", _backend_line(settings, the_store))
            await the_store.open()
            options = DispatcherOptions(
                max_activities=settings.max_concurrent_activities,
                max_orchestrations=settings.max_concurrent_orchestrations,
                park_unregistered=settings.backend.accepts_unregistered_orchestrators,
            )
            dispatcher = Dispatcher(the_store, the_clock, registry, options)
            dispatcher.schedules.append(triggers)
            app = create_app(registry, settings, the_store, the_clock, triggers, dashboard=dashboard, keys=keys)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
            await runner.setup()
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0][1]
            url = f"http://{host}:{bound}"
            environment.provide_address(host, bound)
            task = asyncio.ensure_future(dispatcher.run())
            await triggers.start(url)
            yield cls(registry, settings, the_store, the_clock, dispatcher, runner, url, triggers, keys)
        finally:
            if triggers is not None:
                await triggers.close()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if runner is not None:
                await runner.cleanup()
            if the_store is not None:
                await the_store.close()
            for emulator in emulators:
                emulator.stop()
            environment.restore()
            sys.setswitchinterval(switch_interval)

    async def wait_for_instance(
        self, instance_id: str, timeout: float = 30.0, *, until: frozenset[RuntimeStatus] | None = None
    ) -> dict[str, Any]:
        """Wait until the instance reaches a terminal status (or one of ``until``); its status.

        Returns the Durable status payload (as ``GET .../instances/{id}`` answers it).
        Raises ``TimeoutError`` with the last status seen.
        """
        from .server.status import status_payload

        wanted = until or frozenset(s for s in RuntimeStatus if s.is_terminal)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = await self.store.get_instance(instance_id)
            if last is not None and last.runtime_status in wanted:
                return status_payload(last)
            await asyncio.sleep(0.005)
        state = last.runtime_status.value if last else "not found"
        raise TimeoutError(f"instance {instance_id} did not finish within {timeout}s (status: {state})")

    def describe(self) -> str:
        """The startup banner: functions and their URLs, like ``func start`` prints."""
        from .server.app import HTTP_TRIGGERS

        lines = ["", "Functions:", ""]
        for name, methods, path in self.runner.app[HTTP_TRIGGERS].describe():
            lines.append(f"        {name}: [{methods}] {self.url}{path}")
        for kind, table in (
            ("orchestrationTrigger", self.registry.orchestrators),
            ("activityTrigger", self.registry.activities),
            ("entityTrigger", self.registry.entities),
        ):
            for function in table.values():
                lines.append(f"        {function.name}: {kind}")
        lines.extend(self.triggers.describe(self.url))
        for ignored in self.registry.ignored:
            lines.append(f"        {ignored}: not served by devhost")
        lines.append("")
        hub = self.hub_name if self.hub_name == self.store.hub_name else f"{self.hub_name} as {self.store.hub_name}"
        lines.append(f"Task hub: {hub} ({type(self.store).__name__})  Clock: {type(self.clock).__name__}")
        if self.dashboard_url:
            mode = " (read-only)" if self.runner.app[DASHBOARD].read_only else ""
            lines.append(f"Dashboard: {self.dashboard_url}{mode}")
        if self.keys is None:
            lines.append("Auth: open, auth levels not enforced (as with Core Tools); --auth keys enforces them")
        else:
            lines.append("Auth: keys (x-functions-key header or ?code=), generated for this run:")
            lines.extend(self.keys.describe())
        return "\n".join(lines)


def _make_keys(auth: str, registry: FunctionRegistry) -> HostKeys | None:
    if auth == "none":
        return None
    if auth == "keys":
        return HostKeys.generate(f.name for f in registry.http)
    raise DevhostError(f"unknown auth '{auth}': use one of {', '.join(AUTH_MODES)}")


def _make_clock(clock: str | Clock) -> Clock:
    if not isinstance(clock, str):
        return clock
    if clock == "virtual":
        return VirtualClock()
    if clock == "system":
        return SystemClock()
    raise DevhostError(f"unknown clock '{clock}': use 'system' or 'virtual'")


def _ensure_emulators(
    app_dir: Path, settings: HostSettings, local_values: dict[str, str], *, required: bool
) -> list[azurite.AzuriteProcess]:
    """Start Azurite on the ports of each emulator the task hub or the app's settings point at.

    The settings looked at: the storage setting (defaulted to the emulator only for a
    storage-backed store, ``required``) and every ``local.settings.json`` value, since the
    app's code may use them.  An emulator the task hub needs must start; one that only the
    app's settings name is a warning when it cannot.
    """
    name = settings.storage_connection_name
    if required and not os.environ.get(name):
        os.environ[name] = "UseDevelopmentStorage=true"
    wanted: dict[azurite.Endpoints, tuple[str, bool]] = {}
    for key in dict.fromkeys((name, *local_values)):
        endpoints = azurite.emulator_endpoints(os.environ.get(key))
        if endpoints is not None:
            must = wanted.get(endpoints, ("", False))[1] or (required and key == name)
            wanted[endpoints] = (key, must)
    started: list[azurite.AzuriteProcess] = []
    try:
        for endpoints, (key, must) in wanted.items():
            ports = "/".join(map(str, endpoints.ports))
            try:
                process = azurite.ensure_running(
                    app_dir / ".azurite", endpoints=endpoints, search_from=app_dir,
                    why=f"{key} points at the emulator on {endpoints.host} ports {ports}",
                )
            except DevhostError as exc:
                if must:
                    raise
                log.warning("%s; the app's calls to that storage will fail", exc)
                continue
            if process is not None:
                log.info("started Azurite on ports %s for %s (data in %s)", ports, key, process.location)
                started.append(process)
    except BaseException:
        for process in started:
            process.stop()
        raise
    return started


def _make_store(store: str | TaskHubStore, settings: HostSettings) -> TaskHubStore:
    if not isinstance(store, str):
        return store
    if store == "memory":
        return MemoryStore(settings.hub_name)
    if store == "azurite":
        from .store.azure import AzureStore

        value = os.environ.get(settings.storage_connection_name) or "UseDevelopmentStorage=true"
        hub = azure_storage_hub(settings.hub_name)
        return AzureStore.from_setting(hub, value, partition_count=settings.partition_count)
    raise DevhostError(f"unknown store '{store}': use one of {', '.join(STORES)}")


def _backend_line(settings: HostSettings, store: TaskHubStore) -> str:
    """The start-up line: the backend the app configured and what devhost runs instead."""
    backend = settings.backend
    if isinstance(store, MemoryStore):
        where = "devhost's memory store (nothing persists)"
    elif type(store).__name__ == "AzureStore":
        where = f"devhost's Azure Storage task hub '{store.hub_name}' in {settings.storage_connection_name}"
    else:
        where = f"the {type(store).__name__} store"
    line = (
        f"host.json asks for the {backend.title} backend (storageProvider.type '{backend.type}'); "
        f"task hub '{settings.hub_name}' runs on {where}"
    )
    if settings.backend_connection_name and settings.backend_connection_name != settings.storage_connection_name:
        line += f"; {settings.backend_connection_name} is not used"
    return line


def unique_hub_name(prefix: str = "test") -> str:
    """A task hub name no other test uses (letters and digits only)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"
