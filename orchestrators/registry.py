"""The workflow registry: every module in ``orchestrators/`` that declares ``WORKFLOW`` is a workflow.

Adding a workflow is adding ``orchestrators/<name>.py`` with ``bp``, ``WORKFLOW`` and its
orchestrator function.  :data:`WORKFLOWS` (name -> :class:`Workflow`) feeds the HTTP API,
the OpenAPI document and ``GET /api/definitions`` (and through them the CLI); the README's
table is checked against it.  :data:`blueprints` holds every module's ``bp`` (workflows,
``agent_step``, ``save_workflow_result``).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

from .workflow import Workflow

PACKAGE = __name__.rpartition(".")[0]


def _modules() -> list[ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]))
    return [importlib.import_module(f"{PACKAGE}.{name}") for name in names if not name.startswith("_")
            and name != "registry"]


MODULES = _modules()
WORKFLOWS: dict[str, Workflow] = {
    m.WORKFLOW.name: m.WORKFLOW for m in MODULES if isinstance(getattr(m, "WORKFLOW", None), Workflow)
}
blueprints = [m.bp for m in MODULES if hasattr(m, "bp")]
