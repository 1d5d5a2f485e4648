"""``python -m baton run|status|approve|reject|terminate|list|demo``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from . import hints
from .client import ApiError, BatonClient
from .display import ProgressView, print_report
from .endpoint import Endpoint
from .serve import serve

WORKFLOWS = ("sequential", "parallel", "pipeline", "approval")
SUCCESS = {"succeeded", "degraded", "approved"}
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class InputFileError(ValueError):
    """The input file cannot be used as a request (exit 2)."""


def read_request(source: str) -> dict[str, Any]:
    """The request body from a file or ``-`` (stdin): a JSON object, or plain text as ``{"text": ...}``.

    A ``.json`` file, or stdin / a file without an extension whose content starts with ``{``, must
    be valid JSON: a malformed one is refused with the parser's message, line and column rather
    than sent as text. Other files (``.txt``, ``.md``...) are text.
    """
    name = "<stdin>" if source == "-" else source
    raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    suffix = "" if source == "-" else Path(source).suffix.lower()
    if suffix != ".json" and (suffix or not raw.lstrip().startswith("{")):
        return {"text": raw}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        lines = raw.splitlines()
        line = lines[exc.lineno - 1] if exc.lineno <= len(lines) else ""
        raise InputFileError(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}\n"
                             f"  {line}\n  {' ' * (exc.colno - 1)}^") from None
    if not isinstance(body, dict):
        raise InputFileError(f"{name}: the input must be a JSON object such as {{\"text\": \"...\"}}, "
                             f"not a JSON {type(body).__name__}")
    return body


def exit_code(status: dict[str, Any]) -> int:
    output = status.get("output")
    if status.get("runtimeStatus") == "Completed" and isinstance(output, dict) and output.get("outcome") in SUCCESS:
        return EXIT_OK
    return EXIT_FAILED


async def run_workflow(args: argparse.Namespace, console: Console) -> int:
    request = read_request(args.input)
    async with BatonClient(args.url, args.key) as api:
        started = await api.start(args.workflow, request)
        instance_id = started["id"]
        console.print(f"started {args.workflow} instance [bold]{instance_id}[/bold]")
        if not args.wait:
            console.print(f"status URL: {started.get('workflowStatusUri', started.get('statusQueryGetUri'))}",
                          highlight=False, markup=False, soft_wrap=True)
            print_next_steps(console, args, api.endpoint, instance_id, ("status", "approve", "reject"))
            return EXIT_OK
        print_next_steps(console, args, api.endpoint, instance_id, ("approve", "reject"))
        with ProgressView(console, instance_id) as view:
            status = await api.wait(instance_id, view.update, interval=args.interval, timeout=args.timeout)
    return finish(status, args, console)


def print_next_steps(console: Console, args: argparse.Namespace, endpoint: Endpoint, instance_id: str,
                     commands: tuple[str, ...]) -> None:
    """The follow-up commands, exactly as they work from here (``--url`` when not the default)."""
    for name in commands:
        if name in ("approve", "reject") and args.workflow != "approval":
            continue
        console.print(f"{name + ':':<9}{hints.command(name, instance_id, endpoint=endpoint)}",
                      highlight=False, markup=False, soft_wrap=True)
    if args.key:
        console.print("(add --key with your function key, or set $BATON_FUNCTION_KEY)", highlight=False)


def finish(status: dict[str, Any], args: argparse.Namespace, console: Console) -> int:
    if args.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
    else:
        print_report(console, status)
    return exit_code(status)


async def show_status(args: argparse.Namespace, console: Console) -> int:
    async with BatonClient(args.url, args.key) as api:
        status = await api.status(args.instance_id)
    if status.get("runtimeStatus") in ("Completed", "Failed", "Terminated", "Canceled"):
        return finish(status, args, console)
    print(json.dumps(status, indent=2, ensure_ascii=False))
    return EXIT_OK


async def decide(args: argparse.Namespace, console: Console) -> int:
    approved = args.command == "approve"
    async with BatonClient(args.url, args.key) as api:
        await api.raise_event(args.instance_id, "approval", {"approved": approved, "by": args.by,
                                                               "comment": args.comment})
    console.print(f"{'approved' if approved else 'rejected'} {args.instance_id}")
    return EXIT_OK


async def terminate(args: argparse.Namespace, console: Console) -> int:
    async with BatonClient(args.url, args.key) as api:
        await api.terminate(args.instance_id, args.reason)
    console.print(f"termination requested for {args.instance_id}")
    return EXIT_OK


async def list_instances(args: argparse.Namespace, console: Console) -> int:
    async with BatonClient(args.url, args.key) as api:
        found = await api.list(args.status, args.top)
    if args.json:
        print(json.dumps(found, indent=2))
        return EXIT_OK
    from rich.table import Table

    table = Table("id", "workflow", "status", "stage", "created", title=f"{found['count']} instances")
    for item in found["instances"]:
        table.add_row(item["id"], str(item.get("workflow")), str(item.get("runtimeStatus")),
                      str((item.get("progress") or {}).get("stage", "")), str(item.get("createdTime", "")))
    console.print(table)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=hints.program(), description="Run and follow baton workflows.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="API base URL (default: $BATON_URL, else the devhost that `make serve` / "
                        "`devhost start` runs here (.devhost/endpoint.json), else http://localhost:7071)")
    common.add_argument("--key", help="function key (default: $BATON_FUNCTION_KEY)")
    common.add_argument("--json", action="store_true", help="print the final status as JSON")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[common], help="start a workflow and follow it")
    run.add_argument("workflow", choices=WORKFLOWS)
    run.add_argument("--input", "-i", required=True,
                     help="the request: a .json file (a JSON object), a text file, or - for stdin")
    run.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True)
    run.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    run.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
    status = sub.add_parser("status", parents=[common], help="show an instance")
    status.add_argument("instance_id")
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
    demo.add_argument("--workflow", choices=WORKFLOWS, default="pipeline")
    demo.add_argument("--input", "-i", default="examples/review.json")
    demo.add_argument("--port", type=int, default=0, help="devhost port (default: a free one)")
    demo.add_argument("--store", default="azurite", choices=("azurite", "memory"))
    return parser


COMMANDS = {"run": run_workflow, "status": show_status, "approve": decide, "reject": decide,
            "terminate": terminate, "list": list_instances}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=getattr(args, "json", False))
    try:
        if args.command == "serve":
            return asyncio.run(serve(args, console))
        if args.command == "demo":
            from .demo import run_demo

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
