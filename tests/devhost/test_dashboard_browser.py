"""The dashboard in a real headless Chromium, on both stores with the virtual clock.

A fan-out with retried stragglers and a sub-orchestration, a failed instance and one waiting
for an event run in devhost; the tests read the rendered DOM (rows, timeline bars, the graph)
and press the buttons, answering their confirm dialogs.  Screenshots land in a temporary
folder printed at the start of the run (``-s`` shows it).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from devhost.store.base import RuntimeStatus
from tests.devhost.browser import Browser
from tests.devhost.e2e import WEBHOOK

DASHBOARD_APP = Path(__file__).parent / "apps" / "dashboard"
FAN_OUT = {"count": 6, "slow": {"2": 1, "4": 2}}  # items 2 and 4 fail once and twice first
RUNNING = frozenset({RuntimeStatus.RUNNING})


@pytest.fixture
def devhost_app_dir() -> Path:
    return DASHBOARD_APP


async def _start(devhost_http, name: str, instance_id: str, body=None) -> None:
    async with devhost_http.post(f"{WEBHOOK}/orchestrators/{name}/{instance_id}", json=body) as response:
        assert response.status == 202, await response.text()


async def _scenario(devhost, devhost_http) -> None:
    """The three instances every test looks at."""
    await _start(devhost_http, "fan_out", "fan", {**FAN_OUT, "run": uuid.uuid4().hex})
    await _start(devhost_http, "broken", "broken")
    await _start(devhost_http, "approval", "waiting")
    await devhost.wait_for_instance("fan", timeout=120)  # CI machines are shared and slow
    await devhost.wait_for_instance("broken", timeout=120)
    await devhost.wait_for_instance("waiting", timeout=120, until=RUNNING)


async def test_instances_table_lists_each_instance_and_filters_by_status(devhost, devhost_http, browser: Browser):
    await _scenario(devhost, devhost_http)
    await browser.open(devhost.dashboard_url)
    rows = await browser.until_css("tr.instance-row", "three instance rows", count=4)  # fan, fan-check, ...
    ids = {await browser.call(row.get_attribute, "data-instance-id") for row in rows}
    assert ids == {"fan", "fan-check", "broken", "waiting"}
    assert await browser.all("tr.row-Failed") and await browser.all("tr.row-Running")
    assert "waiting for Approve" in await browser.text("tr[data-instance-id='waiting'] td.summary")
    await browser.screenshot("instances")

    await browser.click("input[name='status'][value='Failed']")
    await browser.click(".filters button[type='submit']")
    await browser.until(lambda: "status=Failed" in browser.driver.current_url, "the filtered page")
    rows = await browser.all("tr.instance-row")
    assert [await browser.call(r.get_attribute, "data-instance-id") for r in rows] == ["broken"]

    await browser.open(devhost.dashboard_url + "?name=CHECK&top=20")  # orchestrator name, any case
    rows = await browser.all("tr.instance-row")
    assert [await browser.call(r.get_attribute, "data-instance-id") for r in rows] == ["fan-check"]


async def test_fan_out_page_shows_timeline_graph_history_and_links_to_the_sub_orchestration(
    devhost, devhost_http, browser: Browser
):
    await _scenario(devhost, devhost_http)
    await browser.open(devhost.dashboard_url + "instances/fan")
    assert await browser.text("#runtime-status") == "Completed"
    activity = await browser.until_css("svg.timeline g.bar.kind-activity", "activity bars", count=9)
    assert len(activity) == 6 + 1 + 2  # one bar per attempt: 6 items, item 2 retried once, item 4 twice
    assert len(await browser.all("svg.timeline g.bar.kind-activity.outcome-failed")) == 3
    assert len(await browser.all("svg.timeline g.bar.kind-activity.outcome-completed")) == 6
    assert len(await browser.all("svg.timeline g.bar.kind-timer.outcome-fired")) == 3  # the retry delays
    widths = [float(await browser.call(r.get_attribute, "width")) for r in await browser.all("g.kind-timer rect")]
    assert max(widths) > 100  # the 30 s retry timers stretch across the chart: the stragglers show
    assert "fan_out" in await browser.text("h1")
    assert '"total": 30' in await browser.text("#output")
    await browser.until_css("#graph-picture svg", "mermaid's picture of the custom status graph")
    assert not await browser.call(lambda: browser.driver.find_element("css selector", "#graph-source").is_displayed())
    history = await browser.all("tr.history-row")
    assert len(await browser.all("tr.event-TaskFailed")) == 3 and len(history) > 20
    await browser.screenshot("fan-out-top", full_page=False)
    await browser.screenshot("fan-out")

    await browser.click("svg.timeline a.sub-link")
    await browser.until(lambda: browser.driver.current_url.endswith("/instances/fan-check"), "the child's page")
    assert await browser.text("#parent-link") == "fan"


async def test_failed_instance_shows_its_failure_and_why_rewind_is_not_available(
    devhost, devhost_http, browser: Browser
):
    await _scenario(devhost, devhost_http)
    await browser.open(devhost.dashboard_url + "instances/broken")
    assert "the disk is full" in await browser.text("#failure")
    assert await browser.all("svg.timeline g.bar.kind-activity.outcome-failed")
    assert "the disk is full" in await browser.text("tr.event-TaskFailed pre.failure")
    await browser.click("button[data-action='rewind']")
    assert "Rewind" in await browser.answer_confirm()
    await browser.until(lambda: "does not implement rewind" in browser.text_now(
        "#action-result"), "the rewind explanation")
    await browser.screenshot("failed")


async def test_buttons_suspend_resume_raise_an_event_and_purge_after_confirming(
    devhost, devhost_http, browser: Browser
):
    await _scenario(devhost, devhost_http)
    await browser.open(devhost.dashboard_url + "instances/waiting")
    assert await browser.all("svg.timeline g.bar.kind-event.outcome-waiting")
    await browser.until(lambda: "waiting" in browser.text_now("#graph-picture svg"), "the graph, drawn")
    await browser.screenshot("waiting")

    await browser.click("button[data-action='suspend']")
    await browser.answer_confirm(accept=False)
    assert await browser.text("#action-result") == "suspend: cancelled"
    assert (await devhost.store.get_instance("waiting")).runtime_status is RuntimeStatus.RUNNING

    await browser.click("button[data-action='suspend']")
    await browser.answer_confirm()
    await browser.until_css("button[data-action='resume']", "the Resume button of a suspended instance")
    assert await browser.text("#runtime-status") == "Suspended"
    await browser.click("button[data-action='resume']")
    await browser.answer_confirm()
    await browser.until_css("button[data-action='suspend']:not([disabled])", "Suspend again")

    await browser.type("form.raise-event input[name='name']", "Approve")
    await browser.type("form.raise-event textarea[name='data']", "{not json")
    await browser.click("form.raise-event button[type='submit']")
    assert "not valid JSON" in await browser.text("#action-result")
    await browser.type("form.raise-event textarea[name='data']", '{"by": "ann"}')
    await browser.click("form.raise-event button[type='submit']")
    await browser.answer_confirm()
    await devhost.wait_for_instance("waiting", timeout=120)
    await browser.until(lambda: browser.text_now("#runtime-status") == "Completed",
                        "the page to refresh to Completed")
    assert '"by": "ann"' in await browser.text("#output")
    await browser.until(lambda: "approved" in browser.text_now("#graph-picture svg"), "the graph, redrawn live")
    assert await browser.all("svg.timeline g.bar.kind-event.outcome-received")

    await browser.click("button[data-action='purge']")
    await browser.answer_confirm()
    await browser.until(lambda: browser.driver.current_url == devhost.dashboard_url, "back to the instances")
    assert await devhost.store.get_instance("waiting") is None


async def test_terminate_button_ends_a_waiting_instance(devhost, devhost_http, browser: Browser):
    await _start(devhost_http, "approval", "doomed")
    await devhost.wait_for_instance("doomed", timeout=120, until=RUNNING)
    await browser.open(devhost.dashboard_url + "instances/doomed")
    await browser.click("button[data-action='terminate']")
    assert "Terminate" in await browser.answer_confirm()
    done = await devhost.wait_for_instance("doomed", timeout=120)
    assert done["runtimeStatus"] == "Terminated"
    await browser.until(lambda: browser.text_now("#runtime-status") == "Terminated",
                        "the page to show Terminated")


async def test_entities_page_shows_each_entity_and_its_state(devhost, devhost_http, browser: Browser):
    for amount in (5, 7):
        async with devhost_http.post(f"{WEBHOOK}/entities/Counter/c1?op=add", json=amount) as response:
            assert response.status == 202
    await browser.open(devhost.dashboard_url + "entities")

    await browser.until(lambda: browser.text_now("tr[data-entity-id='@counter@c1'] pre") == "12",
                        "the counter's state (auto-refresh)")
    assert await browser.text("tr.entity-row td") == "counter"
    assert await browser.text("tr.entity-row td:nth-child(2)") == "c1"

