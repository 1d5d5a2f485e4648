"""The task hub client: what the Durable HTTP and RPC APIs do, without the HTTP.

Every management operation (start, raise event, terminate, suspend, resume, restart, purge,
query, entity signals) is a method here that validates the request against the instance's
state and writes rows or messages through the store.  The engine does the rest when it
processes those messages.  Payloads are JSON *text*, stored as received (§4.9).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

from .clock import Clock
from .engine import history as h
from .engine.entities import entity_instance_id
from .errors import FunctionNotFound, InstanceNotFound, InvalidInstanceState
from .store.base import (
    InstancePage,
    InstanceQuery,
    Message,
    OrchestrationInstance,
    RuntimeStatus,
    TaskHubStore,
)

MAX_INSTANCE_ID = 256
_BAD_ID_CHARS = re.compile(r"[/\\?#\x00-\x1f\x7f-\x9f]")


class TaskHubClient:
    """Management operations on one task hub (the durable client's server side)."""

    def __init__(
        self, store: TaskHubStore, clock: Clock, orchestrators: dict[str, str], *, accept_unregistered: bool = False
    ) -> None:
        self.store = store
        self.clock = clock
        self.orchestrators = orchestrators  # lower-case durable name -> registered name
        # The Durable Task Scheduler (work-item filtering) schedules names no local app registers;
        # the Azure Storage extension refuses them.
        self.accept_unregistered = accept_unregistered

    @property
    def hub_name(self) -> str:
        return self.store.hub_name

    # --- orchestrations -------------------------------------------------------------------
    async def start(
        self, name: str, instance_id: str | None = None, *, input: str | None = None, version: str = ""
    ) -> str:
        """Create a Pending instance and enqueue its ``ExecutionStarted``; returns its id.

        Raises ``FunctionNotFound`` for an unknown orchestrator (unless the backend accepts
        it: the instance then stays Pending here), ``ValueError`` for a bad instance id,
        ``InstanceAlreadyExists`` when that id is still running.
        """
        registered = self.orchestrators.get(name.lower()) or (name if self.accept_unregistered and name else None)
        if registered is None:
            known = ", ".join(f"'{n}'" for n in sorted(self.orchestrators.values()))
            raise FunctionNotFound(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
                f"Additional info: The following are the known orchestrator functions: {known}."
            )
        new_id = not instance_id
        instance_id = validate_instance_id(instance_id) if instance_id else uuid.uuid4().hex
        now = self.clock.now()
        execution_id = h.new_execution_id()
        instance = OrchestrationInstance(
            instance_id=instance_id, name=registered, execution_id=execution_id,
            runtime_status=RuntimeStatus.PENDING, created_time=now, last_updated_time=now,
            input=input, version=version or "",
        )
        started = h.execution_started(
            now, instance_id=instance_id, execution_id=execution_id, name=registered, input=input, version=version
        )
        await self.store.create_instance(
            instance, Message(_message_id(), instance_id, started, execution_id), new_id=new_id)
        return instance_id

    async def get(self, instance_id: str) -> OrchestrationInstance:
        """The instance row; raises ``InstanceNotFound``."""
        instance = await self.store.get_instance(instance_id)
        if instance is None:
            raise InstanceNotFound(f"No instance with ID '{instance_id}' was found.")
        return instance

    async def history(self, instance_id: str) -> list[h.HistoryEvent]:
        return await self.store.get_history(instance_id)

    async def query(self, query: InstanceQuery) -> InstancePage:
        return await self.store.query_instances(query)

    async def raise_event(self, instance_id: str, event_name: str, data: str | None) -> None:
        """Deliver an external event; ``data`` is the JSON text the orchestrator decodes."""
        await self._running(instance_id, "raise an event for")
        event = h.event_raised(self.clock.now(), event_name, data)
        await self.store.send_messages([Message(_message_id(), instance_id, event)])

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        await self._running(instance_id, "terminate")
        event = h.execution_terminated(self.clock.now(), reason)
        await self.store.send_messages([Message(_message_id(), instance_id, event)])

    async def suspend(self, instance_id: str, reason: str | None) -> None:
        """Hold the instance: events queue up and no orchestrator code runs until resumed."""
        await self._running(instance_id, "suspend")
        event = h.execution_suspended(self.clock.now(), reason)
        await self.store.send_messages([Message(_message_id(), instance_id, event)])

    async def resume(self, instance_id: str, reason: str | None) -> None:
        """Let a suspended instance continue with the events it held (no-op when running)."""
        await self._running(instance_id, "resume")
        event = h.execution_resumed(self.clock.now(), reason)
        await self.store.send_messages([Message(_message_id(), instance_id, event)])

    async def restart(self, instance_id: str, *, new_instance_id: bool = True) -> str:
        """Start the instance's orchestrator again with the same input; returns the new id."""
        instance = await self.get(instance_id)
        target = None if new_instance_id else instance_id
        return await self.start(instance.name, target, input=instance.input, version=instance.version)

    async def purge(self, instance_id: str) -> int:
        """Delete one instance and its history; the number deleted (0 or 1)."""
        return 1 if await self.store.purge_instance(instance_id) else 0

    async def purge_by(self, query: InstanceQuery) -> int:
        """Delete every terminal instance matching ``query``; the number deleted."""
        count = 0
        token: str | None = None
        doomed: list[str] = []
        while True:
            page = await self.store.query_instances(
                InstanceQuery(query.runtime_status, query.created_from, query.created_to,
                              query.instance_id_prefix, top=1000, continuation_token=token)
            )
            doomed.extend(i.instance_id for i in page.instances if not i.instance_id.startswith("@"))
            token = page.continuation_token
            if token is None:
                break
        for instance_id in doomed:
            count += await self.purge(instance_id)
        return count

    # --- entities -------------------------------------------------------------------------
    async def signal_entity(self, name: str, key: str, operation: str, input: str | None) -> None:
        """Send a one-way operation to an entity; ``input`` is the operation's JSON text."""
        target = entity_instance_id(name, "" if key == "$" else key)
        request = {"op": operation, "signal": True, "input": input, "id": str(uuid.uuid4())}
        event = h.event_raised(self.clock.now(), "op", json.dumps(request))
        await self.store.send_messages([Message(_message_id(), target, event)])

    async def read_entity(self, name: str, key: str) -> str | None:
        """The entity's state as JSON text, or ``None`` when it does not exist."""
        instance = await self.store.get_instance(entity_instance_id(name, "" if key == "$" else key))
        return instance.input if instance is not None else None

    # --- helpers ----------------------------------------------------------------------------
    async def _running(self, instance_id: str, verb: str) -> OrchestrationInstance:
        instance = await self.get(instance_id)
        if instance.runtime_status.is_terminal:
            raise InvalidInstanceState(
                f"Cannot {verb} instance '{instance_id}': it is {instance.runtime_status.value}."
            )
        return instance


def validate_instance_id(instance_id: str) -> str:
    """The rules the Durable extension applies to client-chosen instance ids."""
    if not instance_id or len(instance_id) > MAX_INSTANCE_ID:
        raise ValueError(f"Instance ID must be 1 to {MAX_INSTANCE_ID} characters long.")
    if instance_id.startswith("@"):
        raise ValueError(f"Instance ID '{instance_id}' must not start with '@'.")
    if _BAD_ID_CHARS.search(instance_id):
        raise ValueError(f"Instance ID '{instance_id}' contains a character that is not allowed (/ \\ ? # or control).")
    return instance_id


def parse_time(text: str | None) -> datetime | None:
    """Query-string timestamps as the SDK and users send them (ISO-8601, ``Z`` allowed)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not an ISO-8601 date and time.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _message_id() -> str:
    return uuid.uuid4().hex
