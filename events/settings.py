"""Settings of the event starters and the lifecycle publisher, checked when the app is indexed."""

from __future__ import annotations

import os
from collections.abc import Mapping

from api.settings import hours_problems
from orchestrators.registry import WORKFLOWS


def problems(env: Mapping[str, str] | None = None) -> list[str]:
    """One line per bad events setting (empty: all good)."""
    env = os.environ if env is None else env
    found = []
    workflow = (env.get("BATON_INBOX_WORKFLOW") or "").strip()
    if workflow and workflow not in WORKFLOWS:
        found.append(f"BATON_INBOX_WORKFLOW must name a workflow ({', '.join(WORKFLOWS)}), got {workflow!r}")
    found += hours_problems(env, "BATON_EVENTS_LOOKBACK_HOURS")
    return found
