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


def render(status) -> str:
    out = io.StringIO()
    print_report(Console(file=out, width=100, color_system=None), status)
    return out.getvalue()


def test_markup_like_text_from_the_server_is_printed_as_is():
    status = {**STATUS, "output": {**STATUS["output"], "outcome": "degraded", "errors": [
        {"agent": "summarize", "error": "[connection] summarize: openai gpt-4o-mini: connection failed [bold]x",
         "kind": "retries_exhausted", "permanent": False}]}}
    text = " ".join(render(status).split())
    assert ("error summarize (retries_exhausted, after retries): [connection] summarize: openai gpt-4o-mini: "
            "connection failed [bold]x") in text
    assert "the openai backend failed" in text and "set AZURE_OPENAI_ENDPOINT" not in text


def test_an_instance_without_a_workflow_state_shows_its_error_as_text():
    text = render({"id": "i-2", "workflow": "parallel", "runtimeStatus": "Failed",
                   "error": "Orchestrator function 'parallel' failed: [boom] ValueError"})
    assert "parallel i-2: Failed" in text and "[boom] ValueError" in text


def test_nested_report_values_are_text_not_json():
    status = {**STATUS, "output": {**STATUS["output"], "data": {"report": {
        "headline": "h", "extra": {"reviewers": [{"name": "ann", "role": "lead"}], "score": 0.5}}}}}
    text = render(status)
    assert "extra:" in text and "reviewers:" in text and "- ann (role lead)" in text and "score: 0.5" in text
    assert '{"' not in text and '":' not in text
