"""Timer trigger: NCRONTAB schedules fired on devhost's clock.

Schedules are NCRONTAB expressions with seconds (``{second} {minute} {hour} {day} {month}
{day-of-week}``), the five-field form, or a TimeSpan (``hh:mm:ss``, an interval), as the
Functions host accepts them (``%Setting%`` references are resolved).  ``run_on_startup`` fires
once when the host starts.  A timer that fires later than its occurrence (the host was busy or
down, or a test advanced the virtual clock past it) fires once, with ``past_due`` true, as the
host does for missed occurrences.  One invocation per timer function runs at a time.

On a virtual clock the next occurrence counts as a timer the dispatcher may skip time to
(:meth:`TimerListener.next_due`), so tests need not wait for it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from azure.functions import meta
from croniter import croniter

from ..clock import Clock
from ..errors import AppLoadError
from ..loader import TriggerFunction
from .bindings import BindingContext, Invocation, invoke
from .expressions import BindingExpressionError, resolve_settings
from .options import parse_timespan

log = logging.getLogger("devhost.triggers.timer")

PAST_DUE_TOLERANCE = timedelta(seconds=1)
MAX_IDLE_SLEEP = 1.0


@dataclass(frozen=True)
class Schedule:
    """When a timer fires: an NCRONTAB expression or a fixed interval."""

    expression: str
    interval: timedelta | None = None

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        try:
            text = resolve_settings(expression).strip()
        except BindingExpressionError as exc:
            raise AppLoadError(f"timer schedule '{expression}': {exc}") from exc
        if ":" in text and " " not in text:
            seconds = parse_timespan(text, f"timer schedule '{text}'")
            if seconds <= 0:
                raise AppLoadError(f"timer schedule '{text}': the interval must be positive")
            return cls(text, timedelta(seconds=seconds))
        fields = text.split()
        if len(fields) not in (5, 6) or not croniter.is_valid(text, second_at_beginning=len(fields) == 6):
            raise AppLoadError(
                f"timer schedule '{text}' is not a valid NCRONTAB expression "
                "('{second} {minute} {hour} {day} {month} {day-of-week}', e.g. '0 */5 * * * *')"
            )
        return cls(text)

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment``."""
        if self.interval is not None:
            return moment + self.interval
        six = len(self.expression.split()) == 6
        return croniter(self.expression, moment, second_at_beginning=six).get_next(datetime)


class TimerListener:
    """Runs one timer-triggered function until cancelled."""

    def __init__(self, function: TriggerFunction, ctx: BindingContext, clock: Clock) -> None:
        self.function = function
        self.ctx = ctx
        self.clock = clock
        self.schedule = Schedule.parse(str(function.trigger["schedule"]))
        self.run_on_startup = bool(function.trigger.get("runOnStartup", False))
        self.busy = False
        self.last: datetime | None = None
        self.next: datetime | None = None
        self.fired = 0

    def next_due(self) -> datetime | None:
        """The next occurrence (for virtual time skipping); ``None`` while an invocation runs."""
        return None if self.busy else self.next

    async def run(self) -> None:
        self.next = self.schedule.next_after(self.clock.now())
        if self.run_on_startup:
            await self._fire(past_due=False)
        while True:
            now = self.clock.now()
            due = self.next
            if now >= due:
                self.next = self.schedule.next_after(now)
                await self._fire(past_due=now - due > PAST_DUE_TOLERANCE)
                continue
            await self.clock.sleep(min((due - now).total_seconds(), MAX_IDLE_SLEEP))

    async def _fire(self, *, past_due: bool) -> None:
        self.busy = True
        now = self.clock.now()
        info = {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": {
                "Last": (self.last or now).isoformat(),
                "Next": self.next.isoformat() if self.next else None,
                "LastUpdated": now.isoformat(),
            },
            "IsPastDue": past_due,
        }
        try:
            await invoke(self.ctx, Invocation(self.function, meta.Datum(json.dumps(info), "json")))
        except Exception:
            pass  # logged by invoke; the schedule goes on, as in the host
        finally:
            self.last = now
            self.fired += 1
            self.busy = False

    def describe(self) -> str:
        return f"timerTrigger ({self.schedule.expression}; next {self.next.isoformat() if self.next else '-'})"
