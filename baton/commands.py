"""The CLI's commands: each takes the parsed arguments and a console and returns the exit code.

They talk to the API over HTTP only (:class:`~baton.client.BatonClient`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from . import hints
from .client import BatonClient
from .display import ProgressView, progress_panel
from .endpoint import Endpoint
from .report import print_report

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
        console.print(Text.assemble(f"started {args.workflow} instance ", (instance_id, "bold")))
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
    if args.json or status.get("runtimeStatus") in ("Completed", "Failed", "Terminated", "Canceled"):
        return finish(status, args, console)
    console.print(progress_panel(status, args.instance_id))
    if (status.get("progress") or {}).get("waiting"):
        args.workflow = status.get("workflow")
        print_next_steps(console, args, api.endpoint, args.instance_id, ("approve", "reject"))
    return EXIT_OK


async def show_graph(args: argparse.Namespace, console: Console) -> int:
    async with BatonClient(args.url, args.key) as api:
        print(await api.graph(args.instance_id), end="")
    return EXIT_OK


async def list_workflows(args: argparse.Namespace, console: Console) -> int:
    async with BatonClient(args.url, args.key) as api:
        found = await api.definitions()
    if args.json:
        print(json.dumps(found, indent=2))
        return EXIT_OK
    from rich.table import Table

    table = Table("workflow", "agents", "description", title=f"{found['count']} workflows")
    for item in found["workflows"]:
        table.add_row(Text(item["name"]), Text(", ".join(item["agents"])), Text(item["description"]))
    console.print(table)
    return EXIT_OK


async def decide(args: argparse.Namespace, console: Console) -> int:
    approved = args.command == "approve"
    async with BatonClient(args.url, args.key) as api:
        await api.raise_event(args.instance_id, "approval", {"approved": approved, "by": args.by,
                                                               "comment": args.comment})
    console.print(Text(f"{'approved' if approved else 'rejected'} {args.instance_id} (by {args.by}"
                       + (f": {args.comment}" if args.comment else "") + "); the workflow continues"))
    console.print(f"{'report:':<9}{hints.command('status', args.instance_id, endpoint=api.endpoint)}",
                  highlight=False, markup=False, soft_wrap=True)
    return EXIT_OK


async def terminate(args: argparse.Namespace, console: Console) -> int:
    async with BatonClient(args.url, args.key) as api:
        await api.terminate(args.instance_id, args.reason)
    console.print(Text(f"termination requested for {args.instance_id}"))
    return EXIT_OK


async def list_instances(args: argparse.Namespace, console: Console) -> int:
    async with BatonClient(args.url, args.key) as api:
        found = await api.list(args.status, args.top)
    if args.json:
        print(json.dumps(found, indent=2))
        return EXIT_OK
    from rich.table import Table

    table = Table("id", "workflow", "status", "stage", "created", title=f"{found['count']} instances")
    ids = table.columns[0]  # ids stay whole: they are copied into approve / status / graph
    ids.no_wrap, ids.overflow = True, "ignore"
    ids.min_width = max((len(item["id"]) for item in found["instances"]), default=2)
    for item in found["instances"]:
        cells = (item["id"], item.get("workflow"), item.get("runtimeStatus"),
                 (item.get("progress") or {}).get("stage", ""), item.get("createdTime", ""))
        table.add_row(*(Text(str(cell)) for cell in cells))  # Text: a [tag] in a value is shown, not styled
    console.print(table)
    return EXIT_OK


