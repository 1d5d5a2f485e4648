"""Request and response models of the workflow API (validation and the OpenAPI document).

The documents part of a request is the agents' own contract, :class:`agents.inputs.DocumentRequest`;
the ``approval`` event's body is the approval workflow's :class:`~orchestrators.approval.Decision`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.inputs import DocumentRequest

INSTANCE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"


class WorkflowRequest(DocumentRequest):
    """Body of ``POST /api/workflows/{name}``: the documents (exactly one of ``text``, ``documents``,
    ``blobs``; the agents' own contract) plus how to run the workflow."""

    instance_id: str | None = Field(
        None, pattern=INSTANCE_ID_PATTERN, description="Client-chosen instance id (letters, digits, '-', '_')."
    )
    approval_timeout_hours: float | None = Field(
        None, gt=0, le=720, description="approval workflow: hours to wait for a decision before escalating."
    )

    def agent_request(self) -> dict[str, Any]:
        """What the collect_data agent receives."""
        return self.model_dump(include={"text", "title", "documents", "blobs"}, exclude_none=True)

    def agent_options(self) -> dict[str, Any]:
        return self.model_dump(include={"taxonomy", "summary_words"}, exclude_none=True)


class StartedResponse(BaseModel):
    """202 body: the Durable check-status payload plus the friendly status URL."""

    id: str
    statusQueryGetUri: str
    sendEventPostUri: str
    terminatePostUri: str
    purgeHistoryDeleteUri: str
    workflowStatusUri: str


class Progress(BaseModel):
    """The checkpoint a running workflow publishes (its custom status)."""

    model_config = ConfigDict(extra="allow")
    workflow: str
    stage: str
    status: str
    completed: int
    total: int
    agents: dict[str, str]
    tokens: dict[str, int]
    cost_usd: float
    graph: str | None = Field(None, description="the workflow's mermaid flowchart, nodes classed by their state")


RuntimeStatus = Literal["Running", "Pending", "Completed", "Failed", "Terminated", "Suspended", "ContinuedAsNew",
                        "Canceled"]


class WorkflowStatus(BaseModel):
    """Body of ``GET /api/workflows/{instance_id}``."""

    id: str
    workflow: str | None
    runtimeStatus: RuntimeStatus | None
    progress: Progress | dict[str, Any] | None = None
    output: dict[str, Any] | list[Any] | str | None = None
    error: str | None = None
    createdTime: datetime | None = None
    lastUpdatedTime: datetime | None = None


class WorkflowList(BaseModel):
    """Body of ``GET /api/workflows``."""

    count: int
    instances: list[WorkflowStatus]


class TerminateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("terminated by the user", max_length=1000)


class Accepted(BaseModel):
    id: str
    accepted: bool = True
    detail: str


class WorkflowDefinition(BaseModel):
    """One workflow as ``GET /api/definitions`` lists it."""

    name: str
    description: str
    agents: list[str]
    input_schema: dict[str, Any]
    graph: str = Field(description="mermaid flowchart")


class InstanceGraph(BaseModel):
    """Body of ``GET /api/workflows/{instance_id}/graph?format=json``."""

    id: str
    workflow: str
    runtimeStatus: RuntimeStatus | None
    agents: dict[str, str]
    mermaid: str = Field(description="mermaid flowchart, nodes classed by their state")


class DefinitionList(BaseModel):
    """Body of ``GET /api/definitions``."""

    count: int
    workflows: list[WorkflowDefinition]


class ErrorResponse(BaseModel):
    """Every 4xx body."""

    error: str
    field: str | None = None
    details: list[dict[str, Any]] | None = None
