"""Start devhost as a child process (``python -m devhost start``) and wait until it answers.

baton never imports devhost: it runs it, as a user would, and talks to it over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

READY_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


async def start_devhost(app_dir: Path, port: int, store: str, **streams: Any) -> asyncio.subprocess.Process:
    """``devhost start`` for ``app_dir`` in its own session: a Ctrl+C reaches it only through :func:`stop`.

    SIGTERM and SIGHUP then cancel the calling task (as Ctrl+C does), so its ``finally`` stops the child.
    """
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(sig, task.cancel)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devhost", "start", str(app_dir), "--port", str(port), "--store", store,
        start_new_session=True, **streams,
    )


async def wait_until_ready(url: str, process: asyncio.subprocess.Process, timeout: float = READY_TIMEOUT) -> bool:
    """True once ``url`` answers 200; False when the process ends first or time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while loop.time() < deadline:
            if process.returncode is not None:
                return False
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(url + "/") as response:
                    if response.status == 200:
                        return True
            await asyncio.sleep(0.2)
    return False


async def stop(process: asyncio.subprocess.Process, grace: float = 30.0) -> int:
    """Ask devhost to stop as Ctrl+C does (SIGINT), kill it if it hangs; returns its exit code."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            process.kill()
            await process.wait()
    return process.returncode if process.returncode is not None else -1
