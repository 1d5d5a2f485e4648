"""Pydantic models of what agent activities accept (the input half of the contract in ``agents``).

Unknown fields are ignored, so orchestrators can add fields without breaking older agents.
A bundle is accepted inline (``Bundle``) or by reference (``BundleRef``, has ``ref``).
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from .models import Bundle, BundleRef, FailureNote


class AgentOptions(BaseModel):
    """Per-call options; any left out come from the bundle, then from settings."""

    model_config = ConfigDict(extra="ignore")
    taxonomy: list[str] | None = Field(None, min_length=2, max_length=100)
    summary_words: int | None = Field(None, ge=5, le=5000)


class AgentInput(BaseModel):
    """Fields every agent activity accepts."""

    model_config = ConfigDict(extra="ignore")
    instance_id: str = ""
    workflow: str = ""
    attempt: int | None = Field(None, ge=1, description="the Durable attempt, when the orchestrator knows it")
    options: AgentOptions = Field(default_factory=AgentOptions)


class SourceDocument(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str = Field("", max_length=500)
    text: str = Field(min_length=1)


class DocumentRequest(BaseModel):
    """What to collect: exactly one of ``text``, ``documents`` or ``blobs``, plus options."""

    model_config = ConfigDict(extra="ignore")
    text: str | None = Field(None, min_length=1)
    title: str | None = Field(None, max_length=500)
    documents: list[SourceDocument] | None = Field(None, min_length=1, max_length=1000)
    blobs: list[str] | None = Field(None, min_length=1, max_length=1000)
    taxonomy: list[str] | None = Field(None, min_length=2, max_length=100)
    summary_words: int | None = Field(None, ge=5, le=5000)

    @model_validator(mode="after")
    def _one_source(self) -> DocumentRequest:
        given = [name for name in ("text", "documents", "blobs") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'text', 'documents' or 'blobs'")
        for name in self.blobs or ():
            container, _, blob = name.partition("/")
            if not container or not blob:
                raise ValueError(f"blob {name!r} must be 'container/name'")
        return self


class CollectInput(AgentInput):
    """``collect_data``: ``{"request": {...}}``, or the request's fields at the top level."""

    request: DocumentRequest

    @model_validator(mode="before")
    @classmethod
    def _request_at_top_level(cls, data: Any) -> Any:
        if isinstance(data, dict) and "request" not in data and any(k in data for k in ("text", "documents", "blobs")):
            return {**data, "request": data}
        return data


class BundleInput(AgentInput):
    """``analyze``, ``summarize``, ``categorize``: the bundle, inline or by reference."""

    bundle: BundleRef | Bundle


class AggregateInput(AgentInput):
    """``aggregate``: the other agents' outputs (any subset) and the failures so far."""

    bundle: BundleRef | Bundle | None = None
    results: dict[str, Any] = Field(default_factory=dict)
    errors: list[FailureNote] = Field(default_factory=list)


class ErrorHandlerInput(AgentInput):
    """``error_handler``: what failed, what succeeded, and optionally the bundle (for a fallback)."""

    failure: FailureNote
    results: dict[str, Any] = Field(default_factory=dict)
    bundle: BundleRef | Bundle | None = None

    @field_validator("bundle", mode="wrap")
    @classmethod
    def _bundle_or_nothing(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """A malformed bundle only costs the fallback, never the report."""
        try:
            return handler(value)
        except ValidationError:
            return None
