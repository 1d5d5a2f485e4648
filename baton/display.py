"""Live progress from the workflow's checkpoint (custom status): a panel on a terminal, lines otherwise."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

STATUS_STYLE = {"completed": "green", "running": "yellow", "failed": "red", "skipped": "dim", "pending": "dim",
                "waiting": "cyan"}


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
        if self.live is not None:
            self.live.update(progress_panel(status, self.instance_id))
            return
        line = summary_line(status)
        if line.plain != self.last_line:
            self.console.print(line)
            self.last_line = line.plain


def _tokens(progress: dict[str, Any]) -> str:
    tokens = progress.get("tokens") or {}
    return f"{'~' if tokens.get('estimated') else ''}{tokens.get('total_tokens', 0)}"


def progress_panel(status: dict[str, Any], instance_id: str) -> Panel:
    """Status and stage, the bar on a line of its own, one row per agent, what it waits for."""
    progress = status.get("progress") or {}
    done, total = int(progress.get("completed") or 0), int(progress.get("total") or 0)
    head = Text.assemble(
        (str(status.get("runtimeStatus", "?")), "bold"), f"  stage: {progress.get('stage', '-')}",
        f"  tokens {_tokens(progress)}  cost ${float(progress.get('cost_usd') or 0):.4f}",
    )
    bar = Table.grid(padding=(0, 1))  # a grid row ends its line: the first agent starts on the next
    bar.add_row(ProgressBar(total=max(total, 1), completed=done, width=40), Text(f"{done}/{total} agents"))
    agents = Table.grid(padding=(0, 2))
    for agent, state in (progress.get("agents") or {}).items():
        agents.add_row(Text(agent), Text(str(state), style=STATUS_STYLE.get(str(state), "")))
    parts: list[Any] = [head, bar, agents]
    waiting = progress.get("waiting")
    if waiting:
        parts.append(Text(f"waiting for the event '{waiting.get('event')}' until {waiting.get('deadline')}",
                          style="cyan"))
    if (progress.get("tokens") or {}).get("estimated"):
        parts.append(Text("~ estimated: offline agents call no LLM", style="dim"))
    return Panel(Group(*parts), title=Text(f"{progress.get('workflow', 'workflow')} {instance_id}"))


def summary_line(status: dict[str, Any]) -> Text:
    """One line per change when not on a terminal (CI logs, pipes)."""
    progress = status.get("progress") or {}
    agents = ", ".join(f"{k}={v}" for k, v in (progress.get("agents") or {}).items())
    return Text(f"[{status.get('runtimeStatus')}] stage={progress.get('stage', '-')} "
                f"{progress.get('completed', 0)}/{progress.get('total', 0)} agents tokens={_tokens(progress)} {agents}")
