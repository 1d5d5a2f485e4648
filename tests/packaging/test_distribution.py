"""What the distribution holds, and that installing it leaves the deployed app as it was (fast, no install)."""

from __future__ import annotations

import fnmatch
import tomllib
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


def test_building_or_serving_leaves_nothing_in_the_deployment_package() -> None:
    lines = (ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]
    for local in ("pyproject.toml", "build", "baton.egg-info", ".devhost", "baton", "devhost"):
        assert any(fnmatch.fnmatch(local, pattern) for pattern in patterns), local
