"""Load and index an app the way the Python worker does (§1).

v2 model: ``function_app.py`` is imported once per process with the app directory on
``sys.path`` and as the working directory; ``app.get_functions()`` is called exactly once and
the result cached, because a second call raises in the SDK.  v1 model (no
``function_app.py``, a ``function.json`` per folder): each script is imported as the worker
imports it, as ``__app__.<folder>``, and its entry point is the function.  Either way every
function is checked against its bindings (:mod:`devhost.indexing`) before anything is served.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import traceback
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import functionjson
from .errors import AppLoadError
from .indexing import FunctionDefinition, find_problems, origin_of, plain

DEFAULT_SCRIPT = "function_app.py"


@dataclass(frozen=True)
class HttpFunction:
    """An HTTP-triggered function and how to call it."""

    name: str
    route: str
    methods: frozenset[str] | None
    auth_level: str
    trigger_param: str
    client_param: str | None
    client_task_hub: str | None
    fn: Callable[..., Any]
    wants_context: bool


@dataclass(frozen=True)
class ActivityFunction:
    name: str
    param: str
    fn: Callable[..., Any]


@dataclass(frozen=True)
class HandleFunction:
    """An orchestrator or entity: the SDK's synchronous ``handle(context_json)``."""

    name: str
    fn: Callable[[str], str]


TRIGGER_KINDS = frozenset({"queueTrigger", "blobTrigger", "eventGridTrigger", "timerTrigger"})
"""Non-HTTP triggers served by :mod:`devhost.triggers`."""
BINDING_KINDS = frozenset({"queue", "blob", "durableClient"})
"""Bindings devhost serves beside those triggers."""


@dataclass(frozen=True)
class TriggerFunction:
    """A queue, blob, Event Grid or timer-triggered function with its bindings as in function.json."""

    name: str
    trigger: dict[str, Any]
    bindings: tuple[dict[str, Any], ...]
    fn: Callable[..., Any]
    annotations: dict[str, Any]
    wants_context: bool

    @property
    def kind(self) -> str:
        return str(self.trigger["type"])


@dataclass
class FunctionRegistry:
    """Everything devhost serves for one app; durable names are keyed lower-case."""

    app_dir: Path
    script: Path
    http: list[HttpFunction] = field(default_factory=list)
    orchestrators: dict[str, HandleFunction] = field(default_factory=dict)
    activities: dict[str, ActivityFunction] = field(default_factory=dict)
    entities: dict[str, HandleFunction] = field(default_factory=dict)
    triggers: list[TriggerFunction] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


_LOADED: dict[Path, FunctionRegistry] = {}


def load_app(app_dir: str | Path, script: str | None = None) -> FunctionRegistry:
    """Import and index the app in ``app_dir`` (cached per process)."""
    app_dir = Path(app_dir).resolve()
    script_path = app_dir / (script or os.environ.get("PYTHON_SCRIPT_FILE_NAME") or DEFAULT_SCRIPT)
    if script_path in _LOADED:
        return _LOADED[script_path]
    if script_path.is_file():
        definitions = _load_v2(app_dir, script_path)
    elif script is None and functionjson.is_v1_app(app_dir):
        definitions = _load_v1(app_dir)
    else:
        raise AppLoadError(
            f"{script_path}: not found. devhost runs Python v2-model apps (function_app.py) "
            "and v1-model apps (a function.json per function folder)."
        )
    problems = find_problems(definitions)
    if problems:
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        raise AppLoadError(f"{app_dir}: the app cannot be indexed ({count}):\n  " + "\n  ".join(problems))
    registry = FunctionRegistry(app_dir, script_path)
    for definition in definitions:
        _index(registry, definition)
    _LOADED[script_path] = registry
    return registry


def _load_v2(app_dir: Path, script_path: Path) -> list[FunctionDefinition]:
    module = _import_script(app_dir, script_path)
    app = _find_app(module, script_path)
    try:
        functions = app.get_functions()
    except Exception as exc:
        raise AppLoadError(f"{script_path}: indexing failed: {exc}") from exc
    definitions = []
    for function in functions:
        fn = function.get_user_function()
        bindings = tuple(
            {key: plain(value) for key, value in binding.get_dict_repr().items()} for binding in function.get_bindings()
        )
        definitions.append(FunctionDefinition(function.get_function_name(), fn, bindings, origin_of(fn)))
    return definitions


def _load_v1(app_dir: Path) -> list[FunctionDefinition]:
    namespace = _app_namespace(app_dir)
    definitions = []
    for spec in functionjson.read_functions(app_dir):
        relative = spec.script.relative_to(app_dir).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        with _app_environment(app_dir):
            try:
                module = importlib.import_module(".".join((namespace, *parts)))
            except Exception as exc:
                raise AppLoadError(_describe_import_error(exc, app_dir)) from exc
        fn = getattr(module, spec.entry_point, None)
        if not callable(fn):
            raise AppLoadError(
                f"{spec.script}: cannot load function {spec.name}: function {spec.entry_point}() is not present"
            )
        definitions.append(FunctionDefinition(spec.name, fn, spec.bindings, origin_of(fn)))
    return definitions


def _app_namespace(app_dir: Path) -> str:
    """The ``__app__`` package the worker imports v1 scripts under (one per app directory)."""
    name = "__app__"
    existing = sys.modules.get(name)
    if existing is not None and list(getattr(existing, "__path__", [])) != [str(app_dir)]:
        name = f"__app___{abs(hash(str(app_dir))):x}"
        existing = sys.modules.get(name)
    if existing is None:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(app_dir)]
        sys.modules[name] = importlib.util.module_from_spec(spec)
    return name


@contextlib.contextmanager
def _app_environment(app_dir: Path) -> Iterator[None]:
    previous = Path.cwd()
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    os.chdir(app_dir)
    try:
        yield
    finally:
        os.chdir(previous)


def _import_script(app_dir: Path, script_path: Path) -> Any:
    name = script_path.stem
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() != script_path:
        name = f"{name}_{abs(hash(str(script_path))):x}"
    spec = importlib.util.spec_from_file_location(name, script_path)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"{script_path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with _app_environment(app_dir):
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise AppLoadError(_describe_import_error(exc, app_dir)) from exc
    return module


def _describe_import_error(exc: BaseException, app_dir: Path) -> str:
    """``file:line: cause`` for the deepest frame inside the app (or the syntax error)."""
    if isinstance(exc, SyntaxError):
        return f"{exc.filename}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if str(app_dir) in (f.filename or "")]
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else str(app_dir)
    return f"{where}: {type(exc).__name__}: {exc}"


def _find_app(module: Any, script_path: Path) -> Any:
    import azure.functions as func

    apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    if len(apps) != 1:
        found = "no" if not apps else f"{len(apps)}"
        raise AppLoadError(
            f"{script_path}: found {found} FunctionApp instances at module level; expected exactly one "
            "(df.DFApp() or func.FunctionApp())."
        )
    return apps[0]


def _index(registry: FunctionRegistry, function: FunctionDefinition) -> None:
    name, fn, trigger = function.name, function.fn, function.trigger
    kind = trigger.get("type", "")
    if kind == "orchestrationTrigger":
        durable = trigger.get("orchestration") or name
        _add(registry.orchestrators, durable, HandleFunction(durable, fn), "orchestrator", function.origin)
    elif kind == "activityTrigger":
        durable = trigger.get("activity") or name
        _add(registry.activities, durable, ActivityFunction(durable, trigger["name"], fn), "activity", function.origin)
    elif kind == "entityTrigger":
        durable = trigger.get("entityName") or name
        _add(registry.entities, durable, HandleFunction(durable, fn), "entity", function.origin)
    elif kind == "httpTrigger":
        client = function.binding("durableClient")
        methods = trigger.get("methods")
        bound = {str(b.get("name")) for b in function.bindings}
        registry.http.append(HttpFunction(
            name=name,
            route=str(trigger.get("route") or name).strip("/"),
            methods=frozenset(str(m).upper() for m in methods) if methods else None,
            auth_level=str(trigger.get("authLevel") or "function").upper(),
            trigger_param=trigger["name"],
            client_param=client["name"] if client is not None else None,
            client_task_hub=client.get("taskHub") if client is not None else None,
            fn=fn,
            wants_context=_has_context_param(fn) and "context" not in bound,
        ))
    elif kind in TRIGGER_KINDS:
        _add_trigger(registry, function)
    else:
        registry.ignored.append(f"{name} ({kind})")


def _add_trigger(registry: FunctionRegistry, function: FunctionDefinition) -> None:
    trigger = function.trigger
    others = tuple(b for b in function.bindings if b is not trigger)
    unserved = sorted({str(b.get("type")) for b in others} - BINDING_KINDS)
    if unserved:
        registry.ignored.append(f"{function.name} ({trigger['type']} with {', '.join(unserved)} bindings)")
        return
    try:
        annotations = {k: p.annotation for k, p in inspect.signature(function.fn).parameters.items()}
    except (TypeError, ValueError):
        annotations = {}
    with contextlib.suppress(Exception):  # string annotations (``from __future__ import annotations``)
        annotations.update(typing.get_type_hints(inspect.unwrap(function.fn)))
    bound = {str(b.get("name")) for b in function.bindings}
    registry.triggers.append(TriggerFunction(
        function.name, trigger, others, function.fn, annotations, "context" in annotations and "context" not in bound,
    ))


def _add(table: dict[str, Any], durable: str, entry: Any, kind: str, origin: str) -> None:
    if durable.lower() in table:
        raise AppLoadError(f"{origin}: the {kind} name '{durable}' is registered twice")
    table[durable.lower()] = entry


def _has_context_param(fn: Callable[..., Any]) -> bool:
    import inspect

    try:
        return "context" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
