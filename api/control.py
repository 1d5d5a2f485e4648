"""Act on a running workflow: raise an event (approve / reject), terminate."""

from __future__ import annotations

import re

import azure.durable_functions as df
import azure.functions as func
from pydantic import ValidationError

from orchestrators.approval import APPROVAL_EVENT, Decision

from .models import Accepted, TerminateRequest
from .responses import ApiError, check_query, handles_errors, json_response, read_json, validation_error
from .settings import ApiSettings
from .workflows import RUNNING, checked_instance_id

bp = df.Blueprint()
EVENT_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"


async def _running(client: df.DurableOrchestrationClient, instance_id: str) -> df.DurableOrchestrationStatus:
    status = await client.get_status(instance_id)
    if not status:
        raise ApiError(404, f"no workflow instance '{instance_id}'")
    if status.runtime_status not in RUNNING:
        raise ApiError(409, f"instance '{instance_id}' is {status.runtime_status.value}; it takes no more input")
    return status


@bp.route(route="workflows/{instance_id}/events/{event}", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@handles_errors
async def raise_workflow_event(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Deliver an external event; ``approval`` takes ``{"approved": bool, "by", "comment"}``."""
    check_query(req)
    instance_id = checked_instance_id(req.route_params.get("instance_id", ""))
    event = req.route_params.get("event", "")
    if not re.fullmatch(EVENT_PATTERN, event):
        raise ApiError(400, "event must be 1-100 letters, digits, '-' or '_'", field="event")
    data = read_json(req, ApiSettings.from_environment().max_body_bytes, required=False)
    if event == APPROVAL_EVENT:
        try:
            data = Decision.model_validate(data if data is not None else {}).model_dump()
        except ValidationError as exc:
            raise validation_error(exc) from exc
    await _running(client, instance_id)
    await client.raise_event(instance_id, event, data)
    return json_response(Accepted(id=instance_id, detail=f"event '{event}' delivered"), 202)


@bp.route(route="workflows/{instance_id}/terminate", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@handles_errors
async def terminate_workflow(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Stop a running workflow; ``{"reason": "..."}`` is optional."""
    check_query(req)
    instance_id = checked_instance_id(req.route_params.get("instance_id", ""))
    data = read_json(req, ApiSettings.from_environment().max_body_bytes, required=False)
    try:
        request = TerminateRequest.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise validation_error(exc) from exc
    await _running(client, instance_id)
    await client.terminate(instance_id, request.reason)
    return json_response(Accepted(id=instance_id, detail="termination requested"), 202)
