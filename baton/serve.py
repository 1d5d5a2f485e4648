"""``baton serve`` (``make serve``): run the app in devhost until Ctrl+C, and say how to call it.

devhost's own output goes straight to the terminal; once the app answers, this prints its URL and
the exact commands that work against it from this folder (the CLI finds this devhost through the
discovery file devhost writes, and hints add ``--url`` anyway when the port is not the default).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
from pathlib import Path

from rich.console import Console

from . import hints
from .endpoint import Endpoint
from .launch import port_in_use, start_devhost, stop, wait_until_ready

EXAMPLE = Path("examples") / "review.json"


async def serve(args: argparse.Namespace, console: Console) -> int:
    url = f"http://127.0.0.1:{args.port}"
    app_dir = Path(args.app_dir)
    if port_in_use(args.port):
        console.print(f"[red]error:[/red] port {args.port} is in use (another `make serve`?); "
                      f"choose another with --port {args.port + 1} "
                      f"(make serve PORT={args.port + 1})", highlight=False)
        return 2
    process = await start_devhost(app_dir, args.port, args.store)
    try:
        if not await wait_until_ready(url, process):
            console.print("[red]devhost did not start[/red] (its output is above)")
            return 2
        print_usage(console, url, app_dir)
        return await process.wait()
    except asyncio.CancelledError:  # Ctrl+C: asyncio.run cancels this task
        return 0
    finally:
        await stop(process)


def print_usage(console: Console, url: str, app_dir: Path) -> None:
    endpoint = Endpoint(url, "serve")
    example = app_dir / EXAMPLE
    run = hints.command("run", "parallel", "--input", str(example) if example.is_file() else "-", endpoint=endpoint)
    lines = [
        f"baton API: {url}/api/workflows   (Ctrl+C to stop)",
        "in another shell, from this folder:",
        "  " + (run if example.is_file() else f"echo 'Sales rose 12% this quarter.' | {run}"),
        "  " + hints.command("list", endpoint=endpoint),
        f"  curl -X POST {url}/api/workflows/parallel -H 'content-type: application/json' "
        + "-d " + shlex.quote('{"text": "Our quarterly numbers beat expectations."}'),
    ]
    console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)
