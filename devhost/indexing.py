"""Check an app's functions against their bindings the way the Python worker does at indexing.

Both programming models are described by :class:`FunctionDefinition` (the function.json
shape: a name, the Python callable and its binding dictionaries).  :func:`find_problems`
returns one line per mistake, ``file:line: function 'name': what is wrong``, so the host can
refuse the app before serving anything, as the worker does (``FunctionLoadError``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

RETURN = "$return"
_ROUTE_PARAM = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class FunctionDefinition:
    """One function as the host indexes it: bindings in their function.json form."""

    name: str
    fn: Callable[..., Any]
    bindings: tuple[dict[str, Any], ...]
    origin: str  # "file:line" of the Python function

    @property
    def trigger(self) -> dict[str, Any]:
        triggers = [b for b in self.bindings if str(b.get("type", "")).endswith("Trigger")]
        return triggers[0] if triggers else {}

    def binding(self, kind: str) -> dict[str, Any] | None:
        return next((b for b in self.bindings if b.get("type") == kind), None)


def plain(value: Any) -> Any:
    """A binding value as function.json spells it (SDK enums become their strings)."""
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return value.value if not isinstance(value.value, int) else value.name.lower()
    return value


def origin_of(fn: Callable[..., Any]) -> str:
    """``file:line`` of the user's code behind SDK wrappers (orchestrator / entity / client)."""
    for attribute in ("orchestrator_function", "entity_function", "client_function"):
        fn = getattr(fn, attribute, None) or fn
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code is not None else "<unknown>"


def find_problems(functions: Iterable[FunctionDefinition]) -> list[str]:
    """Every indexing mistake in the app, one line each (empty: the app may start)."""
    functions = list(functions)
    problems: list[str] = []
    problems.extend(_duplicate_names(functions))
    for function in functions:
        problems.extend(f"{function.origin}: function '{function.name}': {p}" for p in _parameter_problems(function))
    problems.extend(_route_clashes(functions))
    return problems


def _parameter_problems(function: FunctionDefinition) -> list[str]:
    """The worker's checks (``Registry.add_function`` / ``validate_function_params``)."""
    if not function.trigger:
        return ["no trigger binding: every function needs exactly one"]
    try:
        params = dict(inspect.signature(function.fn).parameters)
    except (TypeError, ValueError):
        return ["is not a Python function"]
    bound: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for binding in function.bindings:
        name, direction = str(binding.get("name", "")), str(binding.get("direction", "in")).lower()
        if direction == "inout":
            problems.append(f"binding '{name}': \"inout\" bindings are not supported")
        if name == RETURN:
            if direction != "out":
                problems.append('the "$return" binding must have direction set to "out"')
        else:
            bound[name] = binding
    if "context" in params and "context" not in bound:
        annotation = params.pop("context").annotation  # the worker passes its invocation context here
        if annotation is not inspect.Parameter.empty and _type_name(annotation) != "Context":
            problems.append(
                f'the "context" parameter is expected to be of type azure.functions.Context, got {annotation!r}'
            )
    missing = sorted(set(params) - set(bound))
    unbound = sorted(set(bound) - set(params))
    if missing:
        problems.append(
            f"parameter(s) {', '.join(missing)} are declared in Python but not in the function definition "
            f"(function.json or function decorators); bindings: {_describe(bound)}"
        )
    if unbound:
        problems.append(
            f"binding(s) {_describe({n: bound[n] for n in unbound})} are declared in "
            "function.json or function decorators but the Python function has no such parameter"
        )
    return problems


def _type_name(annotation: Any) -> str:
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return name.rsplit(".", 1)[-1]


def _describe(bound: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{n} ({b.get('type')})" for n, b in bound.items()) or "none"


def _duplicate_names(functions: list[FunctionDefinition]) -> list[str]:
    seen: dict[str, FunctionDefinition] = {}
    problems = []
    for function in functions:
        first = seen.setdefault(function.name.lower(), function)
        if first is not function:
            problems.append(
                f"{function.origin}: function '{function.name}': the name is already used by the function "
                f"at {first.origin}; function names must be unique"
            )
    return problems


def _route_clashes(functions: list[FunctionDefinition]) -> list[str]:
    """Two HTTP functions whose route templates match the same URLs for a common method."""
    seen: list[tuple[str, frozenset[str] | None, FunctionDefinition]] = []
    problems = []
    for function in functions:
        trigger = function.trigger
        if trigger.get("type") != "httpTrigger":
            continue
        route = str(trigger.get("route") or function.name).strip("/")
        shape = _ROUTE_PARAM.sub("{}", route).lower()
        methods = trigger.get("methods")
        verbs = frozenset(str(m).upper() for m in methods) if methods else None
        for other_shape, other_verbs, other in seen:
            if other_shape == shape and (verbs is None or other_verbs is None or verbs & other_verbs):
                problems.append(
                    f"{function.origin}: function '{function.name}': route '{route}' clashes with function "
                    f"'{other.name}' ({other.origin}) for the same methods"
                )
                break
        seen.append((shape, verbs, function))
    return problems
