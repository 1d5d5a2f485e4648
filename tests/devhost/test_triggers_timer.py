"""Timer triggers on the memory store and the virtual clock: NCRONTAB with seconds,
``run_on_startup``, ``past_due`` and time skipping; plus schedule parsing.

Behaviour matched: the Functions host's timer trigger (a missed occurrence fires once, late,
with ``IsPastDue``; ``RunOnStartup`` fires when the host starts) and the worker's conversion
into ``func.TimerRequest``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devhost.clock import VirtualClock
from devhost.errors import AppLoadError
from devhost.host import DevHost, unique_hub_name
from devhost.store.base import InstanceQuery
from devhost.triggers.timer import Schedule
from tests.devhost.triggers_kit import TIMER_APP, wait_until

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


async def _records(host: DevHost, count: int) -> list[dict]:
    """Wait for ``count`` completed 'record' orchestrations; their outputs, oldest first."""

    async def done() -> list[dict] | None:
        page = await host.store.query_instances(InstanceQuery(top=1000))
        finished = [i for i in page.instances if i.runtime_status.is_terminal]
        if len(finished) < count:
            return None
        outputs = [(await host.wait_for_instance(i.instance_id))["output"] for i in finished]
        return sorted(outputs, key=lambda o: o["at"])

    return await wait_until(done, what=f"({count} timer firings)")


async def test_timer_fires_on_startup_on_schedule_and_once_past_due():
    clock = VirtualClock(START)
    clock.auto_time_skipping = False
    async with DevHost.start(TIMER_APP, store="memory", clock=clock, hub_name=unique_hub_name()) as host:
        [startup] = await _records(host, 1)
        clock.advance(timedelta(minutes=5))  # exactly the 12:05:00 occurrence
        on_time = (await _records(host, 2))[-1]
        clock.advance(timedelta(minutes=17))  # 12:22: the 12:10, 12:15 and 12:20 occurrences were missed
        late = (await _records(host, 3))[-1]
        listener = host.triggers.listeners["tick"]
        assert listener.fired == 3  # missed occurrences fire once, not three times
        assert listener.next == START + timedelta(minutes=25)
    assert startup == {"type": "TimerRequest", "past_due": False, "last": START.isoformat(),
                       "next": "2026-01-01T12:05:00+00:00", "at": startup["at"]}
    assert on_time["past_due"] is False and on_time["at"] == "2026-01-01T12:05:00+00:00"
    assert late["past_due"] is True and late["at"] == "2026-01-01T12:22:00+00:00"
    assert late["last"] == "2026-01-01T12:05:00+00:00"


async def test_virtual_clock_skips_time_to_the_next_occurrence():
    clock = VirtualClock(START)
    clock.auto_time_skipping = False
    async with DevHost.start(TIMER_APP, store="memory", clock=clock, hub_name=unique_hub_name()) as host:
        await _records(host, 1)
        clock.auto_time_skipping = True  # idle: time jumps to each next occurrence
        records = await _records(host, 4)
        clock.auto_time_skipping = False
    skipped = [r for r in records if not r["past_due"]][1:4]
    assert [r["at"] for r in skipped] == [
        "2026-01-01T12:05:00+00:00", "2026-01-01T12:10:00+00:00", "2026-01-01T12:15:00+00:00",
    ]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 */5 * * * *", START, START + timedelta(minutes=5)),
        ("30 0 9 * * Mon-Fri", START, datetime(2026, 1, 2, 9, 0, 30, tzinfo=UTC)),  # 1 Jan 2026 is a Thursday
        ("*/10 * * * * *", START, START + timedelta(seconds=10)),
        ("0 * * * *", START, START + timedelta(hours=1)),  # five fields: no seconds
        ("00:00:10", START, START + timedelta(seconds=10)),  # a TimeSpan interval
    ],
)
def test_schedule_next_occurrence(expression, after, expected):
    assert Schedule.parse(expression).next_after(after) == expected


@pytest.mark.parametrize("expression", ["* * *", "0 61 * * * *", "every minute", "00:00:00", "%NO_SUCH_SETTING%"])
def test_invalid_schedules_are_refused_at_start(expression):
    with pytest.raises(AppLoadError):
        Schedule.parse(expression)


def test_schedule_from_an_app_setting(monkeypatch):
    monkeypatch.setenv("TICK_SCHEDULE", "0 0 */2 * * *")
    assert Schedule.parse("%TICK_SCHEDULE%").next_after(START) == START + timedelta(hours=2)
