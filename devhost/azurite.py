"""Azurite, the local Azure Storage emulator: detect it, start it, stop it.

devhost starts Azurite itself whenever ``AzureWebJobsStorage`` points at the local emulator
and nothing answers there, and stops what it started on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import AzuriteError

ACCOUNT_NAME = "devstoreaccount1"
# The well-known development account key published in Azurite's documentation.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
HOST = "127.0.0.1"
PORTS = {"blob": 10000, "queue": 10001, "table": 10002}


def connection_string(host: str = HOST) -> str:
    """The explicit connection string equivalent to ``UseDevelopmentStorage=true``."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://{host}:{PORTS['blob']}/{ACCOUNT_NAME};"
        f"QueueEndpoint=http://{host}:{PORTS['queue']}/{ACCOUNT_NAME};"
        f"TableEndpoint=http://{host}:{PORTS['table']}/{ACCOUNT_NAME};"
    )


def expand_connection_string(value: str) -> str:
    """Replace the ``UseDevelopmentStorage=true`` shorthand by the full emulator string."""
    if value.replace(" ", "").lower().startswith("usedevelopmentstorage=true"):
        return connection_string()
    return value


def is_emulator(value: str | None) -> bool:
    """True when a connection string targets the local emulator."""
    if not value:
        return False
    v = value.replace(" ", "").lower()
    return v.startswith("usedevelopmentstorage=true") or ACCOUNT_NAME in v


def is_listening(host: str = HOST, ports: tuple[int, ...] = tuple(PORTS.values())) -> bool:
    """True when every Azurite port accepts a TCP connection."""
    for port in ports:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) != 0:
                return False
    return True


def find_executable(search_from: Path | None = None) -> str | None:
    """``node_modules/.bin/azurite`` in this directory or a parent, else ``azurite`` on PATH."""
    start = (search_from or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        candidate = folder / "node_modules" / ".bin" / "azurite"
        if candidate.exists():
            return str(candidate)
    here = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "azurite"
    if here.exists():
        return str(here)
    return shutil.which("azurite")


@dataclass
class AzuriteProcess:
    """An Azurite we started; ``stop()`` ends it."""

    process: subprocess.Popen[bytes]
    location: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(location: Path, *, search_from: Path | None = None, timeout: float = 30.0) -> AzuriteProcess:
    """Start Azurite with data under ``location`` and wait until all three services answer."""
    exe = find_executable(search_from)
    if exe is None:
        raise AzuriteError(
            "Azurite is not installed. Install Node.js, then run `npm install` in the project "
            "(package.json pins azurite), or `npm install -g azurite`."
        )
    location.mkdir(parents=True, exist_ok=True)
    log = open(location / "azurite.log", "ab")  # noqa: SIM115 - handed to the child process
    args = [
        exe, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
        "--location", str(location),
        "--blobHost", HOST, "--queueHost", HOST, "--tableHost", HOST,
    ]
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_listening():
            return AzuriteProcess(process, location)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    with contextlib.suppress(Exception):
        process.kill()
    tail = (location / "azurite.log").read_text(errors="replace")[-2000:]
    raise AzuriteError(
        f"Azurite did not start within {timeout:.0f}s (log: {location / 'azurite.log'}):\n{tail}"
    )


def ensure_running(location: Path, *, search_from: Path | None = None) -> AzuriteProcess | None:
    """Start Azurite unless it already answers; returns the process we started, if any."""
    if is_listening():
        return None
    return start(location, search_from=search_from)


def storage_connection_string() -> str:
    """``AzureWebJobsStorage`` from the environment, expanded; the emulator when unset."""
    return expand_connection_string(os.environ.get("AzureWebJobsStorage") or "UseDevelopmentStorage=true")
