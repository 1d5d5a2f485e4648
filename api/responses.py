"""JSON responses and the errors handlers raise: 4xx with a JSON body, never a stack trace."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
from pydantic import BaseModel, ValidationError

from .body import BodyError, parse_body

log = logging.getLogger("baton.api")

Handler = Callable[..., Awaitable[func.HttpResponse]]


class ApiError(Exception):
    """A client mistake (or a known condition) answered with ``status`` and a JSON body."""

    def __init__(self, status: int, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": message, **({"field": field} if field else {}), **extra}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    text = body.model_dump_json(exclude_none=True) if isinstance(body, BaseModel) else json.dumps(body, default=str)
    return func.HttpResponse(text, status_code=status, headers=headers, mimetype="application/json")


def validation_error(exc: ValidationError) -> ApiError:
    """400 naming the first offending field, with every problem listed."""
    details = []
    for problem in exc.errors(include_url=False, include_context=False, include_input=False):
        where = ".".join(str(p) for p in problem.get("loc", ())) or None
        details.append({"field": where, "message": problem.get("msg", "invalid")})
    first = details[0] if details else {"field": None, "message": "invalid request"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return ApiError(400, message, field=first["field"], details=details)


def read_json(req: func.HttpRequest, limit: int, *, required: bool = True) -> Any:
    """The request's JSON body (see :mod:`api.body`): 413 over ``limit`` bytes, 415 when not sent as JSON,
    400 when malformed, too deep, not UTF-8, or missing while ``required``; ``None`` for an optional empty body."""
    body = req.get_body() or b""
    if not body.strip():
        if len(body) > limit:
            raise ApiError(413, f"request body is {len(body)} bytes; the limit is {limit} bytes")
        if required:
            raise ApiError(400, "request body is empty; send a JSON object")
        return None
    try:
        return parse_body(body, req.headers.get("content-type"), max_bytes=limit)
    except BodyError as exc:
        raise ApiError(exc.status, str(exc)) from None


KEY_PARAMETER = "code"  # the function key as a query parameter (the Functions host reads it)


def check_query(req: func.HttpRequest, *allowed: str) -> None:
    """400 for a query parameter the endpoint does not take (``code``, the function key, is always allowed)."""
    for name in req.params:
        if name not in allowed and name != KEY_PARAMETER:
            known = ", ".join(allowed) if allowed else "none"
            raise ApiError(400, f"unknown query parameter '{name}' (this endpoint takes: {known})", field=name)


def handles_errors(handler: Handler) -> Handler:
    """Answer ``ApiError`` with its JSON body; anything unexpected with a 500 and a log line."""

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> func.HttpResponse:
        try:
            return await handler(*args, **kwargs)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        except Exception:
            log.exception("request failed in %s", handler.__name__)
            return json_response({"error": "internal error; see the function logs"}, 500)

    return wrapper
