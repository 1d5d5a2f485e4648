"""``baton run|status|graph|workflows|approve|reject|terminate|list|serve|demo``.

The CLI keeps no list of workflows: the server names them (``workflows``, ``GET /api/definitions``)
and answers 404 with the known names for any other.
"""

from __future__ import annotations

import argparse
import asyncio

from rich.console import Console
from rich.markup import escape

from . import hints
from .client import ApiError
from .commands import (
    EXIT_FAILED,
    EXIT_USAGE,
    decide,
    list_instances,
    list_workflows,
    run_workflow,
    show_graph,
    show_status,
    terminate,
)
from .demo import run_demo
from .serve import serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=hints.program(), description="Run and follow baton workflows.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="API base URL (default: $BATON_URL, else the devhost that `make serve` / "
                        "`devhost start` runs here (.devhost/endpoint.json), else http://localhost:7071)")
    common.add_argument("--key", help="function key (default: $BATON_FUNCTION_KEY)")
    common.add_argument("--json", action="store_true", help="print the final status as JSON")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[common], help="start a workflow and follow it")
    run.add_argument("workflow", help="a workflow name (see: python -m baton workflows)")
    run.add_argument("--input", "-i", required=True,
                     help="the request: a .json file (a JSON object), a text file, or - for stdin")
    run.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True)
    run.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    run.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
    status = sub.add_parser("status", parents=[common], help="show an instance")
    status.add_argument("instance_id")
    graph = sub.add_parser("graph", parents=[common], help="print an instance's graph (mermaid, node states)")
    graph.add_argument("instance_id")
    sub.add_parser("workflows", parents=[common], help="the workflows the server offers")
    for name in ("approve", "reject"):
        decision = sub.add_parser(name, parents=[common], help=f"{name} an approval workflow")
        decision.add_argument("instance_id")
        decision.add_argument("--by", default="cli")
        decision.add_argument("--comment", default="")
    stop = sub.add_parser("terminate", parents=[common], help="terminate a running instance")
    stop.add_argument("instance_id")
    stop.add_argument("--reason", default="terminated from the CLI")
    listing = sub.add_parser("list", parents=[common], help="recent instances")
    listing.add_argument("--status", help="e.g. Running or Running,Failed")
    listing.add_argument("--top", type=int, default=20)
    serving = sub.add_parser("serve", help="run this app in devhost (what `make serve` does) and print how to call it")
    serving.add_argument("--port", type=int, default=7071)
    serving.add_argument("--store", default="azurite", choices=("azurite", "memory"))
    serving.add_argument("--app-dir", default=".", help="folder with function_app.py (default: .)")
    demo = sub.add_parser("demo", parents=[common], help="start devhost + Azurite, run one workflow, stop")
    demo.add_argument("--workflow", default="pipeline")
    demo.add_argument("--input", "-i", default="examples/review.json")
    demo.add_argument("--port", type=int, default=0, help="devhost port (default: a free one)")
    demo.add_argument("--store", default="azurite", choices=("azurite", "memory"))
    return parser


COMMANDS = {"run": run_workflow, "status": show_status, "graph": show_graph, "workflows": list_workflows,
            "approve": decide, "reject": decide, "terminate": terminate, "list": list_instances}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=getattr(args, "json", False))
    try:
        if args.command == "serve":
            return asyncio.run(serve(args, console))
        if args.command == "demo":
            return asyncio.run(run_demo(args, console))
        return asyncio.run(COMMANDS[args.command](args, console))
    except ApiError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return EXIT_USAGE if exc.status < 500 else EXIT_FAILED
    except (OSError, ValueError, TimeoutError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return EXIT_USAGE
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl+C, SIGTERM
        return 130
