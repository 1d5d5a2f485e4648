"""Load and index an app's ``function_app.py`` the way the Python worker does (§1).

The script is imported once per process with the app directory on ``sys.path`` and as the
working directory; ``app.get_functions()`` is called exactly once and the result cached,
because a second call raises in the SDK.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import traceback
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AppLoadError

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
    if not script_path.is_file():
        raise AppLoadError(f"{script_path}: not found. devhost runs Python v2-model apps (function_app.py).")
    module = _import_script(app_dir, script_path)
    app = _find_app(module, script_path)
    try:
        functions = app.get_functions()
    except Exception as exc:
        raise AppLoadError(f"{script_path}: indexing failed: {exc}") from exc
    registry = FunctionRegistry(app_dir, script_path)
    for function in functions:
        _index(registry, function, script_path)
    _LOADED[script_path] = registry
    return registry


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


def _index(registry: FunctionRegistry, function: Any, script_path: Path) -> None:
    name = function.get_function_name()
    trigger = function.get_trigger()
    bindings = {b.type: b for b in function.get_bindings()}
    kind = getattr(trigger, "type", "")
    fn = function.get_user_function()
    if kind == "orchestrationTrigger":
        durable = getattr(trigger, "orchestration", None) or name
        _add(registry.orchestrators, durable, HandleFunction(durable, fn), "orchestrator", script_path)
    elif kind == "activityTrigger":
        durable = getattr(trigger, "activity", None) or name
        _add(registry.activities, durable, ActivityFunction(durable, trigger.name, fn), "activity", script_path)
    elif kind == "entityTrigger":
        durable = getattr(trigger, "entity_name", None) or name
        _add(registry.entities, durable, HandleFunction(durable, fn), "entity", script_path)
    elif kind == "httpTrigger":
        client = bindings.get("durableClient")
        methods = getattr(trigger, "methods", None)
        auth = getattr(trigger, "auth_level", None)
        registry.http.append(HttpFunction(
            name=name,
            route=(getattr(trigger, "route", None) or name).strip("/"),
            methods=frozenset(str(getattr(m, "value", m)).upper() for m in methods) if methods else None,
            auth_level=str(getattr(auth, "value", auth) or "FUNCTION").upper(),
            trigger_param=trigger.name,
            client_param=client.name if client is not None else None,
            client_task_hub=getattr(client, "task_hub", None) if client is not None else None,
            fn=fn,
            wants_context=_has_context_param(fn),
        ))
    elif kind in TRIGGER_KINDS:
        _add_trigger(registry, name, function, fn)
    else:
        registry.ignored.append(f"{name} ({kind})")


def _add_trigger(registry: FunctionRegistry, name: str, function: Any, fn: Callable[..., Any]) -> None:
    import inspect

    described = [_binding_dict(b) for b in function.get_bindings()]
    trigger = next(b for b in described if b["type"].endswith("Trigger"))
    others = tuple(b for b in described if b is not trigger)
    unserved = sorted({b["type"] for b in others} - BINDING_KINDS)
    if unserved:
        registry.ignored.append(f"{name} ({trigger['type']} with {', '.join(unserved)} bindings)")
        return
    try:
        annotations = {k: p.annotation for k, p in inspect.signature(fn).parameters.items()}
    except (TypeError, ValueError):
        annotations = {}
    with contextlib.suppress(Exception):  # string annotations (``from __future__ import annotations``)
        annotations.update(typing.get_type_hints(inspect.unwrap(fn)))
    registry.triggers.append(TriggerFunction(name, trigger, others, fn, annotations, "context" in annotations))


def _binding_dict(binding: Any) -> dict[str, Any]:
    """A binding as function.json states it (directions as ``in`` / ``out``)."""
    described = dict(binding.get_dict_repr())
    direction = described.get("direction")
    described["direction"] = str(getattr(direction, "name", direction) or "in").lower()
    return described


def _add(table: dict[str, Any], durable: str, entry: Any, kind: str, script_path: Path) -> None:
    if durable.lower() in table:
        raise AppLoadError(f"{script_path}: the {kind} name '{durable}' is registered twice")
    table[durable.lower()] = entry


def _has_context_param(fn: Callable[..., Any]) -> bool:
    import inspect

    try:
        return "context" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
