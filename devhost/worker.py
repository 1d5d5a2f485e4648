"""Call user functions the way the Python worker does.

The worker runs every ``async def`` function on one long-lived event loop (the SDK keeps a
module-global aiohttp session and lock bound to the first loop that uses them) and every
synchronous function in a thread pool.  devhost has one such loop per process, on its own
thread, shared by every host started in the process, so user code never runs on (or blocks)
the loop that serves HTTP.

Orchestrator replays are the exception: while small, they run on the host's loop
(:mod:`devhost.engine.placement`), as a pool thread would only take the same interpreter lock.

Those threads share one interpreter lock with the host's own loop, where the real host runs in
a process of its own: :func:`quicken_switching` lowers the interpreter's switch interval
(``DEVHOST_SWITCH_INTERVAL`` seconds, default 0.001; ``0`` leaves Python's 0.005) so a thread
that finished a function does not wait up to 5 ms for the loop to let go.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pool: ThreadPoolExecutor | None = None
_running = 0  # user calls still executing on a pool thread (a stop does not wait for them)


SWITCH_INTERVAL = 0.001


def quicken_switching() -> float:
    """Apply ``DEVHOST_SWITCH_INTERVAL``; the interval before (to restore it on stop)."""
    previous = sys.getswitchinterval()
    raw = os.environ.get("DEVHOST_SWITCH_INTERVAL", "").strip()
    try:
        seconds = float(raw) if raw else SWITCH_INTERVAL
    except ValueError:
        seconds = SWITCH_INTERVAL
    if seconds > 0:
        sys.setswitchinterval(seconds)
    return previous


def _worker_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="devhost-worker-loop", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="devhost-sync")
        return _pool


async def call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Invoke ``fn`` as the worker would and await its result from any event loop."""
    if inspect.iscoroutinefunction(fn):
        return await _on_worker_loop(fn(*args, **kwargs))
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    return await loop.run_in_executor(_thread_pool(), functools.partial(_counted, ctx.run, fn, *args, **kwargs))


async def _on_worker_loop(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` as a task of the worker loop and await its outcome here.

    What ``run_coroutine_threadsafe`` + ``wrap_future`` do (a cancellation here cancels the
    task there), with one callback each way instead of a ``concurrent.futures.Future`` between.
    """
    here = asyncio.get_running_loop()
    there = _worker_loop()
    outcome: asyncio.Future[Any] = here.create_future()
    started: list[asyncio.Task[Any]] = []

    def report(task: asyncio.Task[Any]) -> None:
        here.call_soon_threadsafe(_settle, outcome, task)

    def start() -> None:
        task = there.create_task(coro)
        started.append(task)
        task.add_done_callback(report)

    def cancel() -> None:  # queued after start() on the same loop, so the task exists
        for task in started:
            task.cancel()

    there.call_soon_threadsafe(start)
    try:
        return await outcome
    except asyncio.CancelledError:
        there.call_soon_threadsafe(cancel)
        raise


def _settle(outcome: asyncio.Future[Any], task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        outcome.cancel()
        return
    error = task.exception()  # retrieved even when nobody waits any more (no "never retrieved" log)
    if outcome.done():
        return
    if error is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(task.result())


def _counted(run: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    global _running
    with _lock:
        _running += 1
    try:
        return run(*args, **kwargs)
    finally:
        with _lock:
            _running -= 1


def running_calls() -> int:
    """How many synchronous user calls are still running on pool threads.

    A process that stops while this is not zero must not wait for them: the interpreter
    joins pool threads at exit, so ``devhost start`` ends with ``os._exit`` instead.
    """
    with _lock:
        return _running


async def call_orchestrator(handle: Callable[[str], str], context_json: str, *, inline: bool = False) -> str:
    """Run an orchestrator handle (synchronous, CPU only) on a worker thread, or right here when
    ``inline`` (:mod:`devhost.engine.placement` decides)."""
    if inline:
        return handle(context_json)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_thread_pool(), handle, context_json)


def decode_activity_input(text: str | None) -> Any:
    """Activity input as the worker's converter decodes it (JSON, else the raw string)."""
    if text is None:
        return None
    return ActivityTriggerConverter.decode(meta.Datum(text, "json"), trigger_metadata=None)


def encode_activity_output(value: Any) -> str:
    """Activity return value as the worker encodes it (``df_dumps``)."""
    return ActivityTriggerConverter.encode(value, expected_type=None).value
