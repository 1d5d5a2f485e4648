"""The Durable HTTP API: the public webhook API and the SDK's RPC API, one set of handlers.

The real host serves the same handler under two bases (``durable-protocol.md`` §6):
``/runtime/webhooks/durabletask`` on the app's port, and ``/durabletask`` (``rpcBaseUrl``)
for the SDK's ``DurableOrchestrationClient``.  Status codes follow the documented API:
202 running / accepted, 200 done, 404 unknown (empty body), 410 gone (empty body), 400 bad
input (JSON body with ``ExceptionMessage``, which the SDK raises).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from ..client import TaskHubClient, parse_time
from ..store.base import InstanceQuery, OrchestrationInstance, RuntimeStatus
from .binding import WEBHOOK_PATH, check_status_payload
from .json_body import JsonBodyError, decode_text, parse_json
from .status import status_body, status_payload

RPC_PATH = "/durabletask"
_OPERATIONS = "terminate|suspend|resume|restart|rewind"
_RUNNING = frozenset({RuntimeStatus.RUNNING, RuntimeStatus.PENDING, RuntimeStatus.CONTINUED_AS_NEW,
                      RuntimeStatus.SUSPENDED})


def bad_request(message: str) -> web.Response:
    """400 in the shape the SDK reads (``ExceptionMessage``) and humans can read (``Message``)."""
    return web.json_response(
        {"Message": "One or more of the arguments submitted is incorrect", "ExceptionMessage": message,
         "ExceptionType": "System.ArgumentException"},
        status=400,
    )


class _Query:
    """Query-string access with case-insensitive keys, as the real host reads them."""

    def __init__(self, request: web.Request) -> None:
        self.values: dict[str, list[str]] = {}
        for key, value in request.query.items():
            self.values.setdefault(key.lower(), []).append(value)

    def get(self, key: str, default: str | None = None) -> str | None:
        found = self.values.get(key.lower())
        return found[0] if found else default

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.get(key)
        return default if value is None else value.strip().lower() == "true"

    def statuses(self) -> frozenset[RuntimeStatus] | None:
        names = [n.strip() for v in self.values.get("runtimestatus", []) for n in v.split(",") if n.strip()]
        if not names:
            return None
        by_name = {s.value.lower(): s for s in RuntimeStatus}
        unknown = [n for n in names if n.lower() not in by_name]
        if unknown:
            allowed = ", ".join(s.value for s in RuntimeStatus)
            raise ValueError(f"Unknown runtimeStatus '{unknown[0]}'; use one of {allowed}.")
        return frozenset(by_name[n.lower()] for n in names)

    def instance_query(self, continuation: str | None) -> InstanceQuery:
        top = self.get("top")
        try:
            size = int(top) if top else 100
        except ValueError as exc:
            raise ValueError(f"top must be an integer, not '{top}'.") from exc
        return InstanceQuery(
            runtime_status=self.statuses(),
            created_from=parse_time(self.get("createdTimeFrom")),
            created_to=parse_time(self.get("createdTimeTo")),
            instance_id_prefix=self.get("instanceIdPrefix"),
            top=max(1, min(size, 1000)),
            continuation_token=continuation or None,
        )


class DurableApi:
    """Handlers shared by the webhook and RPC bases."""

    def __init__(self, client: TaskHubClient, hub_name: str, code: str | None = None) -> None:
        self.client = client
        self.hub_name = hub_name
        self.code = code  # the system key the management URLs carry when keys are on

    # --- orchestrations -------------------------------------------------------------------
    async def start(self, request: web.Request) -> web.Response:
        query = _Query(request)
        try:
            input_text = await _json_text(request)  # any Content-Type, as the extension reads it
        except JsonBodyError as exc:
            return bad_request(str(exc))
        try:
            instance_id = await self.client.start(
                request.match_info["name"], request.match_info.get("instance_id"),
                input=input_text, version=query.get("version") or "",
            )
        except ValueError as exc:
            return bad_request(str(exc))
        timeout = query.get("timeout")
        if timeout:
            done = await self._wait(instance_id, _seconds(timeout, 10.0), _seconds(query.get("pollingInterval"), 1.0))
            if done is not None and done.runtime_status is RuntimeStatus.COMPLETED:
                return web.Response(status=200, text=done.output or "null", content_type="application/json")
            if done is not None and done.runtime_status is RuntimeStatus.FAILED:
                return web.json_response(status_payload(done), status=500)
        payload = check_status_payload(_origin(request), self.hub_name, instance_id, self.code)
        return web.json_response(
            payload, status=202, headers={"Location": payload["statusQueryGetUri"], "Retry-After": "10"}
        )

    async def get_status(self, request: web.Request) -> web.Response:
        query = _Query(request)
        instance_id = request.match_info["instance_id"]
        instance = await self.client.store.get_instance(instance_id)
        if instance is None:
            return web.Response(status=404)
        show_input = query.flag("showInput", True)
        if query.flag("showHistory"):
            history = await self.client.history(instance_id)
            payload = status_payload(
                instance, history=history, show_input=show_input, show_history_output=query.flag("showHistoryOutput"),
            )
            body = json.dumps(payload).encode()
        else:
            body = status_body(instance, show_input=show_input)
        if instance.runtime_status in _RUNNING:
            return _json_body(body, 202, {"Location": str(request.url), "Retry-After": "5"})
        failed = instance.runtime_status is RuntimeStatus.FAILED
        code = 500 if failed and query.flag("returnInternalServerErrorOnFailure") else 200
        return _json_body(body, code)

    async def list_instances(self, request: web.Request) -> web.Response:
        query = _Query(request)
        try:
            instance_query = query.instance_query(request.headers.get("x-ms-continuation-token"))
        except ValueError as exc:
            return bad_request(str(exc))
        page = await self.client.query(instance_query)
        show_input = query.flag("showInput", True)
        items = [
            status_payload(i, show_input=show_input) for i in page.instances if not i.instance_id.startswith("@")
        ]
        headers = {"x-ms-continuation-token": page.continuation_token or ""}
        return web.json_response(items, headers=headers)

    async def purge(self, request: web.Request) -> web.Response:
        deleted = await self.client.purge(request.match_info["instance_id"])
        if not deleted:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})

    async def purge_by(self, request: web.Request) -> web.Response:
        query = _Query(request)
        if not query.get("createdTimeFrom"):
            return bad_request("createdTimeFrom is required to purge instances by filter.")
        try:
            deleted = await self.client.purge_by(query.instance_query(None))
        except ValueError as exc:
            return bad_request(str(exc))
        if not deleted:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})

    async def raise_event(self, request: web.Request) -> web.Response:
        """404 unknown, 410 finished, then the body must be ``application/json`` (the extension's order)."""
        instance_id = request.match_info["instance_id"]
        instance = await self.client.store.get_instance(instance_id)
        if instance is None:
            return web.Response(status=404)
        if instance.runtime_status.is_terminal:
            return web.Response(status=410)
        if _media_type(request) != "application/json":
            return bad_request("Only application/json request content is supported")
        try:
            data = await _json_text(request)
        except JsonBodyError as exc:
            return bad_request(str(exc))
        await self.client.raise_event(instance_id, request.match_info["event"], data)
        return web.Response(status=202)

    async def operate(self, request: web.Request) -> web.Response:
        """``terminate``, ``suspend``, ``resume``, ``restart`` (``rewind`` is not supported)."""
        query = _Query(request)
        instance_id = request.match_info["instance_id"]
        operation = request.match_info["operation"]
        reason = query.get("reason")
        if operation == "terminate":
            await self.client.terminate(instance_id, reason)
        elif operation == "suspend":
            await self.client.suspend(instance_id, reason)
        elif operation == "resume":
            await self.client.resume(instance_id, reason)
        elif operation == "restart":
            return await self._restart(request, query, instance_id)
        else:
            return web.json_response({"Message": "rewind is not supported by devhost"}, status=501)
        return web.Response(status=202)

    async def _restart(self, request: web.Request, query: _Query, instance_id: str) -> web.Response:
        if await self.client.store.get_instance(instance_id) is None:
            return bad_request("InstanceId does not match a valid orchestration instance.")
        new_id = await self.client.restart(instance_id, new_instance_id=query.flag("restartWithNewInstanceId", True))
        if request.path.startswith(RPC_PATH):
            return web.json_response(new_id, status=202)  # the SDK's restart() returns it as a str
        payload = check_status_payload(_origin(request), self.hub_name, new_id, self.code)
        return web.json_response(payload, status=202, headers={"Location": payload["statusQueryGetUri"]})

    # --- entities ---------------------------------------------------------------------------
    async def read_entity(self, request: web.Request) -> web.Response:
        state = await self.client.read_entity(request.match_info["name"], request.match_info["key"])
        if state is None:
            return web.Response(status=404)
        return web.Response(status=200, text=state, content_type="application/json")

    async def signal_entity(self, request: web.Request) -> web.Response:
        query = _Query(request)
        operation = "delete" if request.method == "DELETE" else query.get("op")
        if not operation:
            return bad_request("The 'op' query parameter is required to signal an entity.")
        body = await request.read()
        input_text: str | None = None
        if body.strip():
            if _media_type(request) == "application/json":
                try:
                    parsed = parse_json(body)
                except JsonBodyError as exc:
                    return bad_request(f"Could not parse JSON content: {exc}")
                # The Python SDK sends the input's JSON text as a JSON string literal.
                input_text = parsed if isinstance(parsed, str) else decode_text(body)
            else:  # other media types: the body is the input, as a string (as the extension does)
                try:
                    input_text = json.dumps(body.decode("utf-8"))
                except UnicodeDecodeError:
                    return bad_request("The request body is not UTF-8 text.")
        await self.client.signal_entity(request.match_info["name"], request.match_info["key"], operation, input_text)
        return web.Response(status=202)

    # --- helpers ----------------------------------------------------------------------------
    async def _wait(self, instance_id: str, timeout: float, interval: float) -> OrchestrationInstance | None:
        deadline = time.monotonic() + timeout
        while True:
            instance = await self.client.store.get_instance(instance_id)
            if instance is not None and instance.runtime_status.is_terminal:
                return instance
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))


async def _json_text(request: web.Request) -> str | None:
    """The body's JSON text once checked by the strict reader; ``None`` for an empty body."""
    body = await request.read()
    if not body.strip():
        return None
    parse_json(body)
    return decode_text(body)


def _json_body(body: bytes, status: int, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response from encoded bytes, with the headers ``web.json_response`` sets."""
    return web.Response(body=body, status=status, headers=headers, content_type="application/json", charset="utf-8")


def _media_type(request: web.Request) -> str | None:
    """The ``Content-Type`` media type, lower case, without parameters; ``None`` when absent."""
    header = request.headers.get("Content-Type")
    return header.split(";", 1)[0].strip().lower() if header else None


async def not_found(request: web.Request) -> web.Response:
    """A method the API does not accept on a known path: 404, as ``HttpApiHandler`` answers."""
    return web.Response(status=404)


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _seconds(text: str | None, default: float) -> float:
    try:
        return max(0.0, float(text)) if text else default
    except ValueError:
        return default


def setup_durable_api(
    app: web.Application, client: TaskHubClient, *, hub_name: str, code: str | None = None
) -> DurableApi:
    """Register the API under the webhook and the RPC base paths."""
    api = DurableApi(client, hub_name, code)
    for base in (WEBHOOK_PATH, RPC_PATH):
        routes: list[Any] = [
            web.post(base + "/orchestrators/{name}", api.start),
            web.post(base + "/orchestrators/{name}/{instance_id}", api.start),
            web.get(base + "/instances", api.list_instances),
            web.get(base + "/instances/", api.list_instances),
            web.delete(base + "/instances", api.purge_by),
            web.delete(base + "/instances/", api.purge_by),
            web.get(base + "/instances/{instance_id}", api.get_status),
            web.delete(base + "/instances/{instance_id}", api.purge),
            web.post(base + "/instances/{instance_id}/raiseEvent/{event}", api.raise_event),
            web.post(base + "/instances/{instance_id}/{operation:" + _OPERATIONS + "}", api.operate),
            web.get(base + "/entities/{name}/{key}", api.read_entity),
            web.post(base + "/entities/{name}/{key}", api.signal_entity),
            web.delete(base + "/entities/{name}/{key}", api.signal_entity),
            web.route("*", base + "/{tail:.*}", not_found),
        ]
        app.router.add_routes(routes)
    return api
