"""``python -m devhost start [APP_DIR] [--port 7071] [--store azurite|memory]``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from . import discovery, worker
from .errors import DevhostError
from .host import AUTH_MODES, STORES, DevHost


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(fmt: str, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("azure.core.pipeline.policies.http_logging_policy", "azure.identity", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="devhost", description="Local host for Durable Functions apps.")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="serve an app's functions and run its orchestrations")
    start.add_argument("app_dir", nargs="?", default=".", help="folder with function_app.py (default: .)")
    start.add_argument("--port", type=int, default=7071)
    start.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    start.add_argument("--store", choices=STORES, default="azurite", help="task hub store (default: azurite)")
    start.add_argument("--hub", default=None, help="task hub name (default: host.json hubName)")
    start.add_argument("--auth", choices=AUTH_MODES, default="none",
                       help="none: open, as with Core Tools (default); keys: enforce auth levels with printed keys")
    dashboard = start.add_mutually_exclusive_group()
    dashboard.add_argument("--dashboard", choices=("on", "read-only"), default="on",
                           help="the browser dashboard at /_devhost/ (default: on)")
    dashboard.add_argument("--no-dashboard", dest="dashboard", action="store_const", const="off",
                           help="do not serve the dashboard")
    start.add_argument("--log-format", choices=("text", "json"), default="text")
    start.add_argument("--verbose", "-v", action="store_true")
    return parser


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    stopper = _Stopper(asyncio.get_running_loop(), stop)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stopper)
    async with DevHost.start(
        Path(args.app_dir), store=args.store, host=args.host, port=args.port, hub_name=args.hub,
        dashboard=args.dashboard, auth=args.auth,
    ) as host:
        print(host.describe(), flush=True)
        _settle_memory()
        endpoint = discovery.write(Path(args.app_dir).resolve(), host.url, hub=host.hub_name, store=args.store)
        try:
            print(f"devhost is listening on {host.url} (Ctrl+C to stop); URL saved in {endpoint}", flush=True)
            stopper.serving, stopper.endpoint = True, endpoint
            await stop.wait()
            print("devhost: shutting down", flush=True)
        finally:
            discovery.remove(endpoint)


def _settle_memory() -> None:
    """Collect once, then exempt everything loaded so far (the app, the SDKs) from garbage
    collection: a full collection then walks only what the running host allocates, instead of
    pausing every function for 30-60 ms to walk ~150,000 objects that live as long as the process."""
    gc.collect()
    gc.freeze()


class _Stopper:
    """Ctrl-C / SIGTERM: while starting, interrupt whatever runs (an app import may block the
    loop); once serving, stop gracefully; a second signal during the stop leaves at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
        self.loop = loop
        self.stop = stop
        self.serving = False
        self.endpoint: Path | None = None  # the discovery file, removed even on an immediate exit

    def __call__(self, signum: int, frame: object) -> None:
        if not self.serving:
            raise KeyboardInterrupt
        if self.stop.is_set():
            if self.endpoint is not None:
                discovery.remove(self.endpoint)
            print("devhost: stopped at once", file=sys.stderr, flush=True)
            os._exit(130)
        self.loop.call_soon_threadsafe(self.stop.set)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_format, args.verbose)
    code = 0
    try:
        asyncio.run(serve(args))
    except (DevhostError, OSError) as exc:
        print(f"devhost: error: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("devhost: interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:  # anything else in the user's app or settings: one line, no traceback
        print(f"devhost: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 2
    return _exit_now(code) if worker.running_calls() else code


def _exit_now(code: int) -> int:
    """Leave without joining threads still blocked in user code (their work items were handed back)."""
    print(f"devhost: abandoned {worker.running_calls()} function call(s) still running", file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
