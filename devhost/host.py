"""DevHost: one running local Functions host (app + HTTP server + dispatcher + task hub)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from . import azurite
from .clock import Clock, SystemClock, VirtualClock
from .engine import fastdates
from .engine.dispatcher import Dispatcher, DispatcherOptions
from .errors import DevhostError
from .keys import HostKeys
from .loader import FunctionRegistry, load_app
from .settings import HostSettings, load_host_settings, load_local_settings
from .store.base import RuntimeStatus, TaskHubStore
from .store.memory import MemoryStore

log = logging.getLogger("devhost")

STORES = ("memory", "azurite")
AUTH_MODES = ("none", "keys")


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
        keys: HostKeys | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.store = store
        self.clock = clock
        self.dispatcher = dispatcher
        self.runner = runner
        self.url = url
        self.keys = keys

    @property
    def hub_name(self) -> str:
        return self.store.hub_name

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
        auth: str = "none",
    ) -> AsyncIterator[DevHost]:
        """Load the app, open the task hub, serve HTTP and dispatch work until the block exits.

        ``auth="keys"`` enforces the app's auth levels with keys generated here (``host.keys``).
        """
        from .server.app import create_app

        app_dir = Path(app_dir).resolve()
        local_values = load_local_settings(app_dir)
        settings = load_host_settings(app_dir, hub_name)
        registry = load_app(app_dir)
        keys = _make_keys(auth, registry)
        fastdates.install()
        the_clock = _make_clock(clock)
        emulators = _ensure_emulators(
            app_dir, settings, local_values, required=isinstance(store, str) and store == "azurite"
        )
        the_store = _make_store(store, settings)
        dispatcher: Dispatcher | None = None
        runner: web.AppRunner | None = None
        task: asyncio.Task[None] | None = None
        try:
            await the_store.open()
            options = DispatcherOptions(
                max_activities=settings.max_concurrent_activities,
                max_orchestrations=settings.max_concurrent_orchestrations,
            )
            dispatcher = Dispatcher(the_store, the_clock, registry, options)
            app = create_app(registry, settings, the_store, the_clock, keys)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0][1]
            url = f"http://{host}:{bound}"
            task = asyncio.ensure_future(dispatcher.run())
            yield cls(registry, settings, the_store, the_clock, dispatcher, runner, url, keys)
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if runner is not None:
                await runner.cleanup()
            await the_store.close()
            for emulator in emulators:
                emulator.stop()

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
        for ignored in self.registry.ignored:
            lines.append(f"        {ignored}: not served by devhost")
        lines.append("")
        lines.append(f"Task hub: {self.hub_name} ({type(self.store).__name__})  Clock: {type(self.clock).__name__}")
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
        return AzureStore.from_setting(settings.hub_name, value, partition_count=settings.partition_count)
    raise DevhostError(f"unknown store '{store}': use one of {', '.join(STORES)}")


def unique_hub_name(prefix: str = "test") -> str:
    """A task hub name no other test uses (letters and digits only)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"
