"""The files that make the repository root a deployable Functions app: host.json,
local.settings.sample.json, .funcignore, azure.yaml, plus the rules for checkov skips."""

from __future__ import annotations

import ast
import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HUB_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,49}")


def load_json(name: str) -> Any:
    return json.loads((ROOT / name).read_text(encoding="utf-8"))


def test_host_json_pins_bundle_v4_and_configures_the_durable_task_hub() -> None:
    host = load_json("host.json")
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"}
    assert host["extensions"]["http"]["routePrefix"] == "api"
    durable = host["extensions"]["durableTask"]
    assert durable["hubName"] == "%TASKHUB_NAME%"
    assert durable["storageProvider"]["type"].lower() == "azurestorage"
    assert durable["storageProvider"]["connectionName"] == "AzureWebJobsStorage"
    for limit in ("maxConcurrentActivityFunctions", "maxConcurrentOrchestratorFunctions"):
        assert isinstance(durable[limit], int) and 1 <= durable[limit] <= 100
    sampling = host["logging"]["applicationInsights"]["samplingSettings"]
    assert sampling["isEnabled"] is True and "Request" in sampling["excludedTypes"].split(";")


def test_devhost_reads_host_json_with_the_hub_from_app_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = pytest.importorskip("devhost.settings")
    monkeypatch.setenv("TASKHUB_NAME", load_json("local.settings.sample.json")["Values"]["TASKHUB_NAME"])
    host = settings.load_host_settings(ROOT)
    assert host.hub_name == "batonhub"
    assert host.route_prefix == "api"
    assert host.storage_connection_name == "AzureWebJobsStorage"
    assert host.max_concurrent_activities == 10
    monkeypatch.delenv("TASKHUB_NAME")
    with pytest.raises(Exception, match="'%TASKHUB_NAME%' does not resolve to a value"):
        settings.load_host_settings(ROOT)  # as the host's name resolver refuses it


def test_local_settings_sample_runs_offline_on_azurite() -> None:
    sample = load_json("local.settings.sample.json")
    assert sample["IsEncrypted"] is False
    values = sample["Values"]
    assert all(isinstance(v, str) for v in values.values())
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert HUB_NAME.fullmatch(values["TASKHUB_NAME"])
    backends = ("AZURE_OPENAI_ENDPOINT", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    assert not [name for name in backends if values.get(name)], "the sample must select the offline backend"
    assert all(name.startswith(("BATON_", "TASKHUB_", "FUNCTIONS_", "AzureWebJobs")) for name in values)


def funcignore_patterns() -> list[str]:
    lines = (ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in funcignore_patterns())


def test_funcignore_keeps_the_app_and_drops_tooling_tests_and_local_state() -> None:
    for needed in ("function_app.py", "host.json", "requirements.txt", "agents", "api", "orchestrators"):
        assert not ignored(needed), needed
    for dropped in (".venv", ".venv-iac", "node_modules", ".azurite", "tests", "bench", "devhost", "baton",
                    "infra", ".git", "local.settings.json", "__pycache__", "requirements-dev.txt"):
        assert ignored(dropped), dropped


def test_funcignore_keeps_every_local_package_function_app_imports() -> None:
    script = ROOT / "function_app.py"
    if not script.is_file():
        pytest.skip("function_app.py is not written yet")
    imported = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    local = {name for name in imported if (ROOT / name).is_dir() or (ROOT / f"{name}.py").is_file()}
    assert not [name for name in local if ignored(name) or ignored(f"{name}.py")]


def simple_yaml(text: str) -> dict[str, Any]:
    """Nested ``key: value`` mappings, enough for azure.yaml (no lists, no flow style)."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    for raw in text.splitlines():
        line = raw.split(" #")[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        while stack[-1][0] >= indent:
            stack.pop()
        if value.strip():
            stack[-1][1][key] = value.strip().strip("'\"")
        else:
            stack[-1][1][key] = child = {}
            stack.append((indent, child))
    return root


def test_azure_yaml_deploys_the_repository_root_as_a_python_function_app() -> None:
    config = simple_yaml((ROOT / "azure.yaml").read_text(encoding="utf-8"))
    assert config["infra"] == {"provider": "bicep", "path": "infra"}
    assert config["services"] == {"api": {"project": ".", "language": "python", "host": "function"}}


def test_every_checkov_skip_in_the_bicep_states_a_reason() -> None:
    skip = re.compile(r"checkov:skip=([A-Z0-9_,]+)(:?)(.*)")
    for path in sorted((ROOT / "infra").rglob("*.bicep")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if match := skip.search(line):
                assert match.group(2) and len(match.group(3).strip()) >= 10, f"{path.name}:{number}: give a reason"
