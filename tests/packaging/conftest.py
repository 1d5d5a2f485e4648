"""The project as its users get it: ``pip install`` into a fresh virtualenv, used from another folder.

Slow (a real install from the package index, about a minute), so these tests run only when asked
for: ``make test-packaging`` (``pytest -m packaging``), which CI runs after ``make test``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCAL_STATE = (".git", ".venv", ".venv-iac", "node_modules", ".azurite", ".devhost", ".bench", "__pycache__",
               ".pytest_cache", ".ruff_cache", "build", "*.egg-info", "local.settings.json")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "packaging" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m packaging (make test-packaging)")
    for item in items:
        if item.get_closest_marker("packaging"):
            item.add_marker(skip)


@dataclass
class Venv:
    """A virtualenv with the project installed; ``run`` executes its tools with no trace of this checkout."""

    path: Path
    source: Path  # the copy of the checkout it was installed from

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "BATON_URL")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return {**env, "VIRTUAL_ENV": str(self.path), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", **extra}

    def run(self, *args: str, cwd: Path, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=cwd, env=self.env(**extra), capture_output=True, text=True,
                              timeout=timeout)


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    """One virtualenv per session with ``pip install '<checkout>[pytest]'`` (a copy: builds leave files)."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "checkout"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LOCAL_STATE), symlinks=True)
    venv = Venv(base / "venv", source)
    subprocess.run([sys.executable, "-m", "venv", str(venv.path)], check=True, timeout=120)
    installed = venv.run(str(venv.bin / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                         "--quiet", f"{source}[pytest]", cwd=base)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    yield venv
