"""Every workflow that ends is published once to the ``workflow-events`` queue.

One publisher for every ending: a timer (every 15 seconds) asks the durable client for ended
instances of the registered workflows (Completed, Failed, Terminated; those that ended within
``BATON_EVENTS_LOOKBACK_HOURS`` when set) and publishes the ones without a receipt.  So a
succeeded, degraded, failed, rejected or escalated run (the workflow's own ``outcome``) counts
as much as a terminated or crashed instance, which the orchestrator itself cannot report.

Receipts are blobs ``<BATON_EVENTS_RECEIPTS_CONTAINER>/<instance id>/<created time>`` (one per
run: a reused instance id is a new run), written after the message is sent.  The timer is a
singleton in the Functions host, so only a crash between sending and the receipt can publish
an event twice: ``event_id`` lets consumers drop such a duplicate.  Nothing is lost.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from agents.storage import blob_service_client
from orchestrators.registry import WORKFLOWS

from .storage import queue_service_client

bp = df.Blueprint()
log = logging.getLogger("baton.events")
SCHEDULE = "*/15 * * * * *"
ENDED = [df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Failed,
         df.OrchestrationRuntimeStatus.Terminated]
RUNTIME_OUTCOMES = {"Failed": "crashed", "Terminated": "terminated"}


def enabled() -> bool:
    """Whether lifecycle events are wanted: ``BATON_EVENTS_QUEUE`` names their queue (read when the app loads)."""
    return bool(os.environ.get("BATON_EVENTS_QUEUE"))


def _setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def receipt_name(status: df.DurableOrchestrationStatus) -> str:
    created = _iso(status.created_time) or "unknown"
    return f"{status.instance_id}/{created.replace(':', '')}"


def lifecycle_event(status: df.DurableOrchestrationStatus, now: datetime) -> dict[str, Any]:
    """The event of one ended instance: ``workflow``, ``instance_id``, ``outcome``, ``saved_as``, timestamps."""
    runtime = status.runtime_status.value if status.runtime_status else "Unknown"
    output = status.output if isinstance(status.output, dict) else {}
    outcome = RUNTIME_OUTCOMES.get(runtime) or output.get("outcome") or "succeeded"
    error = status.output if runtime in RUNTIME_OUTCOMES and status.output is not None else None
    timestamps = output.get("timestamps") if isinstance(output.get("timestamps"), dict) else {}
    return {
        "type": "baton.workflow.ended",
        "event_id": hashlib.sha256(receipt_name(status).encode()).hexdigest()[:32],
        "workflow": status.name,
        "instance_id": status.instance_id,
        "outcome": outcome,
        "runtime_status": runtime,
        "saved_as": output.get("saved_as"),
        "error": error if error is None or isinstance(error, str) else json.dumps(error),
        "timestamps": {**timestamps, "created": _iso(status.created_time), "ended": _iso(status.last_updated_time),
                       "published": _iso(now)},
    }


async def publish_ended(client: df.DurableOrchestrationClient, now: datetime) -> list[dict[str, Any]]:
    """Publish every ended workflow instance without a receipt; returns the events sent."""
    lookback = os.environ.get("BATON_EVENTS_LOOKBACK_HOURS")
    since = now - timedelta(hours=float(lookback)) if lookback else None
    ended = [s for s in await client.get_status_by(runtime_status=ENDED)
             if s.name in WORKFLOWS and s.instance_id and not (since and s.last_updated_time
                                                               and s.last_updated_time < since)]
    if not ended:
        return []
    sent = []
    async with blob_service_client() as blobs, queue_service_client() as queues:
        receipts = blobs.get_container_client(_setting("BATON_EVENTS_RECEIPTS_CONTAINER", "workflow-events-receipts"))
        queue = queues.get_queue_client(_setting("BATON_EVENTS_QUEUE", "workflow-events"))
        with contextlib.suppress(ResourceExistsError):
            await receipts.create_container()
        with contextlib.suppress(ResourceExistsError):
            await queue.create_queue()
        for listed in ended:
            receipt = receipts.get_blob_client(receipt_name(listed))
            with contextlib.suppress(ResourceNotFoundError):
                await receipt.get_blob_properties()
                continue
            status = await client.get_status(listed.instance_id) or listed
            if status.created_time != listed.created_time:  # reused meanwhile: the next tick sees the new run
                continue
            event = lifecycle_event(status, now)
            text = json.dumps(event)
            await queue.send_message(base64.b64encode(text.encode("utf-8")).decode("ascii"))
            await receipt.upload_blob(text.encode("utf-8"), overwrite=True)
            log.info("published %s %s: %s", event["workflow"], event["instance_id"], event["outcome"])
            sent.append(event)
    return sent


@bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False, use_monitor=False)
@bp.durable_client_input(client_name="client")
async def publish_lifecycle_events(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Publish the lifecycle event of every workflow that ended since the last tick."""
    await publish_ended(client, datetime.now(UTC))
