"""Settings of the event starters and the lifecycle publisher, checked when the app is indexed."""

from __future__ import annotations

import os
from collections.abc import Mapping

from orchestrators.registry import WORKFLOWS


def problems(env: Mapping[str, str] | None = None) -> list[str]:
    """One line per bad events setting (empty: all good)."""
    env = os.environ if env is None else env
    found = []
    workflow = (env.get("BATON_INBOX_WORKFLOW") or "").strip()
    if workflow and workflow not in WORKFLOWS:
        found.append(f"BATON_INBOX_WORKFLOW must name a workflow ({', '.join(WORKFLOWS)}), got {workflow!r}")
    text = (env.get("BATON_EVENTS_LOOKBACK_HOURS") or "").strip()
    if text:
        try:
            ok = 0 < float(text) < float("inf")
        except ValueError:
            ok = False
        if not ok:
            found.append(f"BATON_EVENTS_LOOKBACK_HOURS must be a number of hours above 0, got {text!r}")
    return found
