"""asyncio helpers shared by the engine and the stores."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass; ``True`` if it was set.

    Uses ``asyncio.timeout`` rather than ``asyncio.wait_for``: on Python 3.11 ``wait_for``
    can swallow a cancellation that arrives just as the event is set, which leaves a
    polling loop running forever after its owner cancelled it.
    """
    try:
        async with asyncio.timeout(max(0.0, timeout)):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def gather_all(*steps: Awaitable[object]) -> None:
    """Run ``steps`` concurrently; wait for every one, then raise the first failure."""
    for result in await asyncio.gather(*steps, return_exceptions=True):
        if isinstance(result, BaseException):
            raise result
