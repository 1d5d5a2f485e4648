"""A workflow's graph, declared once as a mermaid flowchart, drawn with each node's live state.

Node ids are the agents' names (``collect_data``, ``analyze``) or the workflow's own decision
and end nodes (``ok``, ``merge``, ``done``).  :meth:`Graph.render` appends one ``classDef``
per state and one ``class`` line per state in use, so any mermaid renderer colours the
nodes: pending, running, completed, failed, skipped, waiting.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

PENDING, RUNNING, COMPLETED, FAILED, SKIPPED, WAITING = (
    "pending", "running", "completed", "failed", "skipped", "waiting")
STATES = (PENDING, RUNNING, COMPLETED, FAILED, SKIPPED, WAITING)
STYLES = {
    PENDING: "fill:#f6f6f6,stroke:#9e9e9e,color:#616161",
    RUNNING: "fill:#fff3c4,stroke:#c79100,stroke-width:2px",
    COMPLETED: "fill:#d7f0d8,stroke:#2e7d32",
    FAILED: "fill:#f9d6d5,stroke:#c62828,stroke-width:2px",
    SKIPPED: "fill:#eeeeee,stroke:#bdbdbd,stroke-dasharray:4 3,color:#9e9e9e",
    WAITING: "fill:#dbe8ff,stroke:#1e5bc6,stroke-width:2px",
}
_LABEL = re.compile(r"\|[^|]*\||\[[^\[\]]*\]|\([^()]*\)|\{[^{}]*\}|\"[^\"]*\"")
_ARROW = re.compile(r"-\.->|-->|==>|---|&|;")
_KEYWORDS = {"flowchart", "graph", "subgraph", "end", "classDef", "class", "style", "linkStyle", "direction"}


def node_ids(source: str) -> tuple[str, ...]:
    """The node ids a flowchart declares, in order of first appearance."""
    ids: dict[str, None] = {}
    for line in source.splitlines():
        line = line.strip()
        if not line or line.startswith(("%%", "flowchart", "graph")):
            continue
        previous = None
        while previous != line:  # strip nested labels: ([...]), {{...}}
            previous, line = line, _LABEL.sub(" ", line)
        for token in _ARROW.sub(" ", line).split():
            if re.fullmatch(r"[A-Za-z_]\w*", token) and token not in _KEYWORDS:
                ids.setdefault(token)
    return tuple(ids)


@dataclass(frozen=True)
class Graph:
    """A flowchart's body (without the ``flowchart`` line) and the direction to draw it in."""

    source: str
    direction: str = "TD"
    nodes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", textwrap.dedent(self.source).strip())
        object.__setattr__(self, "nodes", node_ids(self.source))

    def render(self, states: Mapping[str, str] | None = None) -> str:
        """The mermaid text, each node styled by ``states`` (missing nodes are pending)."""
        states = states or {}
        return _render(self, tuple(states.get(node, PENDING) for node in self.nodes))

    def _draw(self, states: Mapping[str, str]) -> str:
        lines = [f"flowchart {self.direction}", *(f"  {line}" for line in self.source.splitlines())]
        lines += [f"  classDef {state} {STYLES[state]}" for state in STATES]
        by_state: dict[str, list[str]] = {}
        for node in self.nodes:
            state = states.get(node, PENDING)
            by_state.setdefault(state if state in STYLES else PENDING, []).append(node)
        lines += [f"  class {','.join(nodes)} {state}" for state, nodes in by_state.items()]
        return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=256)
def _render(graph: Graph, states: tuple[str, ...]) -> str:
    """Rendering is pure, and a replay publishes the same few states many times: draw each once."""
    return graph._draw(dict(zip(graph.nodes, states, strict=True)))
