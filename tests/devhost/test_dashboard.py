"""The dashboard without a browser: the timeline from hand-built histories, and its HTTP surface."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from devhost.cli import build_parser
from devhost.dashboard import routes
from devhost.dashboard.svg import render_timeline
from devhost.dashboard.timeline import build_timeline
from devhost.engine import history as h
from devhost.host import DevHost, unique_hub_name
from devhost.store.base import RuntimeStatus
from tests.devhost.e2e import WEBHOOK

DASHBOARD_APP = Path(__file__).parent / "apps" / "dashboard"
T0 = datetime(2020, 1, 1, 12, tzinfo=UTC)
RUNNING = frozenset({RuntimeStatus.RUNNING})


@pytest.fixture
def devhost_app_dir() -> Path:
    return DASHBOARD_APP


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _started(*events: h.HistoryEvent) -> list[h.HistoryEvent]:
    """A history that starts at ``T0`` and goes on with ``events``."""
    return [
        h.orchestrator_started(T0),
        h.execution_started(T0, instance_id="i", execution_id="e", name="o", input=None),
        *events,
    ]


def test_fan_out_bars_run_from_scheduling_to_completion_and_show_the_straggler():
    history = _started(
        h.event(h.EventType.TaskScheduled, T0, 0, Name="work", Input="0"),
        h.event(h.EventType.TaskScheduled, T0, 1, Name="work", Input="1"),
        h.event(h.EventType.TaskScheduled, T0, 2, Name="work", Input="2"),
        h.orchestrator_completed(T0),
        h.task_completed(_at(1), 0, "0"),
        h.task_completed(_at(2), 1, "2"),
        h.task_failed(_at(60), 2, "Activity function 'work' failed: slow", None),
    )
    timeline = build_timeline(history, _at(3600), running=False)
    assert [(b.label, b.task_id, b.outcome) for b in timeline.bars] == [
        ("work", 0, "completed"), ("work", 1, "completed"), ("work", 2, "failed")]
    assert [(b.end - b.start).total_seconds() for b in timeline.bars] == [1, 2, 60]
    assert timeline.end == _at(60)  # a finished instance's axis ends at its last event, not "now"
    assert timeline.bars[2].detail.startswith("Activity function 'work' failed")


def test_open_tasks_of_a_running_instance_stay_open_until_now_and_timers_show_when_they_fire():
    fire_at = h.format_timestamp(_at(86400))
    history = _started(
        h.event(h.EventType.TaskScheduled, T0, 0, Name="work"),
        h.event(h.EventType.TimerCreated, T0, 1, FireAt=fire_at),
        h.orchestrator_completed(T0),
    )
    timeline = build_timeline(history, _at(30), running=True)
    activity, timer = timeline.bars
    assert (activity.outcome, activity.end) == ("pending", None)
    assert (timer.kind, timer.outcome, timer.end) == ("timer", "pending", None)
    assert timer.detail == f"fires at {fire_at}"
    assert timeline.end == _at(30)


def test_external_event_wait_starts_at_the_execution_or_the_previous_event_of_that_name():
    history = _started(
        h.orchestrator_completed(T0),
        h.orchestrator_started(_at(10)), h.event_raised(_at(10), "Approve", "1"), h.orchestrator_completed(_at(10)),
        h.orchestrator_started(_at(25)), h.event_raised(_at(25), "Approve", "2"), h.orchestrator_completed(_at(25)),
    )
    timeline = build_timeline(history, _at(40), running=True)
    events = [(b.label, b.start, b.end, b.outcome) for b in timeline.bars]
    assert events == [
        ("event Approve", T0, _at(10), "received"),
        ("event Approve", _at(10), _at(25), "received"),
        ("awaiting an external event", _at(25), None, "waiting"),  # nothing else is open
    ]


def test_entity_calls_pair_with_their_response_and_timers_end_when_they_fire():
    request = json.dumps({"op": "add", "signal": False, "id": "r-1"})
    fire_at = h.format_timestamp(_at(30))
    history = _started(
        h.event(h.EventType.EventSent, T0, 0, InstanceId="@counter@c1", Name="op", Input=request),
        h.event(h.EventType.TimerCreated, T0, 1, FireAt=fire_at),
        h.orchestrator_completed(T0),
        h.orchestrator_started(_at(1)), h.event_raised(_at(1), "r-1", "7"),
        h.timer_fired(T0, 1, fire_at),  # queued at creation; the bar ends at FireAt
    )
    bars = build_timeline(history, _at(99), running=True).bars
    assert [(b.kind, b.label, b.end) for b in bars] == [
        ("entity", "entity @counter@c1 add", _at(1)), ("timer", "timer until 12:00:30", _at(30)),
        ("event", "awaiting an external event", None)]


def test_the_svg_escapes_names_and_links_sub_orchestrations():
    history = _started(
        h.event(h.EventType.SubOrchestrationInstanceCreated, T0, 0, Name="<b>child</b>", InstanceId="c 1"),
        h.event(h.EventType.SubOrchestrationInstanceCompleted, _at(5), TaskScheduledId=0, Result="1"),
    )
    svg = str(render_timeline(build_timeline(history, _at(5), running=False), base_path="/_devhost"))
    assert "&lt;b&gt;child&lt;/b&gt;" in svg and "<b>" not in svg
    assert 'href="/_devhost/instances/c%201"' in svg
    assert 'data-bars="1"' in svg


async def test_bad_filters_answer_400_and_unknown_instances_404(devhost, devhost_http):
    for query in ("status=Bogus", "top=7", "from=yesterday"):
        async with devhost_http.get(f"/_devhost/?{query}") as response:
            assert response.status == 400, query
            assert 'id="filter-error"' in await response.text()
    async with devhost_http.get("/_devhost/instances/nope") as response:
        assert response.status == 404
        assert "nope" in await response.text()


async def test_pages_escape_what_apps_put_in_payloads(devhost, devhost_http):
    async with devhost_http.post(f"{WEBHOOK}/orchestrators/approval/x1", json="<script>alert(1)</script>") as response:
        assert response.status == 202
    await devhost.wait_for_instance("x1", until=RUNNING)
    async with devhost_http.get("/_devhost/instances/x1") as response:
        page = await response.text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


async def test_actions_refuse_bad_input_with_json_messages(devhost, devhost_http):
    async with devhost_http.post(f"{WEBHOOK}/orchestrators/approval/w1") as response:
        assert response.status == 202
    await devhost.wait_for_instance("w1", until=RUNNING)
    api = "/_devhost/api/instances"
    cases = [
        (f"{api}/w1/raise-event", {"json": {"name": "Approve", "data": "{nope"}}, 400, "not valid JSON"),
        (f"{api}/w1/raise-event", {"json": {"data": "1"}}, 400, "needs a name"),
        (f"{api}/w1/raise-event", {"json": [1]}, 400, "JSON object"),
        (f"{api}/w1/raise-event", {"data": "name=Approve"}, 415, "application/json"),
        (f"{api}/w1/terminate", {"json": {}, "headers": {"Origin": "http://evil.example"}}, 403, "cross-origin"),
        (f"{api}/w1/purge", {"json": {}}, 409, "terminate it before purging"),
        (f"{api}/w1/explode", {"json": {}}, 404, "unknown action"),
        (f"{api}/missing/terminate", {"json": {}}, 404, "missing"),
    ]
    for url, kwargs, status, text in cases:
        async with devhost_http.post(url, **kwargs) as response:
            assert response.status == status, (url, await response.text())
            assert text in (await response.json())["error"]
    async with devhost_http.post(f"{api}/w1/terminate", json={"reason": "test"}) as response:
        assert response.status == 202
    assert (await devhost.wait_for_instance("w1"))["runtimeStatus"] == "Terminated"
    async with devhost_http.post(f"{api}/w1/terminate", json={}) as response:
        assert response.status == 410  # as the Durable API answers for a finished instance
        assert "Terminated" in (await response.json())["error"]


async def test_read_only_dashboard_shows_no_buttons_and_refuses_actions():
    async with DevHost.start(DASHBOARD_APP, clock="virtual", hub_name=unique_hub_name(), dashboard="read-only") as host:
        assert f"Dashboard: {host.url}/_devhost/ (read-only)" in host.describe()
        instance_id = await host.client.start("approval", "r1")
        await host.wait_for_instance(instance_id, until=RUNNING)
        async with aiohttp.ClientSession(host.url) as http:
            async with http.get("/_devhost/instances/r1") as response:
                page = await response.text()
            assert "data-action" not in page and "Read-only dashboard" in page
            async with http.post("/_devhost/api/instances/r1/terminate", json={}) as response:
                assert response.status == 403
        assert (await host.store.get_instance("r1")).runtime_status is RuntimeStatus.RUNNING


async def test_no_dashboard_serves_nothing_under_devhost_path():
    async with DevHost.start(DASHBOARD_APP, hub_name=unique_hub_name(), dashboard="off") as host:
        assert host.dashboard_url is None and "Dashboard:" not in host.describe()
        async with aiohttp.ClientSession(host.url) as http, http.get("/_devhost/") as response:
            assert response.status == 404


async def test_without_mermaid_the_page_shows_the_graph_text(monkeypatch, tmp_path):
    monkeypatch.setattr(routes, "default_search_dirs", lambda app_dir: [tmp_path])  # no node_modules anywhere
    async with DevHost.start(DASHBOARD_APP, clock="virtual", hub_name=unique_hub_name()) as host:
        await host.client.start("fan_out", "g1", input=json.dumps({"count": 1}))
        await host.wait_for_instance("g1")
        async with aiohttp.ClientSession(host.url) as http:
            async with http.get("/_devhost/instances/g1") as response:
                page = await response.text()
            async with http.get("/_devhost/static/mermaid.min.js") as script:
                assert script.status == 404
    assert "mermaid.min.js" not in page and 'id="graph-note"' in page
    assert "start([start]) --&gt; work[fan out: 1 items]" in page


def test_cli_dashboard_flags():
    parser = build_parser()
    assert parser.parse_args(["start"]).dashboard == "on"
    assert parser.parse_args(["start", "--no-dashboard"]).dashboard == "off"
    assert parser.parse_args(["start", "--dashboard", "read-only"]).dashboard == "read-only"
    with pytest.raises(SystemExit):
        parser.parse_args(["start", "--no-dashboard", "--dashboard", "read-only"])


async def test_instances_page_through_the_store_and_filter_by_creation_time(devhost, devhost_http):
    for n in range(25):
        await devhost.client.start("check", f"p{n:02d}")
    for n in range(25):
        await devhost.wait_for_instance(f"p{n:02d}")
    seen: list[str] = []
    url = "/_devhost/?top=20&status=Completed"
    for expected in (20, 5):
        async with devhost_http.get(url) as response:
            page = await response.text()
        rows = re.findall(r'data-instance-id="([^"]+)"', page)
        assert len(rows) == expected
        seen.extend(rows)
        found = re.search(r'href="([^"]+)" id="next-page"', page)
        url = html.unescape(found.group(1)) if found else ""
    assert url == "" and 'id="first-page"' in page
    assert sorted(seen) == [f"p{n:02d}" for n in range(25)]
    async with devhost_http.get("/_devhost/?to=2025-12-31T00:00") as response:
        assert "No orchestration instances match." in await response.text()  # the virtual clock starts in 2026
    async with devhost_http.get("/_devhost/?from=2025-12-31T00:00&top=100") as response:
        assert len(re.findall(r'data-instance-id="', await response.text())) == 25
