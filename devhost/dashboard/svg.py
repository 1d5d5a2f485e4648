"""Draw a :class:`~devhost.dashboard.timeline.Timeline` as a Gantt-like SVG (server-side)."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from urllib.parse import quote

from markupsafe import Markup

from .timeline import Bar, Timeline

WIDTH = 1100
LABEL_WIDTH = 300
ROW = 18
AXIS = 24
MAX_ROWS = 400
MIN_BAR = 3.0
_STEPS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
          7200, 21600, 43200, 86400, 172800, 604800]


def render_timeline(timeline: Timeline, *, base_path: str) -> Markup:
    """The SVG markup; at most ``MAX_ROWS`` bars are drawn (the rest are counted)."""
    bars = timeline.bars[:MAX_ROWS]
    plot = WIDTH - LABEL_WIDTH - 10
    height = AXIS + ROW * len(bars) + 6
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" data-bars="{len(bars)}" role="img" aria-label="timeline">'
    ]
    parts.extend(_axis(timeline, plot, height))
    for row, bar in enumerate(bars):
        parts.append(_bar(timeline, bar, row, plot, base_path))
    parts.append("</svg>")
    hidden = len(timeline.bars) - len(bars)
    if hidden > 0:
        parts.append(f'<p class="note">{hidden} more bars not drawn (the history table lists them all).</p>')
    return Markup("".join(parts))


def _axis(timeline: Timeline, plot: float, height: int) -> list[str]:
    span = (timeline.end - timeline.start).total_seconds()
    step = next((s for s in _STEPS if span / s <= 8), _STEPS[-1])
    parts = [f'<g class="axis"><line x1="{LABEL_WIDTH}" y1="{AXIS - 4}" x2="{LABEL_WIDTH + plot}" '
             f'y2="{AXIS - 4}" /></g>']
    ticks = int(span // step) + 1 if span > 0 else 1
    for index in range(ticks):
        offset = index * step
        x = LABEL_WIDTH + (offset / span * plot if span > 0 else 0)
        anchor = ' text-anchor="end"' if x > LABEL_WIDTH + plot - 50 else ""
        parts.append(
            f'<g class="tick"><line x1="{x:.1f}" y1="{AXIS - 8}" x2="{x:.1f}" y2="{height}" />'
            f'<text x="{x + 2:.1f}" y="{AXIS - 10}"{anchor}>+{duration_text(offset)}</text></g>'
        )
    return parts


def _bar(timeline: Timeline, bar: Bar, row: int, plot: float, base_path: str) -> str:
    y = AXIS + row * ROW
    x0 = LABEL_WIDTH + timeline.position(bar.start) * plot
    end = bar.end or timeline.end
    x1 = LABEL_WIDTH + timeline.position(end) * plot
    width = max(MIN_BAR, x1 - x0)
    task = f" #{bar.task_id}" if bar.task_id is not None and bar.task_id >= 0 else ""
    elapsed = duration_text((end - bar.start).total_seconds())
    tip = f"{bar.label}{task}: {bar.outcome}, {elapsed}" + ("" if bar.end else " so far") + (
        f" ({bar.detail})" if bar.detail else "")
    label = escape(_short(bar.label + task, 44))
    if bar.instance_id:
        href = escape(f"{base_path}/instances/{quote(bar.instance_id, safe='')}", quote=True)
        label = f'<a href="{href}" class="sub-link">{label}</a>'
    open_class = " open" if bar.end is None else ""
    return (
        f'<g class="bar kind-{bar.kind} outcome-{bar.outcome}{open_class}" data-kind="{bar.kind}" '
        f'data-outcome="{bar.outcome}"><title>{escape(tip)}</title>'
        f'<text class="label" x="4" y="{y + ROW - 5}">{label}</text>'
        f'<rect x="{x0:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW - 6}" rx="2" /></g>'
    )


def duration_text(seconds: float) -> str:
    """``850ms``, ``12s``, ``3m05s``, ``2h10m``, ``3d4h``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    delta = timedelta(seconds=round(seconds))
    hours, rest = divmod(delta.seconds, 3600)
    if delta.days:
        return f"{delta.days}d{hours}h"
    if hours:
        return f"{hours}h{rest // 60:02d}m"
    return f"{rest // 60}m{rest % 60:02d}s"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
