"""A real aiohttp server on 127.0.0.1 that speaks the chat-completions protocol, for tests.

Routes: ``POST /v1/chat/completions`` (OpenAI and compatible servers) and
``POST /openai/deployments/{deployment}/chat/completions?api-version=...`` (Azure OpenAI).
Every request is recorded (headers included) before it is answered, so tests can count
requests and check the bearer token.  Replies are scripted per test::

    async with FakeOpenAIServer.start() as server:
        server.script(Reply.rate_limited(retry_after=2), Reply.json({"summary": "..."}))
        ...                                   # first request gets 429, the second the JSON
        assert len(server.requests) == 2

When the script is empty, :meth:`FakeOpenAIServer.default_reply` answers with a minimal
object that validates against the JSON schema the request asked for (``response_format``
or the schema quoted in the system message), so whole workflows run without scripting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Responder = Callable[["RecordedRequest"], "Reply"]


@dataclass
class Reply:
    """One scripted answer: a completion, an error status, a delay, or no answer at all."""

    status: int = 200
    content: str | None = None
    body: Any = None
    raw: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds from the request's arrival to the answer: a fixed model latency, which the
    server's own work on the request (reading, checking, scripting it) is part of."""
    hang: bool = False
    usage: tuple[int, int] | str | None = "auto"
    """``(prompt, completion)``; ``"auto"`` counts characters / 4; ``None`` leaves usage out."""
    finish_reason: str = "stop"
    refusal: str | None = None
    """The model declined: ``message.refusal`` is set and ``content`` is null (structured outputs)."""

    @classmethod
    def json(cls, value: Any, **kwargs: Any) -> Reply:
        """A completion whose message content is ``value`` as JSON text."""
        return cls(content=json.dumps(value), **kwargs)

    @classmethod
    def text(cls, content: str, **kwargs: Any) -> Reply:
        """A completion with this exact content (e.g. malformed JSON)."""
        return cls(content=content, **kwargs)

    @classmethod
    def error(cls, status: int, code: str | None, message: str, **kwargs: Any) -> Reply:
        return cls(status=status, body={"error": {"message": message, "type": None, "param": None, "code": code}},
                   **kwargs)

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1, *, retry_after_ms: float | None = None) -> Reply:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        if retry_after_ms is not None:
            headers["retry-after-ms"] = f"{retry_after_ms:g}"
        return cls.error(429, "rate_limit_exceeded", "Rate limit reached. Please retry later.", headers=headers)

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        return cls.error(status, "server_error", "The server had an error while processing your request.")

    @classmethod
    def content_filter(cls) -> Reply:
        """Azure OpenAI's 400 when the prompt trips the content filter."""
        return cls(status=400, body={"error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management "
                       "policy. Please modify your prompt and retry.",
            "type": None, "param": "prompt", "code": "content_filter", "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {
                "hate": {"filtered": False, "severity": "safe"},
                "self_harm": {"filtered": False, "severity": "safe"},
                "sexual": {"filtered": False, "severity": "safe"},
                "violence": {"filtered": True, "severity": "high"},
            }},
        }})

    @classmethod
    def hang_forever(cls) -> Reply:
        """Accept the request and never answer (until the server stops)."""
        return cls(hang=True)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    arrived: float = 0.0
    """``time.time()`` when the server began handling the request (before reading its body)."""

    @property
    def deployment(self) -> str | None:
        parts = self.path.strip("/").split("/")
        return parts[2] if len(parts) > 3 and parts[:2] == ["openai", "deployments"] else None

    @property
    def bearer_token(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    def requested_schema(self) -> dict[str, Any] | None:
        """The JSON schema asked for: ``response_format.json_schema``, else the one in the system message."""
        body = self.body if isinstance(self.body, dict) else {}
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            return fmt.get("json_schema", {}).get("schema")
        for message in self.messages:
            content = str(message.get("content") or "")
            if message.get("role") == "system" and "{" in content:
                with contextlib.suppress(ValueError):
                    return json.loads(content[content.index("{", content.rfind("schema")):])
        return None


class FakeOpenAIServer:
    """The server; create it with :meth:`start` (an async context manager)."""

    def __init__(self, *, deployments: set[str] | None = None, response_model: str | None = None) -> None:
        self.requests: list[RecordedRequest] = []
        self.latencies: list[float] = []
        """Seconds from each request's arrival to its answer, in the order they were answered."""
        self.deployments = deployments
        self.response_model = response_model
        self.responder: Responder = self.default_reply
        self._script: deque[Reply | Responder] = deque()
        self._stopping = asyncio.Event()
        self.url = ""

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, **options: Any) -> AsyncIterator[FakeOpenAIServer]:
        """Serve on a free loopback port until the block exits."""
        server = cls(**options)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", server._handle)
        app.router.add_post("/chat/completions", server._handle)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", server._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            yield server
        finally:
            server._stopping.set()
            await runner.cleanup()

    # --- what tests use -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``OPENAI_BASE_URL`` for this server."""
        return f"{self.url}/v1"

    @property
    def azure_endpoint(self) -> str:
        """``AZURE_OPENAI_ENDPOINT`` for this server."""
        return self.url

    def openai_env(self, *, model: str = "gpt-4o-mini", api_key: str = "sk-test-fake-key-0000000000") -> dict[str, str]:
        return {"OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": api_key, "OPENAI_MODEL": model}

    def azure_env(self, *, deployment: str = "chat", api_version: str = "2024-10-21") -> dict[str, str]:
        return {"AZURE_OPENAI_ENDPOINT": self.azure_endpoint, "AZURE_OPENAI_DEPLOYMENT": deployment,
                "AZURE_OPENAI_API_VERSION": api_version}

    def script(self, *replies: Reply | Responder) -> None:
        """Answer the next requests with these, in order (then fall back to :attr:`responder`)."""
        self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        return len(self._script)

    def default_reply(self, request: RecordedRequest) -> Reply:
        schema = request.requested_schema()
        return Reply.json(example_from_schema(schema) if schema else {"ok": True})

    # --- protocol -------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived, started = time.time(), time.monotonic()
        response = await self._answer(request, arrived, started)
        self.latencies.append(time.monotonic() - started)
        return response

    async def _answer(self, request: web.Request, arrived: float, started: float) -> web.StreamResponse:
        try:
            body: Any = await request.json()
        except ValueError:
            body = await request.text()
        recorded = RecordedRequest(
            request.method, request.path, dict(request.query), {k.lower(): v for k, v in request.headers.items()}, body,
            arrived,
        )
        self.requests.append(recorded)
        invalid = strict_schema_problem(body)
        if invalid is not None:  # as the service answers: 400 before any model runs
            error = {"message": invalid, "type": "invalid_request_error", "param": "response_format", "code": None}
            return self._render(Reply(status=400, body={"error": error}), recorded)
        if recorded.deployment is not None:
            refusal = self._azure_checks(recorded)
            if refusal is not None:
                return self._render(refusal, recorded)
        scripted = self._script.popleft() if self._script else self.responder
        reply = scripted if isinstance(scripted, Reply) else scripted(recorded)
        if reply.hang:
            await self._stopping.wait()
            return web.Response(status=503)
        remaining = reply.delay - (time.monotonic() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        return self._render(reply, recorded)

    def _azure_checks(self, recorded: RecordedRequest) -> Reply | None:
        if "api-version" not in recorded.query:
            return Reply.error(404, "404", "Resource not found")
        if self.deployments is not None and recorded.deployment not in self.deployments:
            return Reply.error(404, "DeploymentNotFound", "The API deployment for this resource does not exist.")
        if "api-key" not in recorded.headers and not recorded.bearer_token:
            return Reply.error(401, "401", "Access denied due to missing subscription key or token.")
        return None

    def _render(self, reply: Reply, recorded: RecordedRequest) -> web.Response:
        headers = {"x-request-id": f"req-{len(self.requests)}", **reply.headers}
        if reply.raw is not None:
            return web.Response(status=reply.status, text=reply.raw, content_type="text/html", headers=headers)
        if reply.body is not None or reply.status != 200:
            return web.json_response(reply.body or {}, status=reply.status, headers=headers)
        return web.json_response(self._completion(reply, recorded), headers=headers)

    def _completion(self, reply: Reply, recorded: RecordedRequest) -> dict[str, Any]:
        body = recorded.body if isinstance(recorded.body, dict) else {}
        content = reply.content or ""
        completion: dict[str, Any] = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.response_model or recorded.deployment or body.get("model") or "fake-model",
            "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                         "message": {"role": "assistant", "content": None if reply.refusal else content,
                                     "refusal": reply.refusal}}],
        }
        if reply.usage == "auto":  # deterministic, from the text
            p = sum(len(str(m.get("content") or "")) for m in recorded.messages) // 4
            c = len(content) // 4
        elif isinstance(reply.usage, tuple):
            p, c = reply.usage
        else:
            return completion
        completion["usage"] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        return completion


UNSUPPORTED_IN_STRICT = ("minLength", "maxLength", "minProperties", "maxProperties", "patternProperties",
                         "unevaluatedProperties", "propertyNames", "uniqueItems", "contains", "if", "then", "else")


def strict_schema_problem(body: Any) -> str | None:
    """Why the service would refuse a ``strict: true`` json_schema (None: it would take it).

    Matches the documented rules for Structured Outputs: the root is an object; every object
    sets ``additionalProperties: false`` and lists all its properties in ``required``; no
    unsupported keyword appears.  Non-strict schemas are taken as they are.
    """
    fmt = body.get("response_format") if isinstance(body, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    spec = fmt.get("json_schema") or {}
    if spec.get("strict") is not True:
        return None
    name, schema = spec.get("name", ""), spec.get("schema") or {}
    if schema.get("type") != "object":
        return f"Invalid schema for response_format '{name}': schema must be a JSON Schema of 'type: \"object\"'."

    def walk(node: Any, where: tuple[str, ...]) -> str | None:
        if isinstance(node, list):
            return next((p for i, item in enumerate(node) if (p := walk(item, (*where, str(i))))), None)
        if not isinstance(node, dict):
            return None
        context = f"In context={where}, " if where else ""
        for keyword in UNSUPPORTED_IN_STRICT:
            if keyword in node and where[-1:] != ("properties",):
                return f"Invalid schema for response_format '{name}': {context}'{keyword}' is not permitted."
        if node.get("type") == "object" or "properties" in node:
            if node.get("additionalProperties") is not False:
                return (f"Invalid schema for response_format '{name}': {context}'additionalProperties' is "
                        "required to be supplied and to be false.")
            missing = [p for p in node.get("properties", {}) if p not in node.get("required", [])]
            if missing:
                return (f"Invalid schema for response_format '{name}': {context}'required' is required to be "
                        f"supplied and to be an array including every key in properties. Missing '{missing[0]}'.")
        return next((p for key, value in node.items() if (p := walk(value, (*where, key)))), None)

    return walk(schema, ())


def example_from_schema(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A small value that validates against ``schema`` (objects, arrays, enums, bounds, ``$ref``)."""
    root = root or schema
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return example_from_schema(target, root)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example_from_schema(options[0], root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example_from_schema(properties[name], root) for name in schema.get("required", properties)}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [example_from_schema(schema.get("items", {"type": "string"}), root) for _ in range(count)]
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1)
        value = (low + high) / 2
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    text = "example text from the fake server"
    return text[: schema["maxLength"]] if "maxLength" in schema else text
