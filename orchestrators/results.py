"""``save_workflow_result``: the one activity that is not an agent.

Writes a finished workflow's state as a JSON blob, ``workflow-results/<workflow>/<instance>.json``
(container from ``BATON_RESULTS_CONTAINER``), so results outlive history purges.  Writing the
same state twice overwrites one blob: idempotent under at-least-once delivery.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import azure.durable_functions as df
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import ContentSettings

from agents.storage import blob_service_client

from .names import SAVE_RESULT

bp = df.Blueprint()
DEFAULT_CONTAINER = "workflow-results"


def results_container() -> str:
    return os.environ.get("BATON_RESULTS_CONTAINER") or DEFAULT_CONTAINER


@bp.activity_trigger(input_name="record", activity=SAVE_RESULT)
async def save_workflow_result(record: dict[str, Any]) -> str:
    """Store ``record["state"]``; returns ``container/blob``."""
    container = results_container()
    name = f"{record['workflow']}/{record['instance_id']}.json"
    body = json.dumps(record["state"], ensure_ascii=False, indent=2).encode("utf-8")
    async with blob_service_client() as service:
        client = service.get_container_client(container)
        with contextlib.suppress(ResourceExistsError):
            await client.create_container()
        await client.upload_blob(
            name, body, overwrite=True, content_settings=ContentSettings(content_type="application/json")
        )
    return f"{container}/{name}"
