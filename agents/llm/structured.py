"""Structured output: ask for JSON matching the output model, parse and validate the reply.

``BATON_RESPONSE_FORMAT`` says what the server supports:

* ``strict`` (default; OpenAI, Azure OpenAI): the openai SDK's own strict JSON schema of the
  output model (``type_to_response_format_param``, as ``chat.completions.parse`` sends it),
  so the service holds the model to the schema; a refusal is a permanent failure with the
  model's reason, and a reply that still fails validation is a permanent ``schema`` failure.
* ``json_schema`` / ``json_object`` / ``none``: OpenAI-compatible servers without strict
  mode; the schema also travels in the system message, and a reply that fails validation
  is answered with one repair message that quotes the validation errors.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from openai.lib._parsing._completions import type_to_response_format_param
from pydantic import BaseModel, ValidationError

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
_MAX_PROBLEMS = 8
STRICT = "strict"


class OutputInvalid(Exception):
    """The reply is not JSON matching the output model; ``problems`` says why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@functools.lru_cache(maxsize=64)
def schema_json(model: type[BaseModel], strict: bool = False) -> str:
    """The model's JSON schema: the SDK's strict form, or pydantic's own."""
    schema = strict_format(model)["json_schema"]["schema"] if strict else model.model_json_schema()
    return json.dumps(schema, separators=(",", ":"), sort_keys=True)


def strict_format(model: type[BaseModel]) -> dict[str, Any]:
    """``response_format`` exactly as the openai SDK builds it for ``parse(response_format=model)``."""
    return dict(type_to_response_format_param(model))  # type: ignore[arg-type]


def call_schema(
    model: type[BaseModel], choices: Iterable[tuple[str, str]], options: Mapping[str, Any], *, strict: bool = False,
) -> dict[str, Any]:
    """The output schema for one call: ``(field, option)`` choices become enums (``category`` from ``taxonomy``)."""
    schema = json.loads(schema_json(model, strict))
    for field_name, option in choices:
        values = options.get(option)
        if values and field_name in schema.get("properties", {}):
            schema["properties"][field_name]["enum"] = list(values)
    return schema


def build_messages(instructions: str, schema: Mapping[str, Any], payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    text = json.dumps(schema, separators=(",", ":"), sort_keys=True)
    system = (
        f"{instructions.strip()}\n\nAnswer with one JSON object only (no prose, no code fences). "
        f"It must validate against this JSON schema:\n{text}"
    )
    user = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def response_format(name: str, schema: Mapping[str, Any], mode: str) -> dict[str, Any] | None:
    """The ``response_format`` request field for ``mode`` (``strict``, ``json_schema``, ``json_object``, ``none``)."""
    if mode == STRICT:
        return {"type": "json_schema", "json_schema": {"schema": dict(schema), "name": name, "strict": True}}
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": dict(schema), "strict": False}}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def parse_reply(model: type[BaseModel], content: str, context: Mapping[str, Any]) -> BaseModel:
    """Validate the reply's JSON against ``model`` (``context`` feeds request-dependent checks)."""
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    if not text:
        raise OutputInvalid(["the reply was empty"])
    try:
        data = json.loads(text)
    except ValueError as exc:
        start, end = text.find("{"), text.rfind("}")
        try:
            data = json.loads(text[start:end + 1]) if 0 <= start < end else None
        except ValueError:
            data = None
        if data is None:
            raise OutputInvalid([f"the reply is not valid JSON ({exc.msg} at position {exc.pos})"]) from None
    if not isinstance(data, dict):
        raise OutputInvalid([f"the reply must be a JSON object, not {type(data).__name__}"])
    try:
        return model.model_validate(data, context=dict(context))
    except ValidationError as exc:
        raise OutputInvalid(describe(exc)) from None


def describe(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors()[:_MAX_PROBLEMS]:
        where = ".".join(str(part) for part in item["loc"]) or "(root)"
        problems.append(f"{where}: {item['msg']}")
    return problems


def repair_messages(messages: list[dict[str, Any]], reply: str, problem: OutputInvalid) -> list[dict[str, Any]]:
    """The conversation plus the bad reply and a request to fix it."""
    fix = (
        "Your reply did not validate: " + "; ".join(problem.problems)
        + ". Reply again with only the corrected JSON object, matching the schema."
    )
    return [*messages, {"role": "assistant", "content": reply[:4000]}, {"role": "user", "content": fix}]


def estimate_tokens(text: str) -> int:
    """About four characters per token: an estimate, labelled as such where it is used."""
    return math.ceil(len(text) / 4) if text else 0
