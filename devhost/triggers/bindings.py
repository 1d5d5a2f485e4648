"""Invoke a trigger function: build its arguments, call it as the worker does, write its outputs.

Arguments are converted by the ``azure-functions`` library's own converters (the ones the
Python worker uses), from the datum and trigger metadata the host would send, so the function
gets the same ``QueueMessage`` / ``InputStream`` / ``EventGridEvent`` / ``TimerRequest``
objects as in Azure.  As in the worker, a parameter annotated ``str`` or ``bytes`` gets the raw
value (the generic binding).  Outputs are ``func.Out`` parameters or ``$return``.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from azure.core.exceptions import ResourceNotFoundError
from azure.functions import meta

from .. import worker
from ..clock import Clock
from ..loader import TriggerFunction
from ..server.http_triggers import InvocationContext
from .expressions import resolve
from .storage import StorageAccounts

log = logging.getLogger("devhost.triggers")

ClientBinding = Callable[[str | None], str]
"""The durable client binding JSON for a task hub name (``None``: the host's hub)."""


@dataclass
class Invocation:
    """One firing of a trigger: what the host sends the worker, and data for binding expressions."""

    function: TriggerFunction
    value: meta.Datum
    metadata: dict[str, meta.Datum] = field(default_factory=dict)
    binding_data: dict[str, Any] = field(default_factory=dict)
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class Out(func.Out):
    """An output parameter (``func.Out[T]``)."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


@dataclass
class BindingContext:
    """What invocations of one host share."""

    storage: StorageAccounts
    clock: Clock
    client_binding: ClientBinding
    app_dir: str
    queue_encoding: str = "base64"


def metadata_datum(value: Any) -> meta.Datum:
    """A trigger metadata value as the host sends it (strings, ints, JSON)."""
    if isinstance(value, str):
        return meta.Datum(value, "string")
    if isinstance(value, bool) or not isinstance(value, int):
        return meta.Datum(json.dumps(value, default=str), "json")
    return meta.Datum(value, "int")


async def invoke(ctx: BindingContext, invocation: Invocation) -> Any:
    """Run the function once; raises what it raised (after logging it)."""
    function = invocation.function
    kwargs: dict[str, Any] = {}
    outputs: dict[str, Out] = {}
    started = time.perf_counter()
    try:
        kwargs[function.trigger["name"]] = _decode(function, function.trigger, invocation.value, invocation.metadata)
        for binding in function.bindings:
            name = binding["name"]
            if binding["type"] == "durableClient":
                kwargs[name] = ctx.client_binding(binding.get("taskHub"))
            elif binding["direction"] == "in" and binding["type"] == "blob":
                kwargs[name] = await _read_blob(ctx, function, binding, invocation)
            elif binding["direction"] == "out" and name != "$return":
                kwargs[name] = outputs[name] = Out()
        if function.wants_context:
            kwargs["context"] = InvocationContext(invocation.invocation_id, function.name, ctx.app_dir)
        result = await worker.call(function.fn, **kwargs)
        for binding in function.bindings:
            if binding["direction"] == "out" and binding["type"] in ("queue", "blob"):
                value = result if binding["name"] == "$return" else outputs[binding["name"]].get()
                if value is not None:
                    await _write_output(ctx, binding, invocation, value)
    except Exception:
        log.exception("Executed 'Functions.%s' (Failed, Id=%s)", function.name, invocation.invocation_id)
        raise
    log.info(
        "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)",
        function.name, invocation.invocation_id, (time.perf_counter() - started) * 1000,
    )
    return result


def _decode(function: TriggerFunction, binding: dict[str, Any], datum: meta.Datum | None,
            metadata: dict[str, meta.Datum] | None) -> Any:
    annotation = function.annotations.get(binding["name"])
    if datum is None or datum.value is None:
        return None
    if annotation is str:
        return datum.value.decode("utf-8") if isinstance(datum.value, bytes) else str(datum.value)
    if annotation is bytes:
        return datum.value if isinstance(datum.value, bytes) else str(datum.value).encode("utf-8")
    converter = meta.get_binding_registry().get(binding["type"])
    if converter is None:
        return datum.value
    return converter.decode(datum, trigger_metadata=metadata)


async def _read_blob(ctx: BindingContext, function: TriggerFunction, binding: dict[str, Any],
                     invocation: Invocation) -> Any:
    container, blob_name = _blob_path(ctx, binding, invocation)
    client = ctx.storage.container(binding.get("connection"), container).get_blob_client(blob_name)
    try:
        data = await (await client.download_blob()).readall()
    except ResourceNotFoundError:
        return None
    return _decode(function, binding, meta.Datum(data, "bytes"), None)


def _blob_path(ctx: BindingContext, binding: dict[str, Any], invocation: Invocation) -> tuple[str, str]:
    path = resolve(str(binding["path"]), invocation.binding_data, ctx.clock.now).strip("/")
    container, _, blob_name = path.partition("/")
    if not container or not blob_name:
        raise ValueError(f"blob binding '{binding['name']}': path '{path}' must be 'container/blob'")
    return container, blob_name


async def _write_output(ctx: BindingContext, binding: dict[str, Any], invocation: Invocation, value: Any) -> None:
    try:
        await _write(ctx, binding, invocation, value)
    except ResourceNotFoundError:  # the queue or container was deleted since this host created it
        kind, name = ("container", "path") if binding["type"] == "blob" else ("queue", "queueName")
        target = resolve(str(binding[name]), invocation.binding_data, ctx.clock.now).strip("/").partition("/")[0]
        ctx.storage.forget(binding.get("connection"), kind, target.lower() if kind == "queue" else target)
        await _write(ctx, binding, invocation, value)


async def _write(ctx: BindingContext, binding: dict[str, Any], invocation: Invocation, value: Any) -> None:
    converter = meta.get_binding_registry().get(binding["type"])
    datum = converter.encode(value, expected_type=None)
    connection = binding.get("connection")
    if binding["type"] == "blob":
        container, blob_name = _blob_path(ctx, binding, invocation)
        client = await ctx.storage.ensure_container(connection, container)
        await client.upload_blob(blob_name, datum.value, overwrite=True)
        return
    queue_name = resolve(str(binding["queueName"]), invocation.binding_data, ctx.clock.now).lower()
    queue = await ctx.storage.ensure_queue(connection, queue_name)
    for message in _queue_messages(datum):
        await queue.send_message(encode_message(message, ctx.queue_encoding))


def _queue_messages(datum: meta.Datum) -> list[bytes | str]:
    if datum.type in ("string", "bytes"):
        return [datum.value]
    parsed = json.loads(datum.value)
    items = parsed if isinstance(parsed, list) else [parsed]
    return [item["body"] if isinstance(item, dict) else item for item in items]


def encode_message(message: bytes | str, encoding: str) -> str:
    """A queue message's text as the host writes it (``messageEncoding``: base64 or none)."""
    raw = message.encode("utf-8") if isinstance(message, str) else message
    return base64.b64encode(raw).decode("ascii") if encoding == "base64" else raw.decode("utf-8")
