"""A workflow report's fields as plain text: the useful ones first, lists as bullets, no JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

ORDER = ["headline", "summary", "category", "confidence", "sentiment", "key_points", "recommendations",
         "entities", "missing", "failed_agent", "error", "kind", "likely_cause", "fallback"]
HIDDEN = {"sources", "errors", "degraded", "overview", "permanent"}
"""Repeated elsewhere in the report (errors, sources) or said by the title (degraded)."""
NAMES = ("name", "title", "label", "agent")


def render_fields(report: dict[str, Any], *, sections: Iterable[str] = (), indent: int = 0) -> Group:
    """``report`` as ``key: value`` lines; a value under an agent's name (``sequential``) is a section.

    Wrapped lines keep their indentation (bullets hang), so a long key point stays readable.
    """
    sections = set(sections)
    lines: list[RenderableType] = []
    for key in sorted(report, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER)):
        value = report[key]
        if key in HIDDEN or value in (None, "", [], {}):
            continue
        label = key.replace("_", " ")
        if isinstance(value, dict) and key in sections:
            lines.append(Padding(Text(label, style="bold underline"), (0, 0, 0, indent)))
            lines.append(render_fields(value, indent=indent + 2))
        else:
            lines.extend(_field(label, key, value, indent))
    return Group(*lines)


def _field(label: str, key: str, value: Any, indent: int) -> list[RenderableType]:
    head = Text(f"{label}: ", style="bold")
    if key == "confidence" and isinstance(value, int | float) and not isinstance(value, bool):
        inline = f"{value:.0%}"
    elif key == "sentiment" and isinstance(value, dict) and "label" in value:
        score = value.get("score")
        inline = f"{value['label']}" + (f" (score {score:+.2f})" if isinstance(score, int | float) else "")
    elif key == "entities" and isinstance(value, list):
        inline = ", ".join(_entity(item) for item in value)
    elif isinstance(value, list):
        return [Padding(head, (0, 0, 0, indent)), *(_bullet(_inline(item), indent + 2) for item in value)]
    elif isinstance(value, dict):
        return [Padding(head, (0, 0, 0, indent)), render_fields(value, indent=indent + 2)]
    else:
        inline = _scalar(value)
    return [Padding(head.append(inline, style=""), (0, 0, 0, indent))]


def _bullet(text: str, indent: int) -> RenderableType:
    grid = Table.grid()
    grid.add_column(width=indent + 2, no_wrap=True)
    grid.add_column()
    grid.add_row(" " * indent + "- ", Text(text))
    return grid


def _entity(item: Any) -> str:
    if isinstance(item, dict) and "name" in item:
        kind = item.get("type")
        return f"{item['name']}" + (f" ({kind})" if kind and kind != "other" else "")
    return _inline(item)


def _inline(value: Any) -> str:
    """One line for a list item: a dict by its name and the rest as ``key value`` pairs."""
    if isinstance(value, dict):
        name = next((str(value[k]) for k in NAMES if value.get(k) not in (None, "")), None)
        rest = [f"{k.replace('_', ' ')} {_inline(v)}" for k, v in value.items()
                if v not in (None, "", [], {}) and (name is None or str(v) != name)]
        return (name + (f" ({', '.join(rest)})" if rest else "")) if name else ", ".join(rest)
    if isinstance(value, list):
        return ", ".join(_inline(v) for v in value)
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
