"""What the dashboard reads, through the task hub client's public query methods only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from multidict import MultiMapping

from ..client import TaskHubClient, parse_time
from ..store.base import InstanceQuery, OrchestrationInstance, RuntimeStatus

PAGE_SIZES = (20, 50, 100, 200)
MAX_STORE_PAGES = 20  # a name filter reads at most this many store pages per dashboard page


@dataclass(frozen=True)
class InstanceFilter:
    """The instances table's filters, parsed from the query string (bad input: ``ValueError``)."""

    statuses: frozenset[RuntimeStatus] | None = None
    name: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    top: int = 50
    token: str | None = None

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> InstanceFilter:
        by_name = {s.value.lower(): s for s in RuntimeStatus}
        names = [n for value in query.getall("status", []) for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n.strip().lower() not in by_name]
        if unknown:
            raise ValueError(f"unknown status '{unknown[0]}'; use one of {', '.join(by_name[k] for k in by_name)}")
        top_text = query.get("top") or "50"
        if not top_text.isdigit() or int(top_text) not in PAGE_SIZES:
            raise ValueError(f"top must be one of {', '.join(map(str, PAGE_SIZES))}, not '{top_text}'")
        return cls(
            statuses=frozenset(by_name[n.strip().lower()] for n in names) or None,
            name=(query.get("name") or "").strip(),
            created_from=parse_time(query.get("from")),
            created_to=parse_time(query.get("to")),
            top=int(top_text),
            token=query.get("token") or None,
        )


@dataclass(frozen=True)
class Page:
    """One page of rows and the token of the next (``None`` on the last page)."""

    rows: list[OrchestrationInstance]
    next_token: str | None


async def orchestrations(client: TaskHubClient, wanted: InstanceFilter) -> Page:
    """A page of orchestration instances, newest first (entities are listed separately).

    Status and time filters go to the store's query; the name filter (a case-insensitive
    substring) is applied to what the store returns, reading further store pages until the
    page is full.
    """
    rows: list[OrchestrationInstance] = []
    token = wanted.token
    needle = wanted.name.lower()
    for _ in range(MAX_STORE_PAGES):
        page = await client.query(InstanceQuery(
            runtime_status=wanted.statuses, created_from=wanted.created_from, created_to=wanted.created_to,
            top=wanted.top, continuation_token=token,
        ))
        rows.extend(i for i in page.instances if not i.instance_id.startswith("@") and needle in i.name.lower())
        token = page.continuation_token
        if token is None or len(rows) >= wanted.top or not needle:
            break
    return Page(rows, token)


async def entities(client: TaskHubClient, token: str | None, top: int = 100) -> Page:
    """A page of durable entities (instances whose id starts with ``@``)."""
    page = await client.query(InstanceQuery(instance_id_prefix="@", top=top, continuation_token=token))
    return Page(page.instances, page.continuation_token)


def pretty(text: str | None) -> str:
    """Stored JSON text, indented for people (raw text when it is not JSON)."""
    if text is None:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def summary(text: str | None, limit: int = 80) -> str:
    """One line of a custom status for the table (``graph`` text is left out)."""
    if not text:
        return ""
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    if isinstance(value, dict) and isinstance(value.get("graph"), str):
        value = {k: v for k, v in value.items() if k != "graph"}
    line = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def graph_of(text: str | None) -> str | None:
    """The mermaid text of a custom status ``{"graph": "..."}``, if any."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    graph = value.get("graph") if isinstance(value, dict) else None
    return graph if isinstance(graph, str) and graph.strip() else None


def failure_parts(text: str | None) -> tuple[str, str]:
    """A failed instance's output as (first line, the rest): the message, then the details."""
    if not text:
        return "", ""
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    if not isinstance(value, str):
        return pretty(text), ""
    first, _, rest = value.strip().partition("\n")
    return first.strip(), rest.strip()
