"""A blob written to the ``inbox`` container starts a workflow on its text.

``inbox/<workflow>/<anything>.txt|.md|.json`` starts ``<workflow>``; a blob of any other name
starts the default workflow (``BATON_INBOX_WORKFLOW``, default ``pipeline``).  The instance id is
a hash of the blob's name and version (ETag, or version id), so one upload starts one workflow:
a second delivery of the same version finds its instance and does nothing.

``source="EventGrid"``: in Azure an Event Grid subscription delivers ``BlobCreated`` to the
blobs extension's webhook (infra/hooks); devhost scans the container and serves the same webhook.
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from api.responses import ApiError
from api.settings import ApiSettings
from api.workflows import start_request
from orchestrators.registry import WORKFLOWS

bp = df.Blueprint()
log = logging.getLogger("baton.events")
INBOX = "inbox"
TEXT_SUFFIXES = (".txt", ".md", ".json")
DEFAULT_WORKFLOW = "pipeline"


def route(name: str) -> tuple[str | None, str]:
    """``(workflow, why)`` for a blob name inside ``inbox`` (``workflow`` is ``None``: not started)."""
    folder, _, rest = name.partition("/")
    if rest and folder in WORKFLOWS:
        if not rest.lower().endswith(TEXT_SUFFIXES):
            return None, f"only {', '.join(TEXT_SUFFIXES)} files start '{folder}'"
        return folder, f"folder '{folder}'"
    default = os.environ.get("BATON_INBOX_WORKFLOW") or DEFAULT_WORKFLOW
    if default not in WORKFLOWS:
        return None, f"BATON_INBOX_WORKFLOW names no workflow: '{default}'"
    return default, "the default workflow"


def instance_id_for(workflow: str, name: str, version: str) -> str:
    """``inbox-<workflow>-<hash of name and version>``: instance ids cannot hold '/'."""
    digest = hashlib.sha256(f"{INBOX}/{name}\n{version}".encode()).hexdigest()[:32]
    return f"{INBOX}-{workflow}-{digest}"[:100]


def blob_version(blob: func.InputStream) -> str:
    properties: dict[str, Any] = blob.blob_properties or {}
    version = properties.get("VersionId") or properties.get("ETag") or properties.get("Etag")
    if not version:  # no properties: the content identifies the upload
        raise ValueError("the trigger gave no ETag or version id for the blob")
    return str(version).strip('"')


@bp.blob_trigger(arg_name="blob", path=f"{INBOX}/{{name}}", source="EventGrid", connection="BATON_STORAGE")
@bp.durable_client_input(client_name="client")
async def start_from_inbox(blob: func.InputStream, client: df.DurableOrchestrationClient) -> None:
    """Start the blob's workflow once per blob version; a blob that cannot start one is logged, not retried."""
    name = (blob.name or "").partition("/")[2]
    workflow, why = route(name)
    if workflow is None:
        log.warning("inbox/%s starts no workflow: %s", name, why)
        return
    instance_id = instance_id_for(workflow, name, blob_version(blob))
    if await client.get_status(instance_id):  # found: this version already started its workflow
        log.info("inbox/%s: this version already started %s", name, instance_id)
        return
    settings = ApiSettings.from_environment()
    if (blob.length or 0) > settings.max_body_bytes:
        log.warning("inbox/%s starts no workflow: %s bytes; the limit is BATON_MAX_BODY_BYTES, %s",
                    name, blob.length, settings.max_body_bytes)
        return
    try:
        text = blob.read().decode("utf-8")
    except UnicodeDecodeError:
        log.warning("inbox/%s starts no workflow: it is not UTF-8 text", name)
        return
    body = {"text": text, "title": name, "instance_id": instance_id}
    try:
        await start_request(client, workflow, body, settings)
    except ApiError as exc:  # the request contract refused it (an empty file, too long...): retrying cannot help
        log.warning("inbox/%s starts no workflow: %s", name, exc.body)
        return
    log.info("inbox/%s started %s %s (%s)", name, workflow, instance_id, why)
