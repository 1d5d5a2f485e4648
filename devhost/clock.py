"""Clocks: real time, or virtual time that skips ahead to the next durable timer.

Only :class:`SystemClock` reads the wall clock or sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .aio import wait_event


class Clock(Protocol):
    """What the engine needs to know about time."""

    supports_time_skipping: bool

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (virtual clocks may return early)."""


class SystemClock:
    """Wall-clock time."""

    supports_time_skipping = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualClock:
    """A clock that only moves when told to, or when the host is idle (time skipping).

    The dispatcher calls :meth:`skip_to` with the next durable timer's due time when no other
    work is runnable and ``auto_time_skipping`` is on, so a one-hour timeout fires at once.
    """

    supports_time_skipping = True

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self.auto_time_skipping = True
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward; timers that become due fire on the next dispatch."""
        if delta < timedelta(0):
            raise ValueError("time cannot go backwards")
        self._now += delta
        self._moved.set()

    def skip_to(self, moment: datetime) -> None:
        """Move time forward to ``moment`` (no-op when it is in the past)."""
        if moment > self._now:
            self.advance(moment - self._now)

    async def sleep(self, seconds: float) -> None:
        """Yield to the loop briefly; virtual time does not pass by waiting."""
        self._moved.clear()
        await wait_event(self._moved, min(seconds, 0.05))

    @contextlib.contextmanager
    def auto_time_skipping_disabled(self) -> Iterator[None]:
        """Within the block, time moves only through :meth:`advance`."""
        previous, self.auto_time_skipping = self.auto_time_skipping, False
        try:
            yield
        finally:
            self.auto_time_skipping = previous
