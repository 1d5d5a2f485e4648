"""``worker.call`` runs ``async def`` user functions on the worker loop, as the Python worker does.

The answer, the exception and a cancellation cross between the caller's loop and the worker
loop exactly as with ``run_coroutine_threadsafe`` + ``wrap_future`` (no I/O).
"""

import asyncio
import sys
import threading

import pytest

from devhost import worker


class Boom(Exception):
    pass


async def test_an_async_function_runs_on_the_worker_loop_and_its_answer_comes_back():
    async def where(value: int) -> tuple[int, str, bool]:
        return value * 2, threading.current_thread().name, asyncio.get_running_loop() is caller

    caller = asyncio.get_running_loop()
    doubled, thread, same_loop = await worker.call(where, 21)
    assert doubled == 42 and thread == "devhost-worker-loop" and not same_loop


async def test_the_functions_exception_is_raised_to_the_caller_as_it_is():
    error = Boom("no")

    async def fails() -> None:
        raise error

    with pytest.raises(Boom) as raised:
        await worker.call(fails)
    assert raised.value is error


async def test_cancelling_the_caller_cancels_the_function_on_the_worker_loop():
    started, stopped = threading.Event(), threading.Event()

    async def waits() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            stopped.set()

    call = asyncio.ensure_future(worker.call(waits))
    await asyncio.to_thread(started.wait, 10)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await asyncio.to_thread(stopped.wait, 10)


async def test_a_function_cancelled_on_the_worker_loop_cancels_the_caller():
    async def cancels_itself() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await worker.call(cancels_itself)


async def test_a_host_quickens_thread_switching_while_it_runs_and_restores_it(monkeypatch):
    """The worker's threads share the interpreter lock with the host's loop (the real host is
    another process): a host lowers the switch interval, and ``0`` leaves Python's."""
    from pathlib import Path

    from devhost.host import DevHost

    app = Path(__file__).parent / "apps" / "patterns"
    before = sys.getswitchinterval()
    async with DevHost.start(app):
        assert sys.getswitchinterval() == pytest.approx(worker.SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
    monkeypatch.setenv("DEVHOST_SWITCH_INTERVAL", "0")
    async with DevHost.start(app):
        assert sys.getswitchinterval() == before
