"""Every startup failure of ``devhost start`` is one clear message and exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.devhost.test_cli import ROOT, free_port

MISBOUND_APP = Path(__file__).parent / "apps" / "misbound"


def start(app: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devhost", "start", str(app), "--store", "memory", "--port", str(free_port()), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def test_a_mis_bound_app_is_refused_at_start_with_the_functions_named():
    result = start(MISBOUND_APP)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "the app cannot be indexed (2 problems)" in result.stderr
    assert f"{MISBOUND_APP / 'function_app.py'}:13: function 'get_status'" in result.stderr
    assert f"{MISBOUND_APP / 'function_app.py'}:19: function 'say_hello'" in result.stderr


@pytest.mark.parametrize(("host_json", "message"), [
    ({"extensions": {"durableTask": {"hubName": "%DEVHOST_TEST_UNSET%"}}}, "'%DEVHOST_TEST_UNSET%' does not resolve"),
    ({"extensions": {"durableTask": {"maxConcurrentActivityFunctions": "many"}}},
     "maxConcurrentActivityFunctions must be a positive whole number, not \"many\""),
    ({"extensions": {"durableTask": {"storageProvider": {"type": "cosmos"}}}}, "is not a Durable backend"),
])
def test_a_bad_host_json_is_one_line_and_exit_code_2(tmp_path, host_json, message):
    (tmp_path / "function_app.py").write_text("import azure.functions as func\napp = func.FunctionApp()\n")
    (tmp_path / "host.json").write_text(json.dumps(host_json))
    result = start(tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("devhost: error:")]
    assert message in line


def test_a_folder_with_no_app_says_which_models_devhost_runs(tmp_path):
    result = start(tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "function_app.py" in result.stderr and "function.json" in result.stderr
