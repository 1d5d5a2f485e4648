"""Azurite, the local Azure Storage emulator: detect it from a connection string, start it, stop it.

A connection string targets the emulator when it says ``UseDevelopmentStorage=true`` or names
the ``devstoreaccount1`` account with endpoints on this machine (127.0.0.1, localhost, ::1);
its endpoints give the ports Azurite must listen on.  devhost starts Azurite on exactly those
ports when nothing answers there, and stops what it started on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import AzuriteError

ACCOUNT_NAME = "devstoreaccount1"
# The well-known development account key published in Azurite's documentation.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
HOST = "127.0.0.1"
PORTS = {"blob": 10000, "queue": 10001, "table": 10002}
SERVICES = tuple(PORTS)
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
_CHECKOUT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Endpoints:
    """Where an emulator listens: one host, a port per service."""

    blob: int = PORTS["blob"]
    queue: int = PORTS["queue"]
    table: int = PORTS["table"]
    host: str = HOST

    @property
    def ports(self) -> tuple[int, int, int]:
        return (self.blob, self.queue, self.table)

    @property
    def is_default(self) -> bool:
        return self == DEFAULT_ENDPOINTS


DEFAULT_ENDPOINTS = Endpoints()


def connection_string(host: str = HOST, endpoints: Endpoints = DEFAULT_ENDPOINTS) -> str:
    """The explicit connection string of an emulator (``UseDevelopmentStorage=true`` by default)."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://{host}:{endpoints.blob}/{ACCOUNT_NAME};"
        f"QueueEndpoint=http://{host}:{endpoints.queue}/{ACCOUNT_NAME};"
        f"TableEndpoint=http://{host}:{endpoints.table}/{ACCOUNT_NAME};"
    )


def parse_connection_string(value: str) -> dict[str, str]:
    """``Key=Value;...`` as a dict with lower-case keys (values keep their case)."""
    parts: dict[str, str] = {}
    for item in value.split(";"):
        key, sep, val = item.partition("=")
        if sep:
            parts[key.strip().lower()] = val.strip()
    return parts


def expand_connection_string(value: str) -> str:
    """Replace the ``UseDevelopmentStorage=true`` shorthand by the full emulator string."""
    if parse_connection_string(value).get("usedevelopmentstorage", "").lower() == "true":
        return connection_string()
    return value


def emulator_endpoints(value: str | None) -> Endpoints | None:
    """The local emulator endpoints a connection string targets; ``None`` if it targets none."""
    if not value:
        return None
    parts = parse_connection_string(value)
    if parts.get("usedevelopmentstorage", "").lower() == "true":
        return DEFAULT_ENDPOINTS
    if parts.get("accountname") != ACCOUNT_NAME:
        return None
    given = {s: parts[f"{s}endpoint"] for s in SERVICES if parts.get(f"{s}endpoint")}
    if not given:
        return None  # the SDKs would go to devstoreaccount1.<service>.core.windows.net
    ports = dict(PORTS)
    for service, url in given.items():
        split = urlsplit(url)
        if (split.hostname or "").lower() not in _LOOPBACK:
            return None  # an emulator elsewhere (a container, another machine): not ours to start
        try:
            ports[service] = split.port or (443 if split.scheme == "https" else 80)
        except ValueError:
            return None
    return Endpoints(ports["blob"], ports["queue"], ports["table"])


def is_emulator(value: str | None) -> bool:
    """True when a connection string targets an emulator on this machine."""
    return emulator_endpoints(value) is not None


def is_listening(host: str = HOST, ports: tuple[int, ...] = DEFAULT_ENDPOINTS.ports) -> bool:
    """True when every port accepts a TCP connection."""
    for port in ports:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) != 0:
                return False
    return True


def find_command(
    search_from: Path | None = None, *, checkout: Path | None = None, path: str | None = None
) -> list[str] | None:
    """How to run Azurite here, first found of:

    ``node_modules/.bin/azurite`` in ``search_from`` (the app) or a parent, in devhost's own
    checkout, ``azurite`` on ``PATH`` (``npm install -g azurite``), then ``npx --yes azurite``
    (downloads it on first use).  ``None`` without Node.js (``node`` on ``PATH``), which all need.
    """
    if shutil.which("node", path=path) is None:
        return None
    start = (search_from or Path.cwd()).resolve()
    for folder in (start, *start.parents, checkout or _CHECKOUT):
        candidate = folder / "node_modules" / ".bin" / "azurite"
        if candidate.exists():
            return [str(candidate)]
    on_path = shutil.which("azurite", path=path)
    if on_path:
        return [on_path]
    npx = shutil.which("npx", path=path)
    return [npx, "--yes", "azurite"] if npx else None


NOT_FOUND = (
    "Azurite (the Azure Storage emulator, a Node.js tool) cannot run here (no `node` on PATH, or no "
    "Azurite and no npx), and {why}. Install Node.js 18+, "
    "then either `npm install azurite` in your project, `npm install -g azurite`, or let devhost run it "
    "through `npx` (on PATH with Node.js). Or start Azurite yourself on ports {ports}, or point the "
    "setting at a storage account."
)


@dataclass
class AzuriteProcess:
    """An Azurite we started; ``stop()`` ends it."""

    process: subprocess.Popen[bytes]
    location: Path
    endpoints: Endpoints = DEFAULT_ENDPOINTS

    def stop(self) -> None:
        """End Azurite and anything it started (``npx`` runs it as a child): its whole process group."""
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)  # started with start_new_session: the group is ours


def start(
    location: Path,
    *,
    endpoints: Endpoints = DEFAULT_ENDPOINTS,
    search_from: Path | None = None,
    timeout: float | None = None,
    why: str = "the storage setting points at the emulator",
    in_memory: bool = False,
) -> AzuriteProcess:
    """Start Azurite on ``endpoints`` with data under ``location`` (``in_memory``: only its log;
    the data lives in memory, never saved); wait until all three answer."""
    command = find_command(search_from)
    ports = "/".join(str(p) for p in endpoints.ports)
    if command is None:
        raise AzuriteError(NOT_FOUND.format(why=why, ports=ports))
    if timeout is None:
        timeout = 180.0 if "--yes" in command else 30.0  # npx may download Azurite first
    location.mkdir(parents=True, exist_ok=True)
    log = open(location / "azurite.log", "ab")  # noqa: SIM115 - handed to the child process
    args = [
        *command, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
        *(["--inMemoryPersistence"] if in_memory else ["--location", str(location)]),
        "--blobHost", endpoints.host, "--queueHost", endpoints.host, "--tableHost", endpoints.host,
        "--blobPort", str(endpoints.blob), "--queuePort", str(endpoints.queue), "--tablePort", str(endpoints.table),
    ]
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_listening(endpoints.host, endpoints.ports):
            return AzuriteProcess(process, location, endpoints)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    with contextlib.suppress(Exception):
        process.kill()
    tail = (location / "azurite.log").read_text(errors="replace")[-2000:]
    raise AzuriteError(
        f"Azurite ({' '.join(command)}) did not start on ports {ports} within {timeout:.0f}s "
        f"(log: {location / 'azurite.log'}):\n{tail}"
    )


def ensure_running(
    location: Path, *, endpoints: Endpoints = DEFAULT_ENDPOINTS, search_from: Path | None = None, why: str = ""
) -> AzuriteProcess | None:
    """Start Azurite unless it already answers on ``endpoints``; returns the process we started."""
    if is_listening(endpoints.host, endpoints.ports):
        return None
    if not endpoints.is_default:
        location = location / "ports-{}-{}-{}".format(*endpoints.ports)  # separate data per port set
    return start(location, endpoints=endpoints, search_from=search_from, why=why or "nothing answers on those ports")


def storage_connection_string() -> str:
    """``AzureWebJobsStorage`` from the environment, expanded; the emulator when unset."""
    return expand_connection_string(os.environ.get("AzureWebJobsStorage") or "UseDevelopmentStorage=true")
