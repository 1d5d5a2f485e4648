"""Azure Functions route templates: ``items/{id:int}``, ``files/{*path}``, ``users/{name?}``.

aiohttp's router does not understand optional parameters or ASP.NET constraints, so routes
of HTTP triggers are compiled here into regular expressions and matched in precedence order
(more literal segments first, as ASP.NET Core orders them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PARAM = re.compile(r"\{(\*)?([A-Za-z_][A-Za-z0-9_]*)((?::[^}?=]+(?:\([^)]*\))?)*)(\?)?(?:=([^}]*))?\}")
_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
    "decimal": r"-?\d+(?:\.\d+)?",
    "double": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    "float": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    "datetime": r"[0-9T:\-\.Z+ ]+",
}


class RouteTemplateError(ValueError):
    """A route template devhost cannot understand."""


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    pattern: re.Pattern[str]
    params: tuple[str, ...]
    defaults: tuple[tuple[str, str], ...]
    precedence: tuple[int, int]

    @classmethod
    def compile(cls, template: str) -> RouteTemplate:
        template = template.strip("/")
        parts: list[str] = []
        params: list[str] = []
        defaults: list[tuple[str, str]] = []
        literals = 0
        segments = template.split("/") if template else []
        for index, segment in enumerate(segments):
            regex, names, optional = _segment(segment, template)
            params.extend(n for n, _ in names)
            defaults.extend((n, d) for n, d in names if d is not None)
            literals += 0 if names else 1
            sep = "/" if index else ""
            parts.append(f"(?:{sep}{regex})?" if optional else f"{sep}{regex}")
        pattern = re.compile("^" + "".join(parts) + "/?$")
        return cls(template, pattern, tuple(params), tuple(defaults), (-literals, -len(segments)))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path.strip("/"))
        if found is None:
            return None
        values = {k: v for k, v in found.groupdict().items() if v is not None}
        for name, default in self.defaults:
            values.setdefault(name, default)
        return values


def _segment(segment: str, template: str) -> tuple[str, list[tuple[str, str | None]], bool]:
    names: list[tuple[str, str | None]] = []
    out: list[str] = []
    position = 0
    optional = False
    for param in _PARAM.finditer(segment):
        out.append(re.escape(segment[position : param.start()]))
        catch_all, name, constraints, is_optional, default = param.groups()
        body = r".+" if catch_all else _constraint_regex(constraints or "", template)
        out.append(f"(?P<{name}>{body})")
        names.append((name, default))
        optional = optional or bool(is_optional) or default is not None or bool(catch_all)
        position = param.end()
    out.append(re.escape(segment[position:]))
    if "{" in "".join(segment[position:]) or "}" in segment[position:]:
        raise RouteTemplateError(f"cannot parse route template '{template}'")
    return "".join(out), names, optional and len(names) == 1 and _only_param(segment)


def _only_param(segment: str) -> bool:
    return bool(_PARAM.fullmatch(segment))


def _constraint_regex(constraints: str, template: str) -> str:
    regex = r"[^/]+"
    for constraint in filter(None, constraints.split(":")):
        name, _, argument = constraint.partition("(")
        argument = argument.rstrip(")")
        if name in _CONSTRAINTS:
            regex = _CONSTRAINTS[name]
        elif name == "regex":
            regex = argument.strip("^$")
        elif name in ("length", "minlength", "maxlength"):
            bounds = argument.split(",")
            low, high = (bounds[0], bounds[-1]) if name == "length" else (
                (bounds[0], "") if name == "minlength" else ("1", bounds[0])
            )
            regex = f"[^/]{{{low},{high}}}"
        elif name in ("min", "max", "range"):
            regex = r"-?\d+"
        else:
            raise RouteTemplateError(f"route '{template}': unknown constraint '{name}'")
    return regex


def sort_routes(routes: list[tuple[RouteTemplate, Any]]) -> list[tuple[RouteTemplate, Any]]:
    """Most specific first: more literal segments, then longer templates."""
    return sorted(routes, key=lambda r: r[0].precedence)
