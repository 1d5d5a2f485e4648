"""The emulator is the emulator: devhost reads the connection string's endpoints to decide whether
to start Azurite, and on which ports; it finds Azurite in node_modules, on PATH or through npx."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from devhost import azurite
from devhost.azurite import ACCOUNT_KEY, DEFAULT_ENDPOINTS, Endpoints, emulator_endpoints, find_command
from devhost.errors import AzuriteError
from devhost.host import DevHost, unique_hub_name

ROOT = Path(__file__).resolve().parents[2]

APP = '''
import azure.durable_functions as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def greet(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("hello", "emulator"))


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}"
'''


def explicit(blob: int, queue: int, table: int, host: str = "127.0.0.1") -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://{host}:{blob}/devstoreaccount1;QueueEndpoint=http://{host}:{queue}/devstoreaccount1;"
        f"TableEndpoint=http://{host}:{table}/devstoreaccount1;"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("UseDevelopmentStorage=true", DEFAULT_ENDPOINTS),
        ("usedevelopmentstorage = TRUE", DEFAULT_ENDPOINTS),
        (explicit(10000, 10001, 10002), DEFAULT_ENDPOINTS),
        (explicit(20000, 20001, 20002), Endpoints(20000, 20001, 20002)),
        (explicit(20000, 20001, 20002, host="localhost"), Endpoints(20000, 20001, 20002)),
        (explicit(10000, 10001, 10002, host="azurite"), None),  # an emulator in a container: not ours
        (f"AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY}", None),  # no endpoints: the cloud
        ("DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=eA==;EndpointSuffix=core.windows.net", None),
        ("AccountName=devstoreaccount1x;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1x", None),
        ("", None),
        (None, None),
    ],
)
def test_emulator_is_read_from_the_endpoints(value, expected):
    assert emulator_endpoints(value) == expected


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_azurite_is_found_in_the_app_then_on_path_then_through_npx(tmp_path):
    app, checkout, tools = tmp_path / "app", tmp_path / "checkout", tmp_path / "bin"
    app.mkdir()
    checkout.mkdir()
    executable(app / "node_modules" / ".bin" / "azurite")
    assert find_command(app, checkout=checkout, path=str(tools)) is None  # no node: nothing can run
    (app / "node_modules" / ".bin" / "azurite").unlink()
    executable(tools / "node")
    assert find_command(app, checkout=checkout, path=str(tools)) is None
    npx = executable(tools / "npx")
    assert find_command(app, checkout=checkout, path=str(tools)) == [str(npx), "--yes", "azurite"]
    on_path = executable(tools / "azurite")
    assert find_command(app, checkout=checkout, path=str(tools)) == [str(on_path)]
    in_checkout = executable(checkout / "node_modules" / ".bin" / "azurite")
    assert find_command(app, checkout=checkout, path=str(tools)) == [str(in_checkout)]
    in_app = executable(app / "node_modules" / ".bin" / "azurite")
    assert find_command(app / "sub", checkout=checkout, path=str(tools)) == [str(in_app)]


def test_no_azurite_anywhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(azurite, "_CHECKOUT", tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AzuriteError) as caught:
        azurite.start(tmp_path / "data", endpoints=Endpoints(20000, 20001, 20002), search_from=tmp_path,
                      why="AzureWebJobsStorage points at the emulator")
    message = str(caught.value)
    assert "AzureWebJobsStorage points at the emulator" in message
    assert "npm install azurite" in message and "npx" in message and "20000/20001/20002" in message


def free_ports(count: int = 3) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def write_app(folder: Path, values: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "function_app.py").write_text(APP)
    (folder / "host.json").write_text('{"version": "2.0"}')
    (folder / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    return folder


def forget_after_test(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """The variables devhost copies from local.settings.json are removed again after the test."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


async def run_greet(host: DevHost) -> dict:
    async with (
        aiohttp.ClientSession(host.url) as http,
        http.post("/runtime/webhooks/durabletask/orchestrators/greet") as response,
    ):
        assert response.status == 202, await response.text()
        instance_id = (await response.json())["id"]
    return await host.wait_for_instance(instance_id, timeout=60)


@pytest.mark.azurite
async def test_task_hub_on_an_emulator_with_non_default_ports(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="devhost")
    ports = free_ports()
    endpoints = Endpoints(*ports)
    app = write_app(tmp_path / "app", {"AzureWebJobsStorage": explicit(*ports)})
    forget_after_test(monkeypatch, "AzureWebJobsStorage")
    assert not azurite.is_listening(ports=endpoints.ports)
    async with DevHost.start(app, store="azurite", hub_name=unique_hub_name()) as host:
        assert azurite.is_listening(ports=endpoints.ports)
        status = await run_greet(host)
        assert (status["runtimeStatus"], status["output"]) == ("Completed", "Hello emulator")
    assert f"started Azurite on ports {ports[0]}/{ports[1]}/{ports[2]}" in caplog.text
    assert not azurite.is_listening(ports=endpoints.ports)  # we stopped what we started


@pytest.mark.azurite
async def test_memory_store_starts_azurite_only_for_the_apps_own_emulator_settings(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="devhost")
    forget_after_test(monkeypatch, "AzureWebJobsStorage", "MyStorage")
    plain = write_app(tmp_path / "plain", {"FUNCTIONS_WORKER_RUNTIME": "python"})
    async with DevHost.start(plain, store="memory", hub_name=unique_hub_name()) as host:
        assert (await run_greet(host))["runtimeStatus"] == "Completed"
    assert "Azurite" not in caplog.text and "AzureWebJobsStorage" not in os.environ

    ports = free_ports()
    uses_blobs = write_app(tmp_path / "blobs", {"MyStorage": explicit(*ports)})
    async with DevHost.start(uses_blobs, store="memory", hub_name=unique_hub_name()) as host:
        assert azurite.is_listening(ports=tuple(ports))
        assert (await run_greet(host))["runtimeStatus"] == "Completed"
    assert "for MyStorage" in caplog.text
    assert not azurite.is_listening(ports=tuple(ports))


def test_devhost_start_without_node_says_what_to_do(tmp_path):
    ports = free_ports()
    app = write_app(tmp_path / "app", {"AzureWebJobsStorage": explicit(*ports)})
    env = {**os.environ, "PATH": str(tmp_path / "no-tools")}
    env.pop("AzureWebJobsStorage", None)
    done = subprocess.run(
        [sys.executable, "-m", "devhost", "start", str(app), "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "devhost: error: Azurite" in done.stderr and "Traceback" not in done.stderr
    where = "/".join(map(str, ports))
    assert f"AzureWebJobsStorage points at the emulator on 127.0.0.1 ports {where}" in done.stderr
    assert "npm install azurite" in done.stderr


async def test_memory_store_only_warns_when_the_apps_own_emulator_cannot_run(tmp_path):
    app = write_app(tmp_path / "app", {"MyStorage": explicit(*free_ports())})
    env = {**os.environ, "PATH": str(tmp_path / "no-tools")}
    env.pop("AzureWebJobsStorage", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devhost", "start", str(app), "--store", "memory", "--port", "0",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = b""
        while b"devhost is listening" not in line:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, "devhost exited before listening"
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode != 2  # not refused (a SIGTERM right at "listening" may exit 130)
    assert "WARNING" in err.decode() and "MyStorage points at the emulator" in err.decode()


@pytest.mark.azurite
def test_an_azurite_kept_in_memory_writes_only_its_log(tmp_path):
    """``in_memory``: ``--inMemoryPersistence`` (which Azurite refuses beside ``--location``)."""
    endpoints = Endpoints(*free_ports())
    process = azurite.start(tmp_path / "data", endpoints=endpoints, search_from=ROOT, in_memory=True)
    try:
        assert azurite.is_listening(ports=endpoints.ports)
        assert "--inMemoryPersistence" in process.process.args and "--location" not in process.process.args
    finally:
        process.stop()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["azurite.log"]
