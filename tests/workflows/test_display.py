"""The CLI's report table and instance list, rendered to text (no server needed)."""

from __future__ import annotations

import io

from rich.console import Console

from baton.report import print_report

STATUS = {"id": "i-1", "runtimeStatus": "Completed", "output": {
    "workflow": "pipeline", "outcome": "succeeded", "status": "completed", "data": {"report": {"headline": "h"}},
    "agents": {"collect_data": {"backend": "offline", "model": "collect-data-v1", "latency_ms": 0.367,
                                "usage": {"total_tokens": 0}, "cost_usd": 0.0},
               "analyze": {"backend": "openai", "model": "gpt-4o-mini", "latency_ms": 1234.56,
                           "usage": {"total_tokens": 900}, "cost_usd": 0.0002}},
    "usage": {"total_tokens": 900}}}


def test_the_ms_column_shows_whole_milliseconds():
    out = io.StringIO()
    print_report(Console(file=out, width=120, color_system=None), STATUS)
    text = out.getvalue()
    assert "0.367" not in text and "1234.56" not in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.startswith("│ ")}
    assert "<1" in rows["collect_data"] and "1,235" in rows["analyze"]
