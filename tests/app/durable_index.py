"""Index a Python v2-model Functions app the way the worker does, and find its durable calls.

Run as a script in a fresh process (``python durable_index.py APP_DIR``): the app is imported
once with the app directory as working directory and first ``sys.path`` entry, the single
``azure.functions.FunctionRegister`` at module level is found, ``get_functions()`` is called
exactly once, and every function's ``get_function_json()`` is collected.  A fresh process
matters: building functions mutates the shared blueprints, so indexing twice in one process
(say, in the test process next to devhost) would not be what the worker sees.

Then the app's own modules (those loaded from under APP_DIR) are read with ``ast`` for
``call_activity``, ``call_activity_with_retry``, ``call_sub_orchestrator(_with_retry)`` and
``EntityId(...)``; the first argument is resolved statically against the imported modules:

- a string literal, or a name / attribute / subscript that evaluates to a ``str`` constant;
- a subscript of a module-level mapping with a dynamic key: any of the mapping's values;
- a loop or comprehension variable over a resolvable sequence (``for a in AGENTS``);
- a local variable assigned only resolvable values;
- a parameter of a module-level function: resolved at every call site of that function
  in the app's modules (a few levels deep), e.g. ``start_agent(ctx, run, COLLECT, ...)``.

Anything else is left unresolved, with the reason; the checker reports those as warnings.
Prints one JSON document: ``{"error", "functions": [...], "calls": [...]}``.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import inspect
import json
import os
import sys
import traceback
import types
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DURABLE_METHODS = {
    "call_activity": "activity",
    "call_activity_with_retry": "activity",
    "call_sub_orchestrator": "orchestrator",
    "call_sub_orchestrator_with_retry": "orchestrator",
}
ENTITY_ID = "EntityId"
MAX_DEPTH = 4
_UNKNOWN = object()
_SEQUENCE_BUILDERS = {"list", "tuple", "sorted", "set", "frozenset"}


@dataclass
class CallSite:
    """One durable call in the app's source and the names its first argument can take."""

    kind: str
    method: str
    file: str
    line: int
    expr: str
    names: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


@dataclass
class _Source:
    module: types.ModuleType
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]


class _Resolver:
    """Static resolution of name arguments against the imported app modules."""

    def __init__(self, sources: list[_Source]) -> None:
        self.sources = sources

    # -- entry points ---------------------------------------------------------------
    def item(self, node: ast.expr, src: _Source, depth: int = 0) -> tuple[list[str], list[str]]:
        """Candidate strings for ``node``, plus reasons for what could not be resolved."""
        value = self._evaluate(node, src.module)
        if isinstance(value, str):
            return [value], []
        if isinstance(node, ast.Subscript):
            base = self._evaluate(node.value, src.module)
            if isinstance(base, Mapping) and base and all(isinstance(v, str) for v in base.values()):
                return sorted(set(base.values())), []
        if isinstance(node, ast.IfExp):
            return _merge([self.item(node.body, src, depth), self.item(node.orelse, src, depth)])
        if isinstance(node, ast.Name):
            return self._local_name(node, src, depth, want_sequence=False)
        return [], [f"{ast.unparse(node)} is not a constant"]

    def sequence(self, node: ast.expr, src: _Source, depth: int) -> tuple[list[str], list[str]]:
        """Candidate strings for every element of a sequence expression."""
        value = self._evaluate(node, src.module)
        if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
            return sorted(set(value)), []
        if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
            return sorted(value), []
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            names: list[str] = []
            reasons: list[str] = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    found, why = self.sequence(element.value, src, depth)
                else:
                    found, why = self.item(element, src, depth)
                names += found
                reasons += why
            return names, reasons
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _SEQUENCE_BUILDERS
            and len(node.args) == 1
        ):
            return self.sequence(node.args[0], src, depth)
        if isinstance(node, ast.Name):
            return self._local_name(node, src, depth, want_sequence=True)
        return [], [f"{ast.unparse(node)} is not a constant sequence"]

    # -- helpers ----------------------------------------------------------------------
    def _evaluate(self, node: ast.expr, namespace: types.ModuleType) -> Any:
        """The value of a constant expression in a module's namespace, or ``_UNKNOWN``."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return vars(namespace).get(node.id, getattr(builtins, node.id, _UNKNOWN))
        if isinstance(node, ast.Attribute):
            base = self._evaluate(node.value, namespace)
            if isinstance(base, types.ModuleType | type):
                return getattr(base, node.attr, _UNKNOWN)
            return _UNKNOWN
        if isinstance(node, ast.Subscript):
            base = self._evaluate(node.value, namespace)
            key = self._evaluate(node.slice, namespace)
            if isinstance(base, Mapping | list | tuple) and key is not _UNKNOWN:
                try:
                    return base[key]
                except (KeyError, IndexError, TypeError):
                    return _UNKNOWN
        return _UNKNOWN

    def _local_name(
        self, node: ast.Name, src: _Source, depth: int, *, want_sequence: bool
    ) -> tuple[list[str], list[str]]:
        resolve = self.sequence if want_sequence else self.item
        for ancestor in _ancestors(node, src.parents):
            for target, iterable in _loop_bindings(ancestor):
                if target == node.id and not want_sequence:
                    return self.sequence(iterable, src, depth)
            if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                assigned = _assignments(ancestor, node.id)
                if assigned:
                    return _merge(resolve(value, src, depth) for value in assigned)
                if isinstance(ancestor, ast.Lambda) or node.id not in _parameter_names(ancestor):
                    break
                return self._parameter(ancestor, node.id, src, depth, want_sequence)
        return [], [f"{node.id} is neither a constant nor a loop variable or parameter"]

    def _parameter(
        self, func: ast.FunctionDef | ast.AsyncFunctionDef, param: str, src: _Source, depth: int, want_sequence: bool
    ) -> tuple[list[str], list[str]]:
        where = f"parameter {param!r} of {func.name}()"
        target = vars(src.module).get(func.name)
        if depth >= MAX_DEPTH or not inspect.isfunction(target):
            return [], [f"{where}: not followed further"]
        signature = inspect.signature(target)
        results = []
        for caller_src, call in self._calls_to(target):
            argument = _bound_argument(call, signature, param)
            if argument is None:
                default = signature.parameters[param].default
                if isinstance(default, str) and not want_sequence:
                    results.append(([default], []))
                else:
                    results.append(([], [f"{where}: not passed at {caller_src.path.name}:{call.lineno}"]))
                continue
            resolve = self.sequence if want_sequence else self.item
            results.append(resolve(argument, caller_src, depth + 1))
        if not results:
            return [], [f"{where}: no call sites in the app"]
        return _merge(results)

    def _calls_to(self, target: types.FunctionType) -> Iterator[tuple[_Source, ast.Call]]:
        for src in self.sources:
            for call in ast.walk(src.tree):
                if isinstance(call, ast.Call) and self._evaluate(call.func, src.module) is target:
                    yield src, call


def _merge(results: Any) -> tuple[list[str], list[str]]:
    names: set[str] = set()
    reasons: list[str] = []
    for found, why in results:
        names.update(found)
        reasons += why
    return sorted(names), reasons


def _ancestors(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> Iterator[ast.AST]:
    while node in parents:
        node = parents[node]
        yield node


def _loop_bindings(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    """(variable, iterable) for a ``for`` statement or comprehension binding one name."""
    if isinstance(node, ast.For | ast.AsyncFor) and isinstance(node.target, ast.Name):
        yield node.target.id, node.iter
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        for generator in node.generators:
            if isinstance(generator.target, ast.Name):
                yield generator.target.id, generator.iter


def _assignments(func: ast.AST, name: str) -> list[ast.expr]:
    """Values assigned to ``name`` anywhere in ``func`` (plain, annotated and walrus)."""
    values = []
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            values.append(node.value)
    return values


def _parameter_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = func.args
    return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}


def _bound_argument(call: ast.Call, signature: inspect.Signature, param: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == param:
            return keyword.value
    names = list(signature.parameters)
    index = names.index(param)
    positional = call.args
    if any(isinstance(a, ast.Starred) for a in positional[: index + 1]):
        return None
    return positional[index] if index < len(positional) else None


def _first_argument(call: ast.Call, keyword: str) -> ast.expr | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _durable_call(call: ast.Call) -> tuple[str, str, str] | None:
    """(kind, method, keyword of the name argument) when ``call`` names a durable function."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in DURABLE_METHODS and isinstance(func, ast.Attribute):
        return DURABLE_METHODS[name], name, "name"
    if name == ENTITY_ID:
        return "entity", name, "name"
    return None


def find_call_sites(sources: list[_Source], app_dir: Path) -> list[CallSite]:
    resolver = _Resolver(sources)
    sites = []
    for src in sources:
        for node in ast.walk(src.tree):
            if not isinstance(node, ast.Call) or (found := _durable_call(node)) is None:
                continue
            kind, method, keyword = found
            site = CallSite(kind, method, str(src.path.relative_to(app_dir)), node.lineno, ast.unparse(node))
            argument = _first_argument(node, keyword)
            if argument is None:
                site.unresolved.append("no name argument")
            else:
                site.names, site.unresolved = resolver.item(argument, src)
            sites.append(site)
    return sorted(sites, key=lambda s: (s.file, s.line))


def app_sources(app_dir: Path) -> list[_Source]:
    """Parsed source of every module imported from under ``app_dir`` (virtualenvs excluded)."""
    sources = []
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not file.endswith(".py"):
            continue
        path = Path(file).resolve()
        if not path.is_relative_to(app_dir):
            continue
        if any(part.startswith(".") or part == "site-packages" for part in path.relative_to(app_dir).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        sources.append(_Source(module, path, tree, parents))
    return sorted(sources, key=lambda s: s.path)


def index_app(app_dir: Path, script: str = "function_app.py") -> dict[str, Any]:
    """Import and index the app in this process; returns the JSON-able report."""
    import azure.functions as func

    app_dir = app_dir.resolve()
    sys.path.insert(0, str(app_dir))
    os.chdir(app_dir)
    spec = importlib.util.spec_from_file_location(Path(script).stem, app_dir / script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
        if len(apps) != 1:
            return {"error": f"{script}: {len(apps)} FunctionApp instances at module level, expected 1"}
        functions = apps[0].get_functions()
        indexed = [{"name": f.get_function_name(), "json": json.loads(f.get_function_json())} for f in functions]
    except Exception:
        return {"error": f"{script}: indexing failed:\n{traceback.format_exc(limit=-3)}"}
    sites = find_call_sites(app_sources(app_dir), app_dir)
    return {"error": None, "functions": indexed, "calls": [asdict(s) for s in sites]}


def main(argv: list[str]) -> int:
    """``durable_index.py APP_DIR OUT_JSON``: the app may print while importing, so the
    report goes to a file, not stdout."""
    if len(argv) != 3:
        print(main.__doc__, file=sys.stderr)
        return 2
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)  # index the app, not this directory
    out = Path(argv[2]).resolve()
    report = index_app(Path(argv[1]), os.environ.get("PYTHON_SCRIPT_FILE_NAME") or "function_app.py")
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
