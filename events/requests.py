"""A message on the ``workflow-requests`` queue starts a workflow.

The message is the HTTP starter's JSON body plus ``workflow``, validated by the same contract
(:func:`api.workflows.start_request`).  A malformed message is moved to
``workflow-requests-poison`` at once with the reason logged (retrying cannot mend it); a start
that fails for another reason (storage) raises, so the host retries it and, after
``maxDequeueCount`` attempts, poisons it.  Nothing is lost.  Without an ``instance_id`` the id
is derived from the message id, so a message delivered twice starts one workflow.
"""

from __future__ import annotations

import json
import logging

import azure.durable_functions as df
import azure.functions as func

from api.responses import ApiError
from api.settings import ApiSettings
from api.workflows import start_request
from orchestrators.registry import WORKFLOWS

bp = df.Blueprint()
log = logging.getLogger("baton.events")
REQUESTS = "workflow-requests"
POISON = f"{REQUESTS}-poison"


def parse(text: str) -> tuple[str, dict]:
    """``(workflow, body)`` of a message; ``ApiError`` naming what is wrong."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ApiError(400, f"malformed JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "the message must be a JSON object")
    workflow = body.pop("workflow", None)
    if workflow not in WORKFLOWS:
        raise ApiError(404, f"unknown workflow {workflow!r}", field="workflow", workflows=list(WORKFLOWS))
    return workflow, body


@bp.queue_trigger(arg_name="msg", queue_name=REQUESTS, connection="BATON_STORAGE")
@bp.queue_output(arg_name="poison", queue_name=POISON, connection="BATON_STORAGE")
@bp.durable_client_input(client_name="client")
async def start_from_queue(msg: func.QueueMessage, poison: func.Out[str],
                           client: df.DurableOrchestrationClient) -> None:
    """Start the message's workflow; a malformed message goes to the poison queue with its reason logged."""
    text = msg.get_body().decode("utf-8", errors="replace")
    settings = ApiSettings.from_environment()
    derived = f"queue-{msg.id}" if msg.id else None
    try:
        if len(text.encode()) > settings.max_body_bytes:
            raise ApiError(413, f"message is {len(text.encode())} bytes; the limit is {settings.max_body_bytes}")
        workflow, body = parse(text)
        if derived and not body.get("instance_id") and await client.get_status(derived):
            log.info("queue message %s: already started %s", msg.id, derived)
            return
        instance_id = await start_request(client, workflow, body, settings, instance_id=derived)
    except ApiError as exc:
        log.error("queue message %s moved to %s: %s", msg.id, POISON, json.dumps(exc.body))
        poison.set(text)
        return
    log.info("queue message %s started %s %s", msg.id, workflow, instance_id)
