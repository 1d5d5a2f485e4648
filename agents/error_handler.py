"""``error_handler``: turns a failure into a report for operators, with an offline fallback result.

It never fails: unreadable input becomes part of the report, and when the model cannot
answer (refusal, content filter, ...) the report is written offline.  With the collected
documents at hand it also runs the failed agent's offline behaviour as a stand-in result.
The likely cause follows from the failure's ``kind`` (data, not text matching).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, ValidationError, ValidatorFunctionWrapHandler, field_validator, model_validator

from .agent import Agent, Call, Payload
from .aggregate import usable_results
from .inputs import AgentInput, Failure
from .llm import offline as offline_backend
from .llm.errors import AgentError
from .models import Bundle, BundleRef, Text
from .settings import OFFLINE

NAME = "error_handler"


class ErrorHandlerInput(AgentInput):
    """What failed, what succeeded, and optionally the bundle (for a fallback); never invalid."""

    failure: Failure = Failure(agent="unknown", error="no failure report")
    results: dict[str, Any] = Field(default_factory=dict)
    bundle: BundleRef | Bundle | None = None

    @model_validator(mode="before")
    @classmethod
    def _readable(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("failure"), dict | None) and (
            not isinstance(data.get("failure"), dict) or isinstance(data["failure"].get("agent", ""), str)
        ):
            return data
        text = data if isinstance(data, str) else json.dumps(data, default=str)[:500]
        return {"failure": {"agent": "unknown", "error": f"unreadable failure report: {text}"}}

    @field_validator("bundle", "results", mode="wrap")
    @classmethod
    def _or_nothing(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """A malformed bundle or result set only costs the fallback, never the report."""
        try:
            return handler(value)
        except ValidationError:
            return None if not isinstance(value, dict) or "ref" in value or "documents" in value else {}


class ErrorNarrative(BaseModel):
    """What the model writes."""

    summary: Text
    likely_cause: Text
    recommendations: list[str] = Field(max_length=5)


class Fallback(BaseModel):
    """A best-effort result standing in for the failed agent's."""

    agent: str
    output: dict[str, Any] | None = None
    backend: str = OFFLINE
    note: str = ""


class ErrorReport(ErrorNarrative):
    """The narrative plus the failure itself and the fallback, if any."""

    failed_agent: str
    error: str
    kind: str
    permanent: bool
    fallback: Fallback | None = None


CAUSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "content_filter": ("The content filter blocked the request or the reply.", (
        "Review the document for content that triggers the filter.",
        "If the content is legitimate, adjust the deployment's content filter policy.")),
    "refusal": ("The model refused to answer.", ("Check the document and the agent's instructions.",)),
    "rate_limited": ("The model endpoint was rate limited and the retries ran out.", (
        "Retry later or raise the deployment's tokens-per-minute quota.", "Lower the number of concurrent workflows.")),
    "timeout": ("The step did not finish within its time limit.", (
        "Retry with a longer time limit (BATON_LLM_TIMEOUT_SECONDS, or the workflow's own deadline).",)),
    "schema": ("The model's reply did not match the expected output schema.", (
        "Use a model that supports structured outputs (json_schema).", "Check BATON_RESPONSE_FORMAT.")),
    "auth": ("The app could not authenticate to the model endpoint.", (
        "Grant the app's identity the 'Cognitive Services OpenAI User' role.", "Check AZURE_CLIENT_ID.")),
    "not_found": ("The model or deployment was not found.", ("Check AZURE_OPENAI_DEPLOYMENT / OPENAI_MODEL.",)),
    "retries_exhausted": ("The step kept failing with transient errors until its retries ran out.", (
        "Retry the workflow later.", "Check the service health of the model endpoint and of storage.")),
    "input": ("The agent received invalid input.", ("Fix the request that started the workflow.",)),
    "storage": ("Blob storage was unavailable or a stored document was missing.", (
        "Check BATON_STORAGE (or AzureWebJobsStorage) and that the blobs exist.",)),
    "config": ("The app is not configured for this step.", ("Check the app settings named in the error.",)),
}
UNKNOWN = ("An unexpected error occurred.", ("Inspect the instance's history for details.",))


async def prepare(inp: ErrorHandlerInput, call: Call) -> dict[str, Any]:
    """``{"failure", "results", "title", "fallback"}``."""
    results, _ = usable_results(inp.results or {}, call)
    return {
        "failure": inp.failure.model_dump(), "results": results,
        "title": inp.bundle.title if inp.bundle is not None else "",
        "fallback": await _fallback(inp, results, call),
    }


async def _fallback(inp: ErrorHandlerInput, results: dict[str, Any], call: Call) -> dict[str, Any] | None:
    """The failed agent's offline behaviour on the same input, when that input is at hand."""
    failed = call.agents.get(inp.failure.agent)
    if failed is None or not failed.uses_model:
        return None
    data = {"bundle": inp.bundle, "results": results, "options": inp.options.model_dump()}
    try:
        failed_input = failed.input_model.model_validate({k: v for k, v in data.items() if v is not None})
        payload = await failed.prepare(failed_input, call)
        output = failed.produce_offline(payload)
    except (ValidationError, AgentError) as exc:
        call.log.info("no fallback for %s: %s", failed.name, str(exc).split("\n", 1)[0])
        return None
    note = f"offline result ({offline_backend.MODEL}) standing in for the failed {failed.name}"
    return {"agent": failed.name, "output": output.model_dump(mode="json"), "backend": OFFLINE, "note": note}


def finalize(narrative: BaseModel, payload: Payload) -> ErrorReport:
    failure = Failure.model_validate(payload.get("failure") or {"agent": "unknown"})
    fallback = payload.get("fallback")
    return ErrorReport(
        **narrative.model_dump(include={"summary", "likely_cause", "recommendations"}),
        failed_agent=failure.agent, error=failure.error, kind=failure.kind, permanent=failure.permanent,
        fallback=Fallback.model_validate(fallback) if fallback else None,
    )


def offline(payload: Payload) -> dict[str, Any]:
    """The cause and advice for the failure's kind; what still succeeded; whether a fallback exists."""
    failure = Failure.model_validate(payload.get("failure") or {"agent": "an agent"})
    cause, recommendations = CAUSES.get(failure.kind, UNKNOWN)
    how = "permanently" if failure.permanent else "after its retries"
    summary = f"The {failure.agent} step failed {how}: {(failure.error or 'unknown error')[:300]}"
    succeeded = sorted(payload.get("results") or {})
    if succeeded:
        summary += f" Results of {', '.join(succeeded)} are still available."
    if payload.get("fallback"):
        summary += " A fallback result from the offline backend stands in for the failed step."
    return {"summary": summary, "likely_cause": cause, "recommendations": list(recommendations)}


AGENT = Agent(
    name=NAME,
    description="Explains a failure to operators, with an offline stand-in result.",
    instructions=(
        "You explain failures of an automated document-analysis workflow to its operators. The user message is "
        "JSON: the failure (agent, error, kind, permanent), the results that did succeed, and a fallback result if "
        "one exists. Write a one-paragraph summary of what failed and what it means for the output, the likely "
        "cause, and up to 5 concrete recommendations to fix it."
    ),
    input_model=ErrorHandlerInput,
    output_model=ErrorNarrative,
    prepare=prepare,
    offline=offline,
    finalize=finalize,
    offline_when_refused=True,
    max_output_tokens=600,
)
