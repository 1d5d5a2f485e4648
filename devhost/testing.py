"""Test harness: start an in-process devhost for any app directory.

    async with DevHost.start("path/to/app", store="memory", clock="virtual") as host:
        async with aiohttp.ClientSession(host.url) as http:
            ...
        status = await host.wait_for_instance(instance_id)

With ``clock="virtual"`` durable timers fire as soon as nothing else is runnable (time
skipping); wrap a block in ``host.clock.auto_time_skipping_disabled()`` to keep time still
while the test raises events, and move it with ``host.clock.advance(timedelta)``.
"""

from __future__ import annotations

from .clock import SystemClock, VirtualClock
from .host import DevHost, unique_hub_name

__all__ = ["DevHost", "SystemClock", "VirtualClock", "unique_hub_name"]
