"""A Durable Functions app exercising every pattern devhost must run (test fixture)."""

import json
import logging
import threading
import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
CALLS: dict[str, int] = {}
ACTIVE: dict[str, list[int]] = {}  # key -> [running now, most ever running at once]
ACTIVE_LOCK = threading.Lock()


def _count(name: str) -> int:
    CALLS[name] = CALLS.get(name, 0) + 1
    return CALLS[name]


@app.route(route="orchestrators/{functionName}/{instanceId?}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client) -> func.HttpResponse:
    """Start any orchestrator with the JSON body as input."""
    body = req.get_body()
    payload = json.loads(body) if body else None
    instance_id = await client.start_new(
        req.route_params["functionName"], req.route_params.get("instanceId"), payload
    )
    return client.create_check_status_response(req, instance_id)


@app.route(route="client/{op}/{instanceId?}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def client_ops(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Call one DurableOrchestrationClient method with the JSON body's arguments; return its result."""
    op, iid = req.route_params["op"], req.route_params.get("instanceId")
    args = req.get_json() if req.get_body() else {}
    if op == "wait":
        return await client.wait_for_completion_or_create_check_status_response(
            req, iid, timeout_in_milliseconds=args.get("timeout_ms", 2000), retry_interval_in_milliseconds=50
        )
    result = await _client_call(client, op, iid, args)
    return func.HttpResponse(json.dumps(result, default=str), mimetype="application/json")


async def _client_call(client: df.DurableOrchestrationClient, op: str, iid: str | None, args: dict):
    if op == "start":
        return await client.start_new(args["name"], iid, args.get("input"))
    if op == "status":
        status = await client.get_status(iid, show_history=True, show_history_output=True, show_input=True)
        # The host answers with "historyEvents"; the SDK keeps unknown keys as attributes.
        return {**status.to_json(), "history": getattr(status, "historyEvents", None)} if status else None
    if op == "status_all":
        return sorted(s.instance_id for s in await client.get_status_all())
    if op == "status_by":
        statuses = [df.OrchestrationRuntimeStatus(s) for s in args["statuses"]]
        found = await client.get_status_by(runtime_status=statuses)
        return sorted(s.instance_id for s in found)
    if op == "raise":
        return await client.raise_event(iid, args["event"], args.get("data"))
    if op in ("terminate", "suspend", "resume"):
        return await getattr(client, op)(iid, args.get("reason", op))
    if op == "restart":
        return await client.restart(iid, args.get("new_id", True))
    if op == "purge":
        return (await client.purge_instance_history(iid)).instances_deleted
    if op == "purge_by":
        from datetime import datetime

        result = await client.purge_instance_history_by(
            created_time_from=datetime(2000, 1, 1), runtime_status=[df.OrchestrationRuntimeStatus.Completed]
        )
        return result.instances_deleted
    if op == "signal":
        return await client.signal_entity(df.EntityId("Counter", iid), args["operation"], args.get("input"))
    if op == "read_entity":
        state = await client.read_entity_state(df.EntityId("Counter", iid))
        return {"exists": state.entity_exists, "state": state.entity_state}
    raise ValueError(f"unknown op {op}")


@app.route(route="echo/{word:alpha}", methods=["GET"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    """A plain synchronous HTTP function."""
    return func.HttpResponse(
        json.dumps({"word": req.route_params["word"], "q": req.params.get("q"), "h": req.headers.get("x-test")}),
        mimetype="application/json",
    )


@app.route(route="async-echo", methods=["POST"])
async def async_echo(req: func.HttpRequest) -> str:
    """An async HTTP function returning a string."""
    return req.get_body().decode()


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    _count(f"hello:{name}")
    return f"Hello {name}!"


@app.activity_trigger(input_name="payload")
async def double(payload: int) -> int:
    return payload * 2


@app.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    """Fails the first two times per key (retry test)."""
    n = _count(f"flaky:{key}")
    if n <= 2:
        raise RuntimeError(f"flaky failure {n}")
    return f"ok after {n}"


@app.activity_trigger(input_name="key")
def always_fails(key: str) -> str:
    _count(f"always_fails:{key}")
    raise ValueError(f"nope {key}")


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    n = (context.get_input() or {}).get("steps", 3)
    results = []
    for i in range(n):
        context.set_custom_status({"completed": i, "total": n})
        results.append((yield context.call_activity("hello", str(i))))
    return results


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    n = (context.get_input() or {}).get("count", 10)
    values = yield context.task_all([context.call_activity("double", i) for i in range(n)])
    return sum(values)


@app.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext):
    key = context.get_input() or "k"
    options = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=3)
    return (yield context.call_activity_with_retry("flaky", options, key))


@app.orchestration_trigger(context_name="context")
def retry_exhausted(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=2)
    try:
        yield context.call_activity_with_retry("always_fails", options, context.get_input() or "x")
    except Exception as exc:  # the orchestrator sees the last failure
        return f"caught: {exc}"
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def catches_failure(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("always_fails", "once")
    except Exception as exc:
        return {"caught": str(exc)}
    return None


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": 1})
    yield context.call_activity("hello", "x")
    raise ValueError("boom")


@app.orchestration_trigger(context_name="context")
def sleeper(context: df.DurableOrchestrationContext):
    hours = (context.get_input() or {}).get("hours", 1)
    start = context.current_utc_datetime
    yield context.create_timer(start + timedelta(hours=hours))
    return (context.current_utc_datetime - start).total_seconds()


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    deadline = context.current_utc_datetime + timedelta(hours=24)
    timer = context.create_timer(deadline)
    event = context.wait_for_external_event("Approve")
    context.set_custom_status("waiting")
    winner = yield context.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return {"approved": event.result}
    return "timeout"


@app.orchestration_trigger(context_name="context")
def monitor(context: df.DurableOrchestrationContext):
    state = context.get_input() or {"round": 0, "max": 3}
    state = dict(state)
    state["round"] += 1
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    if state["round"] < state["max"]:
        context.continue_as_new(state)
        return None
    return state


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    a = yield context.call_sub_orchestrator("chain", {"steps": 2})
    b = yield context.call_sub_orchestrator("fan_out", {"count": 4}, instance_id=f"{context.instance_id}-child")
    return {"chain": a, "fan_out": b}


@app.orchestration_trigger(context_name="context")
def parent_of_failure(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator("failing")
    except Exception as exc:
        return {"child_failed": str(exc)}
    return None


@app.orchestration_trigger(context_name="context")
def guids(context: df.DurableOrchestrationContext):
    first = context.new_uuid()
    yield context.call_activity("hello", "g")
    return [first, context.new_uuid(), context.current_utc_datetime.isoformat()]


@app.orchestration_trigger(context_name="context")
def nondeterministic(context: df.DurableOrchestrationContext):
    # Changes the activity it calls once the first call's result is in history.
    key = f"nd-{context.instance_id}"
    name = "double" if CALLS.get(f"hello:{key}") else "hello"
    yield context.call_activity(name, key if name == "hello" else 1)
    yield context.call_activity("hello", "after")
    return "done"


@app.orchestration_trigger(context_name="context")
def calls_missing(context: df.DurableOrchestrationContext):
    yield context.call_activity("no_such_activity", 1)
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def waits_forever(context: df.DurableOrchestrationContext):
    value = yield context.wait_for_external_event("Go")
    logging.getLogger(__name__).info("got %s", value)
    return value


@app.entity_trigger(context_name="context", entity_name="Counter")
def counter(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        value += context.get_input()
    elif operation == "reset":
        value = 0
    elif operation == "fail":
        raise ValueError("counter refused")
    context.set_state(value)
    context.set_result(value)


@app.orchestration_trigger(context_name="context")
def entity_user(context: df.DurableOrchestrationContext):
    entity = df.EntityId("Counter", context.get_input() or "c1")
    context.signal_entity(entity, "add", 5)
    total = yield context.call_entity(entity, "add", 2)
    try:
        yield context.call_entity(entity, "fail")
    except Exception as exc:
        return {"total": total, "error": str(exc)}
    return {"total": total}


@app.entity_trigger(context_name="context", entity_name="Journal")
def journal(context: df.DurableEntityContext):
    """Appends each ``append`` input to its state; ``read`` returns the whole list."""
    entries = context.get_state(list)
    if context.operation_name == "append":
        entries.append(context.get_input())
    context.set_state(entries)
    context.set_result(entries)


@app.orchestration_trigger(context_name="context")
def journal_user(context: df.DurableOrchestrationContext):
    """Many signals, then a call, to one entity from one episode (after a first call, so
    the entity exists and its host has it at hand)."""
    job = context.get_input()
    entity = df.EntityId("Journal", job["key"])
    yield context.call_entity(entity, "read")
    for i in range(job["signals"]):
        context.signal_entity(entity, "append", i)
    return (yield context.call_entity(entity, "read"))


@app.activity_trigger(input_name="job")
def slow(job: dict) -> int:
    """Sleeps (wall time) and reports the most activities of ``job['key']`` seen running at once."""
    with ACTIVE_LOCK:
        counts = ACTIVE.setdefault(job["key"], [0, 0])
        counts[0] += 1
        counts[1] = max(counts[1], counts[0])
    time.sleep(job["ms"] / 1000)
    with ACTIVE_LOCK:
        counts[0] -= 1
        return counts[1]


@app.orchestration_trigger(context_name="context")
def slow_fan_out(context: df.DurableOrchestrationContext):
    job = context.get_input()
    seen = yield context.task_all([context.call_activity("slow", job) for _ in range(job["count"])])
    return max(seen)


@app.orchestration_trigger(context_name="context")
def any_loop_with_retries(context: df.DurableOrchestrationContext):
    """Waits for retrying tasks one at a time, then calls on: the extension's shim starts the
    next call when the *first* task finishes, while the retries consume ids later."""
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
    pending = [context.call_activity_with_retry("flaky", options, context.instance_id),
               context.call_activity("hello", "x")]
    while pending:
        done = yield context.task_any(pending)
        pending.remove(done)
    return (yield context.call_activity("hello", "after"))
