"""``save_workflow_result``: the one activity that is not an agent.

Writes a workflow's state as a JSON blob, ``workflow-results/<workflow>/<instance>.json``
(container from ``BATON_RESULTS_CONTAINER``, account from ``BATON_STORAGE`` else
``AzureWebJobsStorage``), so results outlive history purges.  Writing the
same state twice overwrites one blob: idempotent under at-least-once delivery.  The write
goes through the process's long-lived Blob client, one round trip (the container is
created only when the service reports it missing).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import azure.durable_functions as df

from agents.settings import StorageSettings
from agents.storage import upload_blob

bp = df.Blueprint()
log = logging.getLogger("baton.workflows")
DEFAULT_CONTAINER = "workflow-results"
SAVE_RESULT = "save_workflow_result"


def results_container() -> str:
    return os.environ.get("BATON_RESULTS_CONTAINER") or DEFAULT_CONTAINER


@bp.activity_trigger(input_name="record", activity=SAVE_RESULT)
async def save_workflow_result(record: dict[str, Any]) -> str | None:
    """Store ``record["state"]``; returns ``container/blob`` (``None``: no storage is configured)."""
    storage = StorageSettings.from_env(os.environ)  # only the storage: a bad LLM setting cannot block saving
    if not storage.configured:
        log.warning("no BATON_STORAGE / AzureWebJobsStorage: the result of %s is not saved", record["instance_id"])
        return None
    container = results_container()
    name = f"{record['workflow']}/{record['instance_id']}.json"
    body = json.dumps(record["state"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")  # C encoder
    await upload_blob(storage, container, name, body)
    return f"{container}/{name}"
