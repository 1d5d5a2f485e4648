"""What the workflows are and how far an instance got, as graphs.

``GET /api/definitions``: every workflow with its description, agents, input schema and
mermaid graph (from :data:`orchestrators.registry.WORKFLOWS`).
``GET /api/workflows/{instance_id}/graph``: the instance's graph, each node styled by its
live state; mermaid text, or JSON with ``?format=json``.
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from orchestrators.registry import WORKFLOWS

from .models import DefinitionList, InstanceGraph, WorkflowDefinition, WorkflowRequest
from .responses import ApiError, check_query, handles_errors, json_response
from .workflows import checked_instance_id

bp = df.Blueprint()
MERMAID = "text/vnd.mermaid"


def definitions() -> DefinitionList:
    schema = WorkflowRequest.model_json_schema()
    items = [
        WorkflowDefinition(name=w.name, description=w.description, agents=list(w.agents), input_schema=schema,
                           graph=w.graph.render())
        for w in WORKFLOWS.values()
    ]
    return DefinitionList(count=len(items), workflows=items)


@bp.route(route="definitions", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@handles_errors
async def list_definitions(req: func.HttpRequest) -> func.HttpResponse:
    """Every workflow: description, agents, input schema, graph."""
    check_query(req)
    return json_response(definitions())


@bp.route(route="workflows/{instance_id}/graph", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@handles_errors
async def workflow_graph(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """The instance's mermaid graph with node states (as the orchestrator last published it)."""
    check_query(req, "format")
    instance_id = checked_instance_id(req.route_params.get("instance_id", ""))
    fmt = req.params.get("format", "mermaid")
    if fmt not in ("mermaid", "json"):
        raise ApiError(400, "format must be 'mermaid' or 'json'", field="format")
    status = await client.get_status(instance_id)
    if not status or status.name not in WORKFLOWS:
        raise ApiError(404, f"no workflow instance '{instance_id}'")
    progress = status.custom_status if isinstance(status.custom_status, dict) else {}
    graph = progress.get("graph") or WORKFLOWS[status.name].graph.render()  # not started yet: all pending
    if fmt == "json":
        runtime = status.runtime_status.value if status.runtime_status else None
        return json_response(InstanceGraph(id=instance_id, workflow=status.name, runtimeStatus=runtime,
                                           agents=progress.get("agents") or {}, mermaid=graph))
    return func.HttpResponse(graph, status_code=200, mimetype=MERMAID, charset="utf-8")
