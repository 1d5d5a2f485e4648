"""``GET /api/openapi.json``: the API described from its pydantic models (never by hand)."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from orchestrators.approval import Decision
from orchestrators.registry import WORKFLOWS

from .body import MAX_DEPTH
from .control import EVENT_PATTERN
from .models import (
    INSTANCE_ID_PATTERN,
    Accepted,
    DefinitionList,
    ErrorResponse,
    InstanceGraph,
    StartedResponse,
    TerminateRequest,
    WorkflowList,
    WorkflowRequest,
    WorkflowStatus,
)
from .responses import KEY_PARAMETER, json_response
from .workflows import STATUS_PATTERN

bp = df.Blueprint()
MODELS: tuple[type[BaseModel], ...] = (
    WorkflowRequest, StartedResponse, WorkflowStatus, WorkflowList, Decision, TerminateRequest, Accepted,
    ErrorResponse, DefinitionList, InstanceGraph,
)
REF = "#/components/schemas/{model}"
DESCRIPTION = (
    "Durable multi-agent workflows on Azure Durable Functions. Every 4xx body is JSON "
    "`{error, field?, details?}`. A method a path does not list is answered 404 (as the Functions host "
    "answers a route whose function does not accept the method), never 405."
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict[str, Any]:
    """The 4xx answers of a keyed operation: always 400 (a bad parameter), 401 and 404, plus ``codes``."""
    text = {400: "Invalid input: malformed or non-UTF-8 JSON, nesting deeper than " f"{MAX_DEPTH} levels, a wrong "
                 "type, a missing or extra field or query parameter, a value outside its pattern or limits (the body "
                 "names the field)",
            404: "Unknown workflow or instance, or a method this path does not accept (the Functions host answers "
                 "those with 404, not 405)",
            409: "Conflict with the instance's state",
            413: "Body over BATON_MAX_BODY_BYTES (default 1 MB)",
            415: "Body not sent as JSON: Content-Type must be application/json (UTF-8), also when missing"}
    answers = {str(code): _json(ErrorResponse, text[code]) for code in sorted({400, 404, *codes})}
    return {**answers, "401": {"description": "Missing or wrong function key (answered by the host, no body)"}}


def _body(model: type[BaseModel], *, required: bool) -> dict[str, Any]:
    description = "UTF-8 JSON, Content-Type application/json" + ("" if required else "; optional (may be empty)")
    return {"required": required, "description": description,
            "content": {"application/json": {"schema": _ref(model)}}}


def _path_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string"}}


def build_document(server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 document; schemas come from ``model_json_schema``."""
    _, schemas = models_json_schema([(m, "validation") for m in MODELS], ref_template=REF)
    instance = _path_param("instance_id", "Workflow instance id", {"type": "string", "pattern": INSTANCE_ID_PATTERN})
    paths = {
        # One path for both: OpenAPI forbids two templates that differ only in their parameter's name.
        "/api/workflows/{id}": {
            "post": {
                "summary": "Start a workflow", "operationId": "startWorkflow",
                "parameters": [_path_param("id", "The workflow to start (its name)",
                                           {"type": "string", "enum": list(WORKFLOWS)})],
                "requestBody": _body(WorkflowRequest, required=True),
                "responses": {"202": _json(StartedResponse, "Started; poll the status URLs"),
                              **_errors(409, 413, 415)},
            },
            "get": {
                "summary": "Status, progress and result of a workflow", "operationId": "getWorkflow",
                "parameters": [_path_param("id", "Workflow instance id",
                                           {"type": "string", "pattern": INSTANCE_ID_PATTERN})],
                "responses": {"200": _json(WorkflowStatus, "The instance"), **_errors()},
            },
        },
        "/api/workflows": {"get": {
            "summary": "Recent workflow instances", "operationId": "listWorkflows",
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string", "pattern": STATUS_PATTERN},
                 "description": "Comma-separated runtime statuses, e.g. Running,Failed"},
                {"name": "top", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
            ],
            "responses": {"200": _json(WorkflowList, "Newest first"), **_errors()},
        }},
        "/api/workflows/{instance_id}/events/{event}": {"post": {
            "summary": "Raise an event (approval: approve or reject)", "operationId": "raiseEvent",
            "parameters": [instance, _path_param("event", "Event name, e.g. approval",
                                                    {"type": "string", "pattern": EVENT_PATTERN})],
            "requestBody": _body(Decision, required=False),
            "responses": {"202": _json(Accepted, "Delivered"), **_errors(409, 413, 415)},
        }},
        "/api/workflows/{instance_id}/graph": {"get": {
            "summary": "The instance's graph (mermaid), each node styled by its state", "operationId": "getGraph",
            "parameters": [instance, {"name": "format", "in": "query",
                                      "schema": {"type": "string", "enum": ["mermaid", "json"]}}],
            "responses": {"200": {"description": "mermaid flowchart (or JSON with format=json)",
                                  "content": {"text/vnd.mermaid": {"schema": {"type": "string"}},
                                              "application/json": {"schema": _ref(InstanceGraph)}}},
                          **_errors()},
        }},
        "/api/definitions": {"get": {
            "summary": "Every workflow: description, agents, input schema, graph", "operationId": "listDefinitions",
            "responses": {"200": _json(DefinitionList, "The workflows"), **_errors()},
        }},
        "/api/workflows/{instance_id}/terminate": {"post": {
            "summary": "Terminate a running workflow", "operationId": "terminateWorkflow",
            "parameters": [instance],
            "requestBody": _body(TerminateRequest, required=False),
            "responses": {"202": _json(Accepted, "Termination requested"), **_errors(409, 413, 415)},
        }},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "baton workflows", "version": "1.0.0",
                 "description": DESCRIPTION},
        "servers": [{"url": server_url}],
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": KEY_PARAMETER},
            },
        },
        "security": [{"functionKey": []}, {"functionKeyQuery": []}],
        "paths": paths,
    }


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    """The API's OpenAPI document."""
    origin = req.url.split("/api/", 1)[0]
    return json_response(build_document(origin or "/"))
