"""One place that turns errors into HTTP responses: JSON bodies, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import (
    DevhostError,
    FunctionNotFound,
    InstanceAlreadyExists,
    InstanceNotFound,
    InvalidInstanceState,
    StoreError,
)

log = logging.getLogger("devhost.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STATUS: list[tuple[type[DevhostError], int]] = [
    (InstanceNotFound, 404),
    (InstanceAlreadyExists, 409),
    (InvalidInstanceState, 410),
    (FunctionNotFound, 400),
    (StoreError, 503),
]


def status_for(exc: DevhostError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map devhost errors to statuses; anything unexpected is logged and answered with 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if 400 <= exc.status < 500 and exc.status not in (404, 410):  # e.g. 413: JSON, like our own 4xx
            return web.json_response({"Message": exc.text or exc.reason}, status=exc.status)
        raise
    except ConnectionError:
        # The client went away (closed the socket mid-request): nobody to answer, nothing broken.
        log.info("%s %s: the client disconnected before the response", request.method, request.path)
        return web.Response(status=499, reason="Client Closed Request")
    except DevhostError as exc:
        status = status_for(exc)
        if status in (404, 410):
            return web.Response(status=status)  # the Durable API answers these with no body
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.path, exc)
        body = {"Message": str(exc), "ExceptionMessage": str(exc), "ExceptionType": type(exc).__name__}
        return web.json_response(body, status=status)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.json_response({"Message": "Something went wrong while processing your request"}, status=500)


def setup_middlewares(app: web.Application) -> None:
    app.middlewares.append(error_middleware)
