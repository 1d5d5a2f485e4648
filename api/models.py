"""Request and response models of the workflow API (validation and the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

INSTANCE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"


class Document(BaseModel):
    """One document to analyse."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field("", max_length=500)
    text: str = Field(min_length=1, description="The document's text.")


class WorkflowRequest(BaseModel):
    """Body of ``POST /api/workflows/{name}``: exactly one of ``text``, ``documents``, ``blobs``."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, min_length=1, description="One document as plain text.")
    title: str | None = Field(None, max_length=500, description="Title of the ``text`` document.")
    documents: list[Document] | None = Field(None, min_length=1, max_length=100)
    blobs: list[str] | None = Field(
        None, min_length=1, max_length=100, description="Blob names as 'container/path' in the app's storage account."
    )
    taxonomy: list[str] | None = Field(None, min_length=2, max_length=50, description="Categories to choose from.")
    summary_words: int | None = Field(None, ge=10, le=2000, description="Word budget of the summary.")
    instance_id: str | None = Field(
        None, pattern=INSTANCE_ID_PATTERN, description="Client-chosen instance id (letters, digits, '-', '_')."
    )
    approval_timeout_hours: float | None = Field(
        None, gt=0, le=720, description="approval workflow: hours to wait for a decision before escalating."
    )

    @model_validator(mode="after")
    def _one_source(self) -> WorkflowRequest:
        given = [name for name in ("text", "documents", "blobs") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'text', 'documents' or 'blobs'")
        return self

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


class EventRequest(BaseModel):
    """Body of ``POST .../events/approval``; other events take any JSON."""

    model_config = ConfigDict(extra="allow")
    approved: bool
    by: str = ""
    comment: str = ""


class TerminateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("terminated by the user", max_length=1000)


class Accepted(BaseModel):
    id: str
    accepted: bool = True
    detail: str


class ErrorResponse(BaseModel):
    """Every 4xx body."""

    error: str
    field: str | None = None
    details: list[dict[str, Any]] | None = None
