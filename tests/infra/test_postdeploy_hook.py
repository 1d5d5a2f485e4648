"""azd's postdeploy hook subscribes the inbox blob trigger's webhook to BlobCreated (issue 14).

The hook runs for real (``sh``) against a recording ``az`` on PATH: the Azure CLI is the network
edge here.  Matched against Microsoft's Flex Consumption blob-trigger guidance: Event Grid
delivers to ``/runtime/webhooks/blobs?functionName=Host.Functions.<name>&code=<blobs_extension key>``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "infra" / "hooks" / "postdeploy.sh"
FAKE_AZ = """#!/bin/sh
printf '%s\\n' "$*" >> "$AZ_LOG"
case "$1 $2" in
  "functionapp keys") echo "blobkey123" ;;
  "storage account") echo "/subscriptions/s/resourceGroups/rg-dev/providers/Microsoft.Storage/storageAccounts/stdata1";;
esac
"""
ENV = {"AZURE_RESOURCE_GROUP": "rg-dev", "AZURE_FUNCTION_APP_NAME": "func-api-x",
       "SERVICE_API_URI": "https://func-api-x.azurewebsites.net", "AZURE_EVENT_GRID_SYSTEM_TOPIC": "evgt-data-x",
       "AZURE_STORAGE_ACCOUNT_NAME": "stdata1"}


def test_azure_yaml_runs_the_hook_after_deploy() -> None:
    hooks = yaml.safe_load((ROOT / "azure.yaml").read_text(encoding="utf-8"))["hooks"]
    posix = hooks["postdeploy"]["posix"]
    assert posix["run"] == "./infra/hooks/postdeploy.sh" and posix["shell"] == "sh"
    assert posix.get("continueOnError") is False
    assert os.access(HOOK, os.X_OK)


def run_hook(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    (tmp_path / "az").write_text(FAKE_AZ)
    (tmp_path / "az").chmod(0o755)
    log = tmp_path / "az.log"
    environment = {"PATH": f"{tmp_path}:/usr/bin:/bin", "AZ_LOG": str(log), **env}
    done = subprocess.run(["sh", str(HOOK)], env=environment, capture_output=True, text=True, timeout=60)
    calls = [shlex.split(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done, calls


def option(call: list[str], name: str) -> str:
    return call[call.index(name) + 1]


def test_the_hook_subscribes_the_blob_trigger_webhook_to_blob_created_in_inbox(tmp_path: Path) -> None:
    done, calls = run_hook(tmp_path, **ENV)
    assert done.returncode == 0, done.stderr
    keys = next(c for c in calls if c[:3] == ["functionapp", "keys", "list"])
    assert option(keys, "--name") == "func-api-x" and option(keys, "--query") == "systemKeys.blobs_extension"
    (create,) = [c for c in calls if c[:4] == ["eventgrid", "system-topic", "event-subscription", "create"]]
    assert option(create, "--system-topic-name") == "evgt-data-x" and option(create, "--resource-group") == "rg-dev"
    assert option(create, "--endpoint-type") == "webhook"
    assert option(create, "--endpoint") == ("https://func-api-x.azurewebsites.net/runtime/webhooks/blobs"
                                            "?functionName=Host.Functions.start_from_inbox&code=blobkey123")
    assert option(create, "--included-event-types") == "Microsoft.Storage.BlobCreated"
    assert option(create, "--subject-begins-with") == "/blobServices/default/containers/inbox/"
    assert option(create, "--deadletter-identity-endpoint").endswith(
        "/storageAccounts/stdata1/blobServices/default/containers/inbox-deadletter")
    assert "blobkey123" not in done.stdout + done.stderr  # the key is never printed


def test_the_hook_names_the_function_and_container_the_app_declares() -> None:
    source = (ROOT / "events" / "inbox.py").read_text(encoding="utf-8")  # read, not imported: no app deps here
    assert "async def start_from_inbox(" in source and 'INBOX = "inbox"' in source
    assert 'source="EventGrid"' in source
    assert "${INBOX_FUNCTION_NAME:-start_from_inbox}" in HOOK.read_text()
    assert "${INBOX_CONTAINER:-inbox}" in HOOK.read_text()


def test_the_hook_refuses_to_run_outside_azd(tmp_path: Path) -> None:
    done, calls = run_hook(tmp_path)
    assert done.returncode != 0 and "AZURE_RESOURCE_GROUP" in done.stderr and calls == []
