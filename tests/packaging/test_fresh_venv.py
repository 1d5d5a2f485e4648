"""pip install the project into a fresh virtualenv, then use ``devhost``, ``baton`` and the pytest
plugin from a small Durable Functions project of someone else's, in its own folder."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.packaging.conftest import Venv

pytestmark = pytest.mark.packaging

FUNCTION_APP = '''
import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client) -> func.HttpResponse:
    instance_id = await client.start_new("greet", None, req.route_params["name"])
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def greet(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("hello", context.get_input())
    second = yield context.call_activity("hello", first)
    return second


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}"
'''

PLUGIN_TEST = '''
import pytest


@pytest.mark.asyncio
async def test_the_app_runs_in_the_devhost_fixture(devhost, devhost_http):
    async with devhost_http.post("/api/start/plugin") as response:
        assert response.status == 202
        instance_id = (await response.json())["id"]
    status = await devhost.wait_for_instance(instance_id)
    assert status["output"] == "Hello Hello plugin", status
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_project(folder: Path, connection_string: str) -> Path:
    """A user's Functions project: function_app.py, host.json, local.settings.json; no package of ours."""
    folder.mkdir()
    (folder / "function_app.py").write_text(FUNCTION_APP, encoding="utf-8")
    (folder / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"durableTask": {
        "hubName": "%MY_HUB%"}}}), encoding="utf-8")
    (folder / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": {
        "FUNCTIONS_WORKER_RUNTIME": "python", "AzureWebJobsStorage": connection_string,
        "MY_HUB": f"pkg{int(time.time() * 1000) % 10**9}"}}), encoding="utf-8")
    return folder


def wait_for_output(process: subprocess.Popen[str], marker: str, deadline: float = 120) -> str:
    seen = ""
    end = time.monotonic() + deadline
    while marker not in seen:
        line = process.stdout.readline()
        if not line or time.monotonic() > end:
            raise AssertionError(f"no {marker!r} in the output:\n{seen}{process.stdout.read() if not line else ''}")
        seen += line
    return seen


def call(url: str, method: str = "GET") -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_the_tools_are_installed_without_the_app(fresh_venv: Venv, tmp_path: Path) -> None:
    for tool in ("baton", "devhost"):
        result = fresh_venv.run(tool, "--help", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: {tool} "), result.stdout
    assert "serve" in fresh_venv.run("baton", "--help", cwd=tmp_path).stdout
    probe = ("import importlib.util, devhost, baton; "
             "print(devhost.__file__); print([m for m in ('agents', 'api', 'orchestrators', 'function_app') "
             "if importlib.util.find_spec(m)])")
    result = fresh_venv.run("python", "-c", probe, cwd=tmp_path)
    where, app_modules = result.stdout.splitlines()
    assert where.startswith(str(fresh_venv.path)) and "site-packages" in where
    assert app_modules == "[]", "the distribution holds the tools, not the Functions app"


@pytest.mark.azurite
def test_devhost_start_runs_another_project_on_its_default_store(
    fresh_venv: Venv, tmp_path: Path, azurite_connection_string: str
) -> None:
    project = make_project(tmp_path / "myapp", "UseDevelopmentStorage=true")
    port = free_port()
    process = subprocess.Popen(["devhost", "start", "--port", str(port)], cwd=project, env=fresh_venv.env(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = wait_for_output(process, "listening on")
        assert "AzureStore" in banner and "greet: orchestrationTrigger" in banner, banner
        endpoint = json.loads((project / ".devhost" / "endpoint.json").read_text())
        assert endpoint["url"] == f"http://127.0.0.1:{port}" and endpoint["pid"] == process.pid
        status, started = call(f"http://127.0.0.1:{port}/api/start/world", "POST")
        assert status == 202, started
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, body = call(started["statusQueryGetUri"])
            if status == 200 and body.get("runtimeStatus") == "Completed":
                break
            time.sleep(0.05)
        assert body.get("output") == "Hello Hello world", (status, body)
        assert f"Dashboard: http://127.0.0.1:{port}/_devhost/" in banner, banner
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_devhost/", timeout=10) as response:
            page = response.read().decode()  # the templates are package data
        assert response.status == 200 and 'data-instance-id="' in page, page[:2000]
    finally:
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=60)[0]
    assert process.returncode == 0, rest
    assert "Traceback" not in rest
    assert not (project / ".devhost" / "endpoint.json").exists()


@pytest.mark.azurite
def test_the_pytest_plugin_needs_no_configuration(fresh_venv: Venv, tmp_path: Path,
                                                  azurite_connection_string: str) -> None:
    project = make_project(tmp_path / "myapp", azurite_connection_string)
    (project / "test_app.py").write_text(PLUGIN_TEST, encoding="utf-8")
    result = fresh_venv.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    # asyncio_mode = auto (the one-line alternative to marking each test) works as well
    (project / "test_app.py").write_text(PLUGIN_TEST.replace("@pytest.mark.asyncio\n", ""), encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n", encoding="utf-8")
    result = fresh_venv.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


def test_an_editable_install_of_the_whole_checkout_works(fresh_venv: Venv, tmp_path: Path) -> None:
    """Last (it replaces the regular install): ``pip install -e .`` in a clone, app packages and all."""
    result = fresh_venv.run("python", "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
                            "-e", ".", cwd=fresh_venv.source)
    assert result.returncode == 0, result.stdout + result.stderr
    result = fresh_venv.run("python", "-c", "import devhost, baton; print(devhost.__file__)", cwd=tmp_path)
    assert result.stdout.strip() == str(fresh_venv.source / "devhost" / "__init__.py"), result
    result = fresh_venv.run("baton", "--help", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("usage: baton "), result.stdout + result.stderr
