"""One place that turns errors into HTTP responses: JSON bodies, never a stack trace."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from ..dashboard.state import DASHBOARD_PATH
from ..errors import (
    DevhostError,
    FunctionNotFound,
    InstanceAlreadyExists,
    InstanceNotFound,
    InvalidInstanceState,
    StoreError,
)
from ..keys import QUERY, HostKeys, presented_key
from .binding import WEBHOOK_PATH
from .durable_api import RPC_PATH

log = logging.getLogger("devhost.server")
WEBHOOKS_ROOT = WEBHOOK_PATH.rsplit("/", 1)[0] + "/"  # /runtime/webhooks/
DASHBOARD_COOKIE = "devhost_dashboard_key"

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


def key_middleware(keys: HostKeys) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Keys for the extension webhooks: each takes its extension's system key or the master key.

    The SDK's RPC API (``rpcBaseUrl``) is, on the real host, a listener on localhost only that
    takes no key; here it shares the app's port, so it is open to loopback callers only and
    needs the same keys as the webhook API from anywhere else.
    """

    @web.middleware
    async def check_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        key = presented_key(request.headers, request.query)
        if path.startswith(WEBHOOKS_ROOT):  # /runtime/webhooks/<extension>...: its system key or master
            extension = path[len(WEBHOOKS_ROOT):].split("/", 1)[0]
            if not keys.allows_extension(key, extension):
                return web.Response(status=401)
        elif path.startswith(RPC_PATH + "/") and not _is_loopback(request.remote) and not keys.allows_extension(key):
            return web.Response(status=401)
        elif path == DASHBOARD_PATH or path.startswith(DASHBOARD_PATH + "/"):
            return await _dashboard(request, handler, keys)
        return await handler(request)

    return check_key


async def _dashboard(request: web.Request, handler: Handler, keys: HostKeys) -> web.StreamResponse:
    """The dashboard acts on every instance, like the admin API: the master key, presented once.

    ``?code=<master key>`` (the URL the banner prints) sets an HttpOnly, same-site cookie that
    the dashboard's own pages and fetches carry from then on; anything else is a 401.
    """
    cookie = request.cookies.get(DASHBOARD_COOKIE)
    if cookie and keys.allows("admin", "", cookie):
        return await handler(request)
    code = request.query.get(QUERY)
    if not (code and keys.allows("admin", "", code)):
        return web.json_response({"error": "the dashboard needs the master key: open the URL devhost printed "
                                           "(…/_devhost/?code=<master key>)"}, status=401)
    response = await handler(request)
    response.set_cookie(DASHBOARD_COOKIE, code, httponly=True, samesite="Strict", path=DASHBOARD_PATH)
    return response


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


class QuietBadRequests(logging.Filter):
    """aiohttp logs a request it cannot parse (a 9 KB URL, a bad header) at ERROR with a traceback.

    That is the client's mistake, already answered 400: make it one INFO line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BadHttpMessage):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "unparsable HTTP request answered %s: %s", (exc.code, exc.message)
            record.exc_info, record.exc_text = None, None
        return True


def setup_middlewares(app: web.Application, keys: HostKeys | None = None) -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietBadRequests) for f in server_log.filters):
        server_log.addFilter(QuietBadRequests())
    app.middlewares.append(error_middleware)
    if keys is not None:
        app.middlewares.append(key_middleware(keys))
