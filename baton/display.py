"""Terminal output: live progress from the workflow's checkpoint, and the final report."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

STATUS_STYLE = {"completed": "green", "running": "yellow", "failed": "red", "skipped": "dim", "pending": "dim"}


class ProgressView:
    """Renders each polled status; a live panel on a terminal, one line per change otherwise."""

    def __init__(self, console: Console, instance_id: str) -> None:
        self.console = console
        self.instance_id = instance_id
        self.live: Live | None = None
        self.last_line = ""

    def __enter__(self) -> ProgressView:
        if self.console.is_terminal:
            self.live = Live(console=self.console, refresh_per_second=8, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def update(self, status: dict[str, Any]) -> None:
        progress = status.get("progress") or {}
        if self.live is not None:
            self.live.update(self._panel(status, progress))
            return
        line = _summary_line(status, progress)
        if line != self.last_line:
            self.console.print(line, highlight=False)
            self.last_line = line

    def _panel(self, status: dict[str, Any], progress: dict[str, Any]) -> Panel:
        done, total = int(progress.get("completed") or 0), int(progress.get("total") or 0)
        table = Table.grid(padding=(0, 2))
        for agent, state in (progress.get("agents") or {}).items():
            table.add_row(agent, Text(state, style=STATUS_STYLE.get(state, "")))
        tokens = (progress.get("tokens") or {}).get("total_tokens", 0)
        head = Text.assemble(
            (f"{status.get('runtimeStatus', '?')}", "bold"), f"  stage: {progress.get('stage', '-')}",
            f"  agents {done}/{total}  tokens {tokens}  cost ${float(progress.get('cost_usd') or 0):.4f}",
        )
        waiting = progress.get("waiting")
        parts: list[Any] = [head, ProgressBar(total=max(total, 1), completed=done, width=40), table]
        if waiting:
            parts.append(Text(f"waiting for '{waiting.get('event')}' until {waiting.get('deadline')}", style="cyan"))
        return Panel(Group(*parts), title=f"{progress.get('workflow', 'workflow')} {self.instance_id}")


def _summary_line(status: dict[str, Any], progress: dict[str, Any]) -> str:
    agents = ", ".join(f"{k}={v}" for k, v in (progress.get("agents") or {}).items())
    tokens = (progress.get("tokens") or {}).get("total_tokens", 0)
    return (f"[{status.get('runtimeStatus')}] stage={progress.get('stage', '-')} "
            f"{progress.get('completed', 0)}/{progress.get('total', 0)} agents tokens={tokens} {agents}")


def print_report(console: Console, status: dict[str, Any]) -> None:
    """The finished workflow: outcome, the report, per-agent accounting, errors, totals."""
    output = status.get("output")
    if not isinstance(output, dict):
        console.print(Panel(str(status.get("error") or output), title=f"{status.get('runtimeStatus')}", style="red"))
        return
    outcome = output.get("outcome")
    style = "green" if outcome in ("succeeded", "approved") else ("yellow" if outcome == "degraded" else "red")
    console.print(Panel(
        _report_text(output.get("data", {}).get("report") or {}),
        title=f"{output.get('workflow')} {status.get('id')}: {outcome} ({output.get('status')})", border_style=style,
    ))
    table = Table("agent", "backend", "model", "ms", "tokens", "cost $", "cached", title="agents")
    for column in table.columns[3:6]:
        column.justify = "right"
    for agent, info in (output.get("agents") or {}).items():
        usage = info.get("usage") or {}
        table.add_row(agent, str(info.get("backend", "")), str(info.get("model", "")),
                      _ms(info.get("latency_ms")), str(usage.get("total_tokens", "")),
                      f"{float(info.get('cost_usd') or 0):.4f}", "yes" if info.get("cached") else "")
    console.print(table)
    backends = {str(info.get("backend")) for info in (output.get("agents") or {}).values()}
    if backends == {"offline"}:
        console.print("[yellow]offline backend[/yellow]: extractive, no LLM was called. Set AZURE_OPENAI_ENDPOINT "
                      "+ AZURE_OPENAI_DEPLOYMENT (or OPENAI_BASE_URL / OPENAI_API_KEY) to use a model.")
    for error in output.get("errors") or []:
        console.print(f"[red]error[/red] {error.get('agent')}: {error.get('error')}", highlight=False)
    usage = output.get("usage") or {}
    console.print(f"tokens {usage.get('total_tokens', 0)} (prompt {usage.get('prompt_tokens', 0)}, "
                  f"completion {usage.get('completion_tokens', 0)}), cost ${float(usage.get('cost_usd') or 0):.4f}"
                  + (f", saved as {output['saved_as']}" if output.get("saved_as") else ""), highlight=False)


def _ms(value: Any) -> str:
    """Milliseconds as a whole number (``0.367`` reads as "under 1")."""
    if not isinstance(value, int | float):
        return ""
    return "<1" if 0 < value < 1 else f"{value:,.0f}"


HIDDEN = {"sources", "errors", "degraded", "overview"}


def _report_text(report: dict[str, Any]) -> Text:
    """The report's fields, most useful first; entities by name; lists as bullets."""
    text = Text()
    for key in sorted(report, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER)):
        value = report[key]
        if key in HIDDEN or value in (None, "", [], {}):
            continue
        text.append(f"{key.replace('_', ' ')}: ", style="bold")
        if key == "entities" and isinstance(value, list):
            value = ", ".join(str(e.get("name", e)) if isinstance(e, dict) else str(e) for e in value)
        if key == "sentiment" and isinstance(value, dict):
            value = f"{value.get('label')} ({value.get('score')})"
        if key == "confidence" and isinstance(value, int | float):
            value = f"{value:.0%}"
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            text.append("\n" + "".join(f"  - {v}\n" for v in value))
        elif isinstance(value, str | int | float):
            text.append(f"{value}\n")
        else:
            text.append(json.dumps(value, ensure_ascii=False) + "\n")
    return text


ORDER = ["headline", "summary", "category", "confidence", "sentiment", "key_points", "recommendations",
         "entities", "missing", "failed_agent", "error", "likely_cause", "fallback"]
