"""Bounded activity pool from host.json, and many instances in flight at once."""

from __future__ import annotations

import asyncio
import uuid

from tests.devhost.e2e import start


async def test_activity_pool_honours_max_concurrent_activity_functions(devhost, devhost_http):
    assert devhost.settings.max_concurrent_activities == 8  # from the fixture app's host.json
    job = {"key": uuid.uuid4().hex, "ms": 60, "count": 24}
    started = await start(devhost_http, "slow_fan_out", job)
    result = await devhost.wait_for_instance(started["id"], timeout=60)
    assert 1 < result["output"] <= 8


async def test_many_instances_run_concurrently(devhost, devhost_http):
    job = {"key": uuid.uuid4().hex, "ms": 80, "count": 1}
    started = await asyncio.gather(*(start(devhost_http, "slow_fan_out", job) for _ in range(6)))  # at once
    ids = [s["id"] for s in started]
    outputs = [(await devhost.wait_for_instance(i, timeout=60))["output"] for i in ids]
    assert max(outputs) > 1  # activities of different instances overlapped
