"""``collect_data``: the request's documents as one clean bundle (inline, or by reference when large).

It calls no model (no instructions): reading the text or the blobs and normalising it is its
whole job, so its "offline behaviour" is the identity on the bundle ``prepare`` built.  The
request is validated again here with the API's own contract (:class:`DocumentRequest`),
blob allowlist included.
"""

from __future__ import annotations

from typing import Any

from pydantic import RootModel, model_validator

from . import bundles
from .agent import Agent, Call, Payload
from .inputs import AgentInput, DocumentRequest
from .models import Bundle, BundleRef

NAME = "collect_data"


class CollectInput(AgentInput):
    """``{"request": {...}}``, or the request's fields at the top level."""

    request: DocumentRequest

    @model_validator(mode="before")
    @classmethod
    def _request_at_top_level(cls, data: Any) -> Any:
        if isinstance(data, dict) and "request" not in data and any(k in data for k in ("text", "documents", "blobs")):
            fields = {k: v for k, v in data.items() if k in DocumentRequest.model_fields}
            return {**data, "request": fields}
        return data


class Collected(RootModel[Bundle | BundleRef]):
    """The bundle itself, or a reference to it in Blob storage when its JSON is over the inline limit."""


async def prepare(inp: CollectInput, call: Call) -> dict[str, Any]:
    """Read and normalise the documents; store the bundle as a blob when it is large."""
    bundle = await bundles.collect(inp.request, inp.options, call.settings, call.log)
    output = await bundles.offload(bundle, call.settings, call.log)
    call.log.info("collected %d document(s), %d words", len(bundle.documents), bundle.words)
    return output.model_dump(mode="json")


def offline(payload: Payload) -> dict[str, Any]:
    return dict(payload)


AGENT = Agent(
    name=NAME,
    description="Normalises the request into a document bundle.",
    input_model=CollectInput,
    output_model=Collected,
    prepare=prepare,
    offline=offline,
)
