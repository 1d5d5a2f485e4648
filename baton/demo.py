"""The main job: start devhost (which starts Azurite), run one workflow, print the report, stop.

devhost runs as a child process (``python -m devhost start``); this module only talks to it
over HTTP, like every other baton command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
import tempfile
from pathlib import Path

import aiohttp
from rich.console import Console

from .commands import EXIT_USAGE, run_workflow

READY_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until_ready(url: str, process: asyncio.subprocess.Process) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
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


async def run_demo(args: argparse.Namespace, console: Console) -> int:
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="devhost-", suffix=".log", delete=False)  # noqa: SIM115
    console.print(f"starting devhost ({args.store} store) on {url}; log: {log.name}")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devhost", "start", str(Path.cwd()), "--port", str(port), "--store", args.store,
        stdout=log, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        if not await wait_until_ready(url, process):
            console.print("[red]devhost did not start[/red]; its output:")
            console.print(Path(log.name).read_text(errors="replace")[-4000:], highlight=False, markup=False)
            return EXIT_USAGE
        args.url, args.wait, args.interval, args.timeout = url, True, 0.25, 600.0
        return await run_workflow(args, console)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        console.print("devhost stopped")
