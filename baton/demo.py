"""The main job: start devhost (which starts Azurite), run one workflow, print the report, stop.

devhost runs as a child process (``python -m devhost start``); this module only talks to it
over HTTP, like every other baton command.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from rich.console import Console

from .commands import EXIT_USAGE, run_workflow
from .launch import free_port, start_devhost, stop, wait_until_ready


async def run_demo(args: argparse.Namespace, console: Console) -> int:
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="devhost-", suffix=".log", delete=False)  # noqa: SIM115
    console.print(f"starting devhost ({args.store} store) on {url}; log: {log.name}")
    process = await start_devhost(Path.cwd(), port, args.store, stdout=log, stderr=asyncio.subprocess.STDOUT)
    try:
        if not await wait_until_ready(url, process):
            console.print("[red]devhost did not start[/red]; its output:")
            console.print(Path(log.name).read_text(errors="replace")[-4000:], highlight=False, markup=False)
            return EXIT_USAGE
        args.url, args.wait, args.interval, args.timeout = url, True, 0.25, 600.0
        return await run_workflow(args, console)
    finally:
        await stop(process)
        console.print("devhost stopped")

