"""The finished workflow as a readable report: never raw JSON, never text lost to markup.

Everything that comes from the server is put into :class:`rich.text.Text` objects (or escaped),
so ``[input]`` in an error message is printed, not taken for a style.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .fields import render_fields

SUCCESS_STYLE = {"succeeded": "green", "approved": "green", "degraded": "yellow"}
MODEL_BACKENDS = ("azure-openai", "openai")
_NAMED_BACKEND = re.compile(r"(?<![\w-])(azure-openai|openai)(?![\w-])")
OFFLINE_NOTE = (
    "offline backend: no LLM was called. The agents answered with local code instead of a model "
    "(extractive summary, lexicon sentiment, keyword categories), so there is nothing to pay and the "
    "token counts (marked ~) are estimates of what a model would have used."
)
MODEL_HINT = (
    "To use a model, set AZURE_OPENAI_ENDPOINT + AZURE_OPENAI_DEPLOYMENT (or OPENAI_BASE_URL / "
    "OPENAI_API_KEY) in local.settings.json or the app settings, and leave BATON_LLM_BACKEND unset (or auto)."
)


def print_report(console: Console, status: dict[str, Any]) -> None:
    """The finished workflow: outcome, the report, decision, checkpoints, agents, errors, notes, totals."""
    output = status.get("output")
    if not isinstance(output, dict):
        console.print(_crash_panel(status))
        return
    outcome = str(output.get("outcome"))
    title = Text(f"{output.get('workflow')} {status.get('id')}: {outcome} ({output.get('status')})")
    report = (output.get("data") or {}).get("report") or {}
    body = render_fields(report, sections=set(output.get("agents") or {}))
    if not body.renderables:
        body = Group(Text("(no report)", style="dim"))
    console.print(Panel(body, title=title, border_style=SUCCESS_STYLE.get(outcome, "red")))
    if "approval" in output:
        console.print(decision_line(output["approval"]))
    if "checkpoints" in output or output.get("workflow") == "pipeline":
        console.print(checkpoints_table(output))
    console.print(agents_table(output))
    for error in output.get("errors") or []:
        console.print(error_line(error))
    for note in notes(output):
        console.print(note)
    console.print(totals_line(output))


def _crash_panel(status: dict[str, Any]) -> Panel:
    """An instance that ended without a workflow state (Failed, Terminated): its error, as text."""
    runtime = str(status.get("runtimeStatus"))
    message = status.get("error") or status.get("output") or f"the instance is {runtime}"
    return Panel(Text(str(message)), title=Text(f"{status.get('workflow', 'workflow')} {status.get('id')}: {runtime}"),
                 border_style="red")


def decision_line(approval: Any) -> Text:
    """``approval``: approved / rejected by whom (and why), or no decision before the deadline."""
    approval = approval if isinstance(approval, dict) else {}
    line = Text("decision: ", style="bold")
    if approval.get("timed_out"):
        line.append(f"none before the deadline {approval.get('deadline')}; escalated to the error handler",
                    style="red")
        return line
    approved = approval.get("approved")
    line.append("approved" if approved else "rejected", style="green" if approved else "red")
    if approval.get("by"):
        line.append(f" by {approval['by']}")
    if approval.get("comment"):
        line.append(f": {approval['comment']}")
    if approval.get("at"):
        line.append(f" (at {approval['at']})", style="dim")
    return line


def checkpoints_table(output: dict[str, Any]) -> Table:
    """``pipeline``'s saved workflow states: after each stage and the final one."""
    table = Table("checkpoint", "status", "saved as", title="saved workflow state", title_justify="left")
    rows = [(f"after {c.get('after')}", str(c.get("status", "")), c.get("saved_as"))
            for c in output.get("checkpoints") or []]
    rows.append(("final state", str(output.get("status", "")), output.get("saved_as")))
    for name, state, saved in rows:
        table.add_row(name, state, Text(str(saved)) if saved else Text("not saved (no storage configured "
                                                                         "or the save failed)", style="yellow"))
    return table


def agents_table(output: dict[str, Any]) -> Table:
    """Per agent: backend, model, milliseconds, tokens (``~`` when estimated), cost, cached."""
    table = Table("agent", "backend", "model", "ms", "tokens", "cost $", "cached", title="agents")
    for column in table.columns[3:6]:
        column.justify = "right"
    for agent, info in (output.get("agents") or {}).items():
        usage = info.get("usage") or {}
        tokens = usage.get("total_tokens", "")
        shown = f"~{tokens}" if usage.get("estimated") and tokens != "" else str(tokens)
        table.add_row(Text(agent), Text(str(info.get("backend", ""))), Text(str(info.get("model", ""))),
                      _ms(info.get("latency_ms")), shown, f"{float(info.get('cost_usd') or 0):.4f}",
                      "yes" if info.get("cached") else "")
    return table


def error_line(error: dict[str, Any]) -> Text:
    """``error <agent> (<kind>, permanent|after retries): <message>``, the message verbatim."""
    line = Text("error ", style="red")
    how = "permanent" if error.get("permanent") else "after retries" if error.get("kind") == "retries_exhausted" else ""
    line.append(f"{error.get('agent')} ({', '.join(x for x in (str(error.get('kind')), how) if x)}): ", style="bold")
    line.append(str(error.get("error")))
    return line


def failed_backends(output: dict[str, Any]) -> list[str]:
    """The model backends named by the run's failures (in accounting or in the messages)."""
    names = {str(info.get("backend")) for info in (output.get("agents") or {}).values() if info.get("failure")}
    for error in output.get("errors") or []:
        names.update(_NAMED_BACKEND.findall(str(error.get("error", ""))))
    return [name for name in MODEL_BACKENDS if name in names]


def notes(output: dict[str, Any]) -> list[Text]:
    """What the numbers mean: estimates, "no LLM was called", which backend failed and what to set."""
    agents = output.get("agents") or {}
    backends = {str(info.get("backend")) for info in agents.values()}
    failed = failed_backends(output)
    found: list[Text] = []
    for name in failed:
        found.append(Text.assemble((f"the {name} backend failed", "red"),
                                   ": see the errors above (its settings are configured; check the endpoint, "
                                   "the model or deployment name and the credentials)"))
    if agents and backends == {"offline"} and not failed:
        found.append(Text.assemble(("offline backend", "yellow"), OFFLINE_NOTE.removeprefix("offline backend")))
        found.append(Text(MODEL_HINT))
    elif (output.get("usage") or {}).get("estimated") or any(
            (info.get("usage") or {}).get("estimated") for info in agents.values()):
        found.append(Text("~ estimated token counts: agents that ran offline (or a server that reported no usage) "
                          "were counted from the text; no LLM was called for the offline ones."))
    return found


def totals_line(output: dict[str, Any]) -> Text:
    usage = output.get("usage") or {}
    estimated = usage.get("estimated") or any(
        (info.get("usage") or {}).get("estimated") for info in (output.get("agents") or {}).values())
    mark = "~" if estimated else ""
    line = Text(f"tokens {mark}{usage.get('total_tokens', 0)} (prompt {mark}{usage.get('prompt_tokens', 0)}, "
                f"completion {mark}{usage.get('completion_tokens', 0)}"
                + (", estimated" if estimated else "") + f"), cost ${float(usage.get('cost_usd') or 0):.4f}")
    if output.get("saved_as"):
        line.append(f", saved as {output['saved_as']}")
    return line


def _ms(value: Any) -> str:
    """Milliseconds as a whole number (``0.367`` reads as "under 1")."""
    if not isinstance(value, int | float):
        return ""
    return "<1" if 0 < value < 1 else f"{value:,.0f}"

