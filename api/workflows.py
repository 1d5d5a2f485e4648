"""Start, inspect and list workflows: ``/api/workflows``."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from pydantic import ValidationError

from orchestrators.registry import WORKFLOWS

from .models import INSTANCE_ID_PATTERN, WorkflowList, WorkflowRequest, WorkflowStatus
from .responses import ApiError, check_query, handles_errors, json_response, read_json, validation_error
from .settings import ApiSettings

bp = df.Blueprint()
RUNNING = {
    df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending,
    df.OrchestrationRuntimeStatus.ContinuedAsNew, df.OrchestrationRuntimeStatus.Suspended,
}
MAX_LIST = 1000


@bp.route(route="workflows/{name}", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@handles_errors
async def start_workflow(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the body and start the named workflow; 202 with the status URLs."""
    check_query(req)
    name = req.route_params.get("name", "")
    if name not in WORKFLOWS:
        raise ApiError(404, f"unknown workflow '{name}'", field="name", workflows=list(WORKFLOWS))
    settings = ApiSettings.from_environment()
    body = read_json(req, settings.max_body_bytes)
    instance_id = await start_request(client, name, body, settings)
    return _accepted(client, req, instance_id)


async def start_request(client: df.DurableOrchestrationClient, name: str, body: Any, settings: ApiSettings, *,
                        instance_id: str | None = None) -> str:
    """The one start contract (HTTP, queue and blob starters): validate ``body`` as a
    :class:`WorkflowRequest` and start workflow ``name``; ``ApiError`` (400 / 409) when it cannot.

    ``instance_id`` is the id to use when the body names none.  A running instance of that id is
    a 409; a finished one is reused (a clean new run).
    """
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    try:
        request = WorkflowRequest.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc) from exc
    instance_id = request.instance_id or instance_id
    if instance_id:
        existing = await client.get_status(instance_id)
        if existing and existing.runtime_status in RUNNING:
            raise ApiError(409, f"instance '{instance_id}' is already {existing.runtime_status.value}")
    workflow_input = {"workflow": name, "run": uuid.uuid4().hex[:12], "request": request.agent_request(),
                      "options": _options(request, settings)}
    try:
        return await client.start_new(name, instance_id, workflow_input)
    except Exception as exc:  # a start that raced with another for the same id: ask, do not parse the message
        raced = await client.get_status(instance_id) if instance_id else None
        if raced and raced.runtime_status in RUNNING:
            raise ApiError(409, f"instance '{instance_id}' is already {raced.runtime_status.value}") from exc
        raise


@bp.route(route="workflows/{instance_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@handles_errors
async def workflow_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Friendly status: runtime status, progress, output or error, times."""
    check_query(req)
    instance_id = checked_instance_id(req.route_params.get("instance_id", ""))
    status = await client.get_status(instance_id)
    if not status:
        raise ApiError(404, f"no workflow instance '{instance_id}'")
    headers = {"Retry-After": "2"} if status.runtime_status in RUNNING else None
    return json_response(friendly(status), 200, headers)


@bp.route(route="workflows", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@handles_errors
async def list_workflows(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Recent instances, newest first: ``?status=Running,Failed&top=50``."""
    check_query(req, "status", "top")
    statuses = _statuses(req.params.get("status"))
    top = _top(req.params.get("top"))
    found = await (client.get_status_by(runtime_status=statuses) if statuses else client.get_status_all())
    found = [s for s in found if s.name in WORKFLOWS]
    found.sort(key=lambda s: s.created_time.isoformat() if s.created_time else "", reverse=True)
    items = [friendly(s, with_output=False) for s in found[:top]]
    return json_response(WorkflowList(count=len(items), instances=items))


def friendly(status: df.DurableOrchestrationStatus, *, with_output: bool = True) -> WorkflowStatus:
    runtime = status.runtime_status.value if status.runtime_status else None
    output = status.output if with_output else None
    error = None
    if runtime in ("Failed", "Terminated"):
        error, output = (output if isinstance(output, str) else json.dumps(output)), None
    return WorkflowStatus(
        id=status.instance_id or "", workflow=status.name, runtimeStatus=runtime, progress=status.custom_status,
        output=output, error=error, createdTime=status.created_time, lastUpdatedTime=status.last_updated_time,
    )


def checked_instance_id(instance_id: str) -> str:
    if not re.fullmatch(INSTANCE_ID_PATTERN, instance_id):
        raise ApiError(400, "instance_id must be 1-100 letters, digits, '-' or '_'", field="instance_id")
    return instance_id


def _options(request: WorkflowRequest, settings: ApiSettings) -> dict[str, Any]:
    return {
        "retry": {"first_retry_ms": settings.retry_first_ms, "max_attempts": settings.retry_max_attempts},
        "approval_timeout_hours": request.approval_timeout_hours or settings.approval_timeout_hours,
        "agents": request.agent_options(),
    }


def _accepted(client: df.DurableOrchestrationClient, req: func.HttpRequest, instance_id: str) -> func.HttpResponse:
    """The SDK's check-status response, plus the URL of the friendly status endpoint."""
    response = client.create_check_status_response(req, instance_id)
    payload = json.loads(response.get_body())
    origin = req.url.split("/api/", 1)[0]
    payload["workflowStatusUri"] = f"{origin}/api/workflows/{instance_id}"
    return json_response(payload, 202, dict(response.headers))


STATUS_NAMES = tuple(s.value for s in df.OrchestrationRuntimeStatus)
STATUS_PATTERN = "^(?:{0})(?:,(?:{0}))*$".format("|".join(STATUS_NAMES))


def _statuses(text: str | None) -> list[df.OrchestrationRuntimeStatus]:
    """``Running,Failed``: runtime status names, comma-separated, as the OpenAPI document's pattern says."""
    if text is None:
        return []
    if not re.fullmatch(STATUS_PATTERN, text):
        unknown = next((p for p in text.split(",") if p not in STATUS_NAMES), text)
        raise ApiError(400, f"unknown status '{unknown}'; give names separated by ','", field="status",
                       allowed=list(STATUS_NAMES))
    return [df.OrchestrationRuntimeStatus(part) for part in text.split(",")]


def _top(text: str | None) -> int:
    if text is None:
        return 50
    if not re.fullmatch(r"[0-9]{1,7}", text):
        raise ApiError(400, "top must be an integer", field="top")
    top = int(text)
    if not 1 <= top <= MAX_LIST:
        raise ApiError(400, f"top must be between 1 and {MAX_LIST}", field="top")
    return top
