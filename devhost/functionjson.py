"""The Python v1 programming model: one folder per function, described by ``function.json``.

Only the metadata lives here (what the host reads before it asks the worker to load a
function); :mod:`devhost.loader` imports the scripts.  Defaults are the worker's:
``scriptFile`` ``__init__.py`` next to ``function.json``, ``entryPoint`` ``main``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AppLoadError

DEFAULT_SCRIPT = "__init__.py"
DEFAULT_ENTRY_POINT = "main"


@dataclass(frozen=True)
class FunctionJson:
    """One v1 function folder: where its code is and its bindings."""

    name: str
    folder: Path
    script: Path
    entry_point: str
    bindings: tuple[dict[str, Any], ...]


def is_v1_app(app_dir: Path) -> bool:
    return any(app_dir.glob("*/function.json"))


def read_functions(app_dir: Path) -> list[FunctionJson]:
    """Every enabled function folder of the app, in name order."""
    functions = []
    for path in sorted(app_dir.glob("*/function.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise AppLoadError(f"{path}: not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("bindings", []), list):
            raise AppLoadError(f"{path}: expected an object with a \"bindings\" list")
        if data.get("disabled") is True:
            continue
        folder = path.parent
        script = (folder / str(data.get("scriptFile") or DEFAULT_SCRIPT)).resolve()
        if script.suffix != ".py" or not script.is_file():
            raise AppLoadError(f"{path}: scriptFile '{script}' is not a Python file of this app")
        if app_dir not in script.parents:
            raise AppLoadError(f"{path}: scriptFile '{script}' is outside the app folder {app_dir}")
        bindings = tuple(b for b in data.get("bindings", []) if isinstance(b, dict))
        functions.append(FunctionJson(
            folder.name, folder, script, str(data.get("entryPoint") or DEFAULT_ENTRY_POINT), bindings
        ))
    return functions
