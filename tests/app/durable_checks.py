"""Checks over an indexed app (the JSON from ``durable_index.py``): what the Functions host and
the Durable extension would reject at start-up or at the first call, found before deploying.

- function names are unique (case-insensitively, as the host compares them);
- every binding has a ``type``, a ``direction`` (in/out/inout) and a usable ``name``;
  each function has exactly one trigger;
- HTTP triggers: a route template that parses, known methods, a valid auth level, an HTTP
  output, and no two triggers answering the same (route, method);
- orchestration, activity and entity triggers are well formed and their durable names unique;
- every activity, sub-orchestrator and entity the code calls by name is registered.
  Calls whose names cannot be resolved statically are warnings, not failures.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

HTTP_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"}
AUTH_LEVELS = {"ANONYMOUS", "FUNCTION", "ADMIN"}
DIRECTIONS = {"IN", "OUT", "INOUT"}
DURABLE_TRIGGERS = {
    "orchestrationTrigger": ("orchestrator", "orchestration"),
    "activityTrigger": ("activity", "activity"),
    "entityTrigger": ("entity", "entityName"),
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROUTE_PARAMETER = re.compile(r"\{(\*{0,2})([A-Za-z_][A-Za-z0-9_]*)((?::[^{}:?=]+)*)(\?)?(?:=[^{}]*)?\}")


class RouteError(ValueError):
    """A route template the host would refuse."""


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    durable: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def route_key(route: str) -> str:
    """The route template with parameters anonymised: what two triggers must not share.

    Raises :class:`RouteError` for templates ASP.NET routing would reject: unbalanced
    braces, an empty segment, a bad or repeated parameter name, a catch-all not last.
    """
    segments = route.strip("/").split("/")
    seen: set[str] = set()
    key = []
    for position, segment in enumerate(segments):
        if not segment:
            raise RouteError(f"route {route!r}: empty segment")
        parameters = list(_ROUTE_PARAMETER.finditer(segment))
        literal = _ROUTE_PARAMETER.sub("", segment)
        if "{" in literal or "}" in literal:
            raise RouteError(f"route {route!r}: malformed parameter in {segment!r}")
        for match in parameters:
            name = match.group(2).lower()
            if name in seen:
                raise RouteError(f"route {route!r}: parameter {{{match.group(2)}}} appears twice")
            seen.add(name)
            if match.group(1) and position != len(segments) - 1:
                raise RouteError(f"route {route!r}: catch-all {{*{match.group(2)}}} must be the last segment")
        key.append(_ROUTE_PARAMETER.sub("{}", segment).lower())
    return "/".join(key)


def check_index(index: dict[str, Any]) -> Report:
    report = Report()
    if index.get("error"):
        report.problems.append(index["error"])
        return report
    check_functions(index.get("functions") or [], report)
    check_calls(index.get("calls") or [], report)
    return report


def check_functions(functions: list[dict[str, Any]], report: Report) -> None:
    names: dict[str, str] = {}
    routes: dict[tuple[str, str], str] = {}
    for function in functions:
        name = function["name"]
        if name.lower() in names:
            report.problems.append(f"{name}: function name already used by {names[name.lower()]}")
        names[name.lower()] = name
        bindings = function["json"].get("bindings") or []
        triggers = [b for b in bindings if isinstance(b, dict) and str(b.get("type", "")).endswith("Trigger")]
        for problem in _binding_problems(bindings):
            report.problems.append(f"{name}: {problem}")
        if len(triggers) != 1:
            report.problems.append(f"{name}: {len(triggers)} triggers, expected exactly one")
            continue
        trigger = triggers[0]
        if trigger["type"] == "httpTrigger":
            _check_http(name, trigger, bindings, routes, report)
        elif trigger["type"] in DURABLE_TRIGGERS:
            _register_durable(name, trigger, report)


def _binding_problems(bindings: list[Any]) -> list[str]:
    problems = []
    for position, binding in enumerate(bindings):
        if not isinstance(binding, dict):
            problems.append(f"binding #{position} is not an object")
            continue
        label = f"binding {binding.get('name')!r} ({binding.get('type')})"
        if not isinstance(binding.get("type"), str) or not binding["type"]:
            problems.append(f"binding #{position} has no type")
        if str(binding.get("direction", "")).upper() not in DIRECTIONS:
            problems.append(f"{label}: direction {binding.get('direction')!r} is not in/out/inout")
        bname = binding.get("name")
        if not isinstance(bname, str) or not (bname == "$return" or _IDENTIFIER.fullmatch(bname)):
            problems.append(f"{label}: name must be a parameter name or $return")
        if str(binding.get("type", "")).endswith("Trigger") and str(binding.get("direction", "")).upper() != "IN":
            problems.append(f"{label}: a trigger binding must have direction in")
    names = [b.get("name") for b in bindings if isinstance(b, dict)]
    problems += [f"binding name {n!r} used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    return problems


def _check_http(
    name: str, trigger: dict[str, Any], bindings: list[dict[str, Any]], routes: dict[tuple[str, str], str],
    report: Report,
) -> None:
    route = trigger.get("route") or name
    try:
        key = route_key(route)
    except RouteError as exc:
        report.problems.append(f"{name}: {exc}")
        return
    methods = [str(m).upper() for m in trigger.get("methods") or []]
    unknown = [m for m in methods if m not in HTTP_METHODS]
    if unknown:
        report.problems.append(f"{name}: unknown HTTP methods {unknown}")
    if not methods:
        report.problems.append(f"{name}: no methods declared (the trigger would answer every method)")
    auth = str(trigger.get("authLevel") or "FUNCTION").upper()
    if auth not in AUTH_LEVELS:
        report.problems.append(f"{name}: authLevel {trigger.get('authLevel')!r} is not anonymous/function/admin")
    if not any(b.get("type") == "http" and str(b.get("direction")).upper() == "OUT" for b in bindings):
        report.problems.append(f"{name}: HTTP trigger without an HTTP output binding")
    for method in methods or sorted(HTTP_METHODS):
        owner = routes.setdefault((key, method), name)
        if owner != name:
            report.problems.append(f"{name}: {method} {route} is already served by {owner}")


def _register_durable(name: str, trigger: dict[str, Any], report: Report) -> None:
    kind, attribute = DURABLE_TRIGGERS[trigger["type"]]
    durable = trigger.get(attribute) or name
    if not isinstance(durable, str) or not durable.strip():
        report.problems.append(f"{name}: {trigger['type']} has an empty {attribute}")
        return
    if durable.lower() in report.durable[kind]:
        report.problems.append(f"{name}: the {kind} name {durable!r} is registered twice")
    report.durable[kind].add(durable.lower())


def check_calls(calls: list[dict[str, Any]], report: Report) -> None:
    for call in calls:
        where = f"{call['file']}:{call['line']}"
        known = report.durable[call["kind"]]
        for target in call["names"]:
            if target.lower() not in known:
                listing = ", ".join(sorted(known)) or "none"
                report.problems.append(
                    f"{where}: {call['method']} names {call['kind']} {target!r}, which is not registered "
                    f"(registered: {listing})"
                )
        for reason in call["unresolved"]:
            report.warnings.append(f"{where}: {call['method']}: name not resolved statically: {reason}")
