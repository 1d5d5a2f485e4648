"""The request contract (once, for the API and the agents) and the inputs agents share.

:class:`DocumentRequest` is what a user asks to analyse: exactly one of ``text``,
``documents`` or ``blobs``, plus options.  The HTTP API validates it (400 naming the field)
and ``collect_data`` validates it again, with the same limits.  Types are strict (``"on"``
is not ``true``).  ``blobs`` may name only containers on ``BATON_INPUT_CONTAINERS``
(default ``inbox``); the host's and the app's own containers are never readable.

Agent inputs ignore unknown fields, so orchestrators can add fields without breaking agents.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue

from .models import Bundle, BundleRef, Failure

__all__ = ["AgentInput", "AgentOptions", "DocumentRequest", "DocumentsInput", "Failure", "SourceDocument"]

SOURCES = ("text", "documents", "blobs")
MAX_DOCUMENTS = 100
MAX_TITLE = 500
DEFAULT_INPUT_CONTAINERS = ("inbox",)
CONTAINER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_NEVER_READABLE_PREFIXES = ("azure-webjobs-", "app-package", "$")
_NEVER_READABLE_SUFFIXES = ("-largemessages", "-leases", "-applease")
_APP_CONTAINER_SETTINGS = {
    "BATON_RESULTS_CONTAINER": "workflow-results", "BATON_CACHE_CONTAINER": "baton-cache",
    "BATON_BUNDLE_CONTAINER": "baton-bundles",
}


def input_containers() -> tuple[str, ...]:
    """The containers a request may read (``BATON_INPUT_CONTAINERS``, comma-separated), minus forbidden ones."""
    text = os.environ.get("BATON_INPUT_CONTAINERS") or ""
    named = tuple(c.strip() for c in text.split(",") if c.strip()) or DEFAULT_INPUT_CONTAINERS
    return tuple(c for c in named if CONTAINER_NAME.fullmatch(c) and not _never_readable(c))


def _never_readable(container: str) -> bool:
    own = {os.environ.get(name) or default for name, default in _APP_CONTAINER_SETTINGS.items()}
    return (
        container in own or container.startswith(_NEVER_READABLE_PREFIXES)
        or container.endswith(_NEVER_READABLE_SUFFIXES)
    )


_SEGMENT_CHAR = r"[^/\\\u0000-\u001f]"
_SEGMENT_START = r"[^/\\.\u0000-\u001f]"
# A path segment is anything but '', '.' and '..' (no backslash, no control character).
_SEGMENT = rf"(?:{_SEGMENT_START}|\.{_SEGMENT_START}|\.\.{_SEGMENT_CHAR}){_SEGMENT_CHAR}*"
MAX_BLOB_NAME = 1024


def blob_pattern(containers: tuple[str, ...] | None = None) -> str:
    """The regular expression (Python and ECMA-262 alike) of a readable blob name: ``container/path`` with the
    container on the allowlist and no empty, ``.`` or ``..`` segment; states the rule in the OpenAPI document."""
    names = input_containers() if containers is None else containers
    allowed = "|".join(re.escape(c) for c in names) or r"[^\s\S]"
    return rf"^(?:{allowed})(?:/{_SEGMENT})+$"


def check_blob_name(name: str) -> str:
    """``container/path`` with the container on the allowlist; the reason otherwise (ValueError)."""
    container, _, blob = name.partition("/")
    if not blob:
        raise ValueError(f"blob {name!r} must be 'container/name'")
    allowed = input_containers()
    if container not in allowed:
        raise ValueError(f"container {container!r} is not readable; allowed: {', '.join(allowed) or 'none'}")
    if len(name) > MAX_BLOB_NAME or not re.fullmatch(blob_pattern(allowed), name):
        raise ValueError(f"blob {name!r} must be 'container/name' (no empty, '.' or '..' segment, no backslash)")
    return name


class _BlobNameSchema:
    """Puts the allowlist, read when the schema is generated, into the schema as a ``pattern``."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(core_schema), "pattern": blob_pattern()}


BlobName = Annotated[
    str, Field(min_length=3, max_length=MAX_BLOB_NAME), AfterValidator(check_blob_name), _BlobNameSchema()]
Taxonomy = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=2, max_length=50)]


def _integral(value: Any) -> Any:
    """``927.0`` is the integer 927, as JSON Schema counts it; ``927.5``, ``"927"`` and ``true`` stay invalid."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


SummaryWords = Annotated[int, Field(ge=10, le=2000), BeforeValidator(_integral)]


class SourceDocument(BaseModel):
    """One document to analyse."""

    model_config = ConfigDict(extra="forbid", strict=True)
    title: str = Field("", max_length=MAX_TITLE)
    text: str = Field(min_length=1, description="The document's text.")


def _given(source: str) -> dict[str, Any]:
    """JSON Schema for "``source`` is present and not null" (null counts as absent, as in the validator)."""
    return {"required": [source], "properties": {source: {"not": {"type": "null"}}}}


class DocumentRequest(BaseModel):
    """What to analyse: exactly one of ``text``, ``documents`` or ``blobs``, plus options."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"oneOf": [_given(s) for s in SOURCES]})
    text: str | None = Field(None, min_length=1, description="One document as plain text.")
    title: str | None = Field(None, max_length=MAX_TITLE, description="Title of the ``text`` document.")
    documents: list[SourceDocument] | None = Field(None, min_length=1, max_length=MAX_DOCUMENTS)
    blobs: list[BlobName] | None = Field(
        None, min_length=1, max_length=MAX_DOCUMENTS,
        description="Blobs as 'container/name'; only containers on BATON_INPUT_CONTAINERS (default: inbox).",
    )
    taxonomy: Taxonomy | None = Field(None, description="Categories to choose from.")
    summary_words: SummaryWords | None = Field(None, description="Word budget of the summary.")

    @model_validator(mode="after")
    def _one_source(self) -> DocumentRequest:
        given = [name for name in SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'text', 'documents' or 'blobs'")
        return self


class AgentOptions(BaseModel):
    """Per-call options; any left out come from the bundle, then from settings."""

    model_config = ConfigDict(extra="ignore")
    taxonomy: Taxonomy | None = None
    summary_words: SummaryWords | None = None


class AgentInput(BaseModel):
    """Fields every agent activity accepts."""

    model_config = ConfigDict(extra="ignore")
    instance_id: str = ""
    workflow: str = ""
    attempt: int | None = Field(None, ge=1, description="the Durable attempt, when the orchestrator knows it")
    options: AgentOptions = Field(default_factory=AgentOptions)


class DocumentsInput(AgentInput):
    """Agents that read the collected documents: the bundle, inline or by reference."""

    bundle: BundleRef | Bundle
