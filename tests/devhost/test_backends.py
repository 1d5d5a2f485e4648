"""Storage backends: devhost reads ``storageProvider.type`` and applies that backend's rules.

Matched behaviour: the Durable extension picks the backend from ``storageProvider.type``
(AzureStorage by default, azureManaged for the Durable Task Scheduler, mssql, netherite);
Azure Storage task hub names are 3-45 letters and digits starting with a letter (the Durable
docs' task hub naming rules); the scheduler takes its hub from ``hubName`` or the connection
string's ``TaskHub=``; with work-item filtering the scheduler accepts orchestrator names no
connected app registers and leaves those instances Pending; WebJobs' name resolver reports a
``%NAME%`` with no value as "'%NAME%' does not resolve to a value".
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from pathlib import Path

import aiohttp
import pytest

from devhost.errors import AppLoadError
from devhost.host import DevHost
from devhost.settings import load_host_settings
from devhost.store.base import InstanceQuery, RuntimeStatus
from tests.devhost.conftest import PATTERNS_APP

SCHEDULER_APP = Path(__file__).parent / "apps" / "scheduler"
DTS = "Endpoint=http://localhost:8080;TaskHub=default;Authentication=None"


def write_host(folder: Path, durable: dict) -> Path:
    (folder / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"durableTask": durable}}))
    return folder


@pytest.mark.parametrize(("provider", "hub"), [
    ({"type": "azureManaged", "connectionStringName": "DTS_CONNECTION_STRING"}, "my-hub_1"),
    ({"type": "mssql", "connectionStringName": "SQLDB_Connection"}, "orders hub"),
])
def test_hub_name_rules_follow_the_configured_backend(tmp_path, monkeypatch, provider, hub):
    monkeypatch.setenv("DTS_CONNECTION_STRING", DTS)
    settings = load_host_settings(write_host(tmp_path, {"hubName": hub, "storageProvider": provider}))
    assert settings.hub_name == hub and settings.backend.type == provider["type"]
    assert settings.storage_connection_name == "AzureWebJobsStorage"  # devhost's azurite store lives there
    assert settings.backend_connection_name == provider["connectionStringName"]


@pytest.mark.parametrize("provider", [{}, {"type": "AzureStorage"}, {"type": "netherite"}])
def test_azure_storage_hub_rules_still_refuse_hyphens(tmp_path, provider):
    with pytest.raises(AppLoadError, match=r"task hub name 'my-hub' is invalid for the .* backend: use 3-45"):
        load_host_settings(write_host(tmp_path, {"hubName": "my-hub", "storageProvider": provider}))


def test_scheduler_hub_comes_from_the_connection_string_when_host_json_has_none(tmp_path, monkeypatch):
    monkeypatch.setenv("DTS", "Endpoint=http://localhost:8080;TaskHub=orders-east;Authentication=None")
    provider = {"type": "azureManaged", "connectionStringName": "DTS"}
    assert load_host_settings(write_host(tmp_path, {"storageProvider": provider})).hub_name == "orders-east"


def test_unresolved_setting_in_host_json_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_HUB_SETTING", raising=False)
    with pytest.raises(AppLoadError, match="'%NO_SUCH_HUB_SETTING%' does not resolve to a value"):
        load_host_settings(write_host(tmp_path, {"hubName": "%NO_SUCH_HUB_SETTING%"}))


def test_unknown_storage_provider_type_is_refused(tmp_path):
    with pytest.raises(AppLoadError, match=r"storageProvider\.type 'cosmos' is not a Durable backend"):
        load_host_settings(write_host(tmp_path, {"storageProvider": {"type": "cosmos"}}))


@pytest.fixture
def scheduler_env(monkeypatch):
    monkeypatch.setenv("DTS_CONNECTION_STRING", DTS)


@pytest.mark.parametrize("store", ["memory", pytest.param("azurite", marks=pytest.mark.azurite)])
async def test_scheduler_app_runs_with_a_hyphenated_hub_and_says_what_stands_in(
    request, scheduler_env, caplog, store
):
    if store == "azurite":
        request.getfixturevalue("azurite_connection_string")
    hub = f"sched-{uuid.uuid4().hex[:10]}_x"
    caplog.set_level(logging.INFO, logger="devhost")
    async with DevHost.start(SCHEDULER_APP, store=store, hub_name=hub) as host:
        try:
            async with aiohttp.ClientSession(host.url) as http:
                async with http.post("/api/orchestrators/hello_cities", json=["Oslo", "Lima"]) as response:
                    assert response.status == 202
                    payload = await response.json()
                assert f"taskHub={hub}" in payload["statusQueryGetUri"]
                status = await host.wait_for_instance(payload["id"])
                assert status["runtimeStatus"] == "Completed" and status["output"] == ["Hello Oslo", "Hello Lima"]
        finally:
            destroy = getattr(host.store, "destroy", None)
            if destroy is not None:
                await destroy()
    lines = [r.getMessage() for r in caplog.records if "asks for the" in r.getMessage()]
    assert len(lines) == 1
    assert "Durable Task Scheduler backend (storageProvider.type 'azureManaged')" in lines[0]
    assert f"task hub '{hub}'" in lines[0] and "DTS_CONNECTION_STRING is not used" in lines[0]


async def test_scheduler_accepts_an_orchestrator_no_local_app_registers_and_leaves_it_pending(scheduler_env):
    hub = f"sched-{uuid.uuid4().hex[:8]}"
    async with (
        DevHost.start(SCHEDULER_APP, store="memory", hub_name=hub) as host,
        aiohttp.ClientSession(host.url) as http,
    ):
        async with http.post("/api/orchestrators/OtherAppsOrchestrator", json={"n": 1}) as response:
            assert response.status == 202
            instance_id = (await response.json())["id"]
        await _wait_until(lambda: instance_id in host.dispatcher.stats.parked)
        instance = await host.store.get_instance(instance_id)
        assert instance.runtime_status is RuntimeStatus.PENDING and instance.name == "OtherAppsOrchestrator"
        async with http.post("/api/orchestrators/hello_cities", json=["Rome"]) as response:
            other = (await response.json())["id"]
        assert (await host.wait_for_instance(other))["output"] == ["Hello Rome"]  # parking blocks nothing
        await host.client.terminate(instance_id, "not ours")
        status = await host.wait_for_instance(instance_id)
        assert status["runtimeStatus"] == "Terminated"


async def test_azure_storage_backend_still_refuses_an_unregistered_orchestrator():
    async with DevHost.start(PATTERNS_APP, store="memory", hub_name=f"pat{uuid.uuid4().hex[:8]}") as host:
        async with aiohttp.ClientSession(host.url) as http, http.post("/api/orchestrators/nope") as response:
            assert response.status == 500  # the app's starter raised: start_new was refused
        assert not (await host.store.query_instances(InstanceQuery())).instances


async def test_host_provides_website_hostname_and_the_worker_variables(scheduler_env, monkeypatch):
    monkeypatch.delenv("WEBSITE_HOSTNAME", raising=False)
    async with DevHost.start(SCHEDULER_APP, store="memory", hub_name="schedenv") as host:
        port = host.url.rsplit(":", 1)[1]
        async with aiohttp.ClientSession(host.url) as http, http.get("/api/environment") as response:
            seen = await response.json()
    assert seen == {
        "WEBSITE_HOSTNAME": f"localhost:{port}", "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsScriptRoot": str(SCHEDULER_APP.resolve()),
    }
    assert "WEBSITE_HOSTNAME" not in os.environ  # removed again when the host stopped


async def test_users_own_website_hostname_wins(scheduler_env, monkeypatch):
    monkeypatch.setenv("WEBSITE_HOSTNAME", "baton.example.com")
    async with (
        DevHost.start(SCHEDULER_APP, store="memory", hub_name="schedenv2") as host,
        aiohttp.ClientSession(host.url) as http,
        http.get("/api/environment") as response,
    ):
        assert (await response.json())["WEBSITE_HOSTNAME"] == "baton.example.com"


async def _wait_until(predicate, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_a_second_host_in_the_process_gets_its_own_website_hostname(scheduler_env, monkeypatch):
    monkeypatch.delenv("WEBSITE_HOSTNAME", raising=False)
    async with (
        DevHost.start(SCHEDULER_APP, store="memory", hub_name="schedenv3"),
        DevHost.start(SCHEDULER_APP, store="memory", hub_name="schedenv4") as second,
        aiohttp.ClientSession(second.url) as http,
        http.get("/api/environment") as response,
    ):
        assert (await response.json())["WEBSITE_HOSTNAME"] == f"localhost:{second.url.rsplit(':', 1)[1]}"
