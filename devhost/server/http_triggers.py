"""Serve the app's HTTP-triggered functions with real ``func.HttpRequest`` / ``HttpResponse``."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from aiohttp import web

from .. import worker
from ..keys import HostKeys, presented_key
from ..loader import HttpFunction
from .routing import RouteTemplate, sort_routes

log = logging.getLogger("devhost.http")

ClientBinding = Callable[[web.Request, HttpFunction], str]
"""Builds the durable client binding JSON for one invocation."""


@dataclass(frozen=True)
class InvocationContext:
    """The ``context`` argument (``func.Context``-like) for functions that ask for it."""

    invocation_id: str
    function_name: str
    function_directory: str
    trace_context: Any = None
    retry_context: Any = None
    thread_local_storage: Any = None


class HttpTriggers:
    """Match a request against the app's route templates and invoke the function."""

    def __init__(
        self,
        functions: list[HttpFunction],
        prefix: str,
        app_dir: str,
        binding: ClientBinding,
        keys: HostKeys | None = None,
    ) -> None:
        self.keys = keys  # None: every function is open, as with Core Tools
        self.prefix = prefix
        self.app_dir = app_dir
        self.binding = binding
        self.routes = sort_routes([(RouteTemplate.compile(f.route), f) for f in functions])

    def describe(self) -> list[tuple[str, str, str]]:
        """``(function name, methods, url path)`` for the startup banner."""
        rows = []
        for template, function in self.routes:
            methods = ",".join(sorted(function.methods)) if function.methods else "ALL"
            path = "/".join(p for p in (self.prefix, template.template) if p)
            rows.append((function.name, methods, "/" + path))
        return sorted(rows)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Invoke the first function whose route and methods match; otherwise 404.

        A route served only for other methods is a 404 too, as the Functions host answers it
        (azure-functions-host#10098): a function's methods are part of its route there.
        """
        path = request.match_info.get("tail", "")
        for template, function in self.routes:
            params = template.match(path)
            if params is None:
                continue
            if function.methods is not None and request.method not in function.methods:
                continue
            if self.keys is not None and not self.keys.allows(
                function.auth_level, function.name, presented_key(request.headers, request.query)
            ):
                return web.Response(status=401)  # as the host answers a missing or wrong key
            return await self._invoke(request, function, params)
        return web.json_response({"error": f"no function serves {request.method} /{self.prefix}/{path}"}, status=404)

    async def _invoke(self, request: web.Request, function: HttpFunction, params: dict[str, str]) -> web.Response:
        body = await request.read()
        req = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=dict(request.headers),
            params={k: v for k, v in request.query.items()},
            route_params=params,
            body=body,
        )
        kwargs: dict[str, Any] = {function.trigger_param: req}
        invocation_id = str(uuid.uuid4())
        if function.client_param:
            kwargs[function.client_param] = self.binding(request, function)
        if function.wants_context:
            kwargs["context"] = InvocationContext(invocation_id, function.name, self.app_dir)
        started = time.perf_counter()
        try:
            result = to_aiohttp_response(await worker.call(function.fn, **kwargs))
        except Exception as exc:
            log.exception("Executed 'Functions.%s' (Failed, Id=%s)", function.name, invocation_id)
            return web.json_response(
                {"error": f"Exception while executing function: Functions.{function.name}",
                 "type": type(exc).__name__, "invocationId": invocation_id},
                status=500,
            )
        log.info(
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)",
            function.name, invocation_id, (time.perf_counter() - started) * 1000,
        )
        return result


def to_aiohttp_response(result: Any) -> web.Response:
    """Convert what the function returned, as the worker's HTTP output converter does."""
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str):
        return web.Response(status=200, text=result, content_type="text/plain")
    if isinstance(result, func.HttpResponse):
        headers = {k: v for k, v in result.headers.items() if k.lower() != "content-length"}
        if result.mimetype and "content-type" not in {k.lower() for k in headers}:
            charset = f"; charset={result.charset}" if result.charset else ""
            headers["Content-Type"] = f"{result.mimetype}{charset}"
        return web.Response(status=result.status_code, body=result.get_body(), headers=headers)
    raise TypeError(f"HTTP function returned {type(result).__name__}; expected func.HttpResponse or str")
