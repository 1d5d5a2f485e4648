"""What the distribution holds, and that installing it leaves the deployed app as it was (fast, no install)."""

from __future__ import annotations

import ast
import fnmatch
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_distribution_is_the_tools_with_their_commands_and_plugin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["baton", "baton.*", "devhost", "devhost.*"]
    assert project["project"]["scripts"] == {"baton": "baton.cli:main", "devhost": "devhost.cli:main"}
    assert project["project"]["entry-points"]["pytest11"] == {"devhost.pytest_plugin": "devhost.pytest_plugin"}
    # the repository's own addopts loads the same plugin name, so a checkout that is also installed loads it once
    assert "-p devhost.pytest_plugin" in project["tool"]["pytest"]["ini_options"]["addopts"]
    needed = {"azure-functions", "azure-functions-durable", "aiohttp", "azure-data-tables", "azure-storage-queue",
              "azure-storage-blob", "rich"}
    declared = {dep.split(">")[0].split("=")[0].split("[")[0] for dep in project["project"]["dependencies"]}
    assert needed <= declared, needed - declared


AZURE_SPECIAL = {"azure.durable_functions": "azure-functions-durable"}


def imported_distributions(package: str) -> dict[str, str]:
    """Third-party distributions the package's modules import at top level, with one importing file each."""
    found: dict[str, str] = {}
    provided = packages_distributions()
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("baton", "devhost", "pytest", "_pytest", "pytest_asyncio"):
                    continue  # pytest and pytest-asyncio come with the [pytest] extra, for the plugin only
                if top == "azure":  # a namespace shared by many distributions: azure.storage.blob -> azure-storage-blob
                    parts = name.split(".")
                    depth = 3 if parts[1] in ("storage", "data") else 2
                    dists = [AZURE_SPECIAL.get(name, "-".join(parts[:depth]))]
                else:
                    dists = provided.get(top, [top])
                for dist in dists:
                    found.setdefault(dist.lower(), str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_of_the_tools_is_a_declared_dependency() -> None:
    """A module imported by devhost or the CLI but not declared breaks ``pip install`` users only (not this venv)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = (dep.split(">")[0].split("=")[0].split("[")[0] for dep in project["project"]["dependencies"])
    declared = {name.strip().lower() for name in names}
    transitive = {"multidict", "yarl", "markupsafe", "azure-functions-durable"}  # aiohttp's, Jinja2's, or the SDK's own
    imported = {**imported_distributions("devhost"), **imported_distributions("baton")}
    missing = {dist: where for dist, where in imported.items() if dist not in declared | transitive}
    assert not missing, f"declare these in pyproject.toml [project] dependencies: {missing}"


def test_building_or_serving_leaves_nothing_in_the_deployment_package() -> None:
    lines = (ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]
    for local in ("pyproject.toml", "build", "baton.egg-info", ".devhost", "baton", "devhost"):
        assert any(fnmatch.fnmatch(local, pattern) for pattern in patterns), local
