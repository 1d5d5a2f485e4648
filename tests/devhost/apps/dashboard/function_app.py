"""A small Durable Functions app for the dashboard's browser tests (test fixture).

``fan_out`` fans out ``work`` items; the ones listed as ``slow`` fail on their first attempts
and are retried after durable timers, so the timeline shows stragglers.  ``broken`` fails,
``approval`` waits for an ``Approve`` event, ``Counter`` is a durable entity.
"""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
ATTEMPTS: dict[str, int] = {}
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=30_000, max_number_of_attempts=4)
GRAPH = (
    "graph LR\n  start([start]) --> work[fan out: {count} items]\n  work --> total[[sum]]\n  total --> done([{state}])"
)


@app.activity_trigger(input_name="item")
def work(item: dict) -> int:
    """Doubles ``item['n']``; fails ``item['fails']`` times first."""
    key = f"{item['run']}:{item['n']}"
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= item["fails"]:
        raise RuntimeError(f"item {item['n']} not ready (attempt {ATTEMPTS[key]})")
    return item["n"] * 2


@app.activity_trigger(input_name="reason")
def explode(reason: str) -> str:
    raise ValueError(reason)


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    """Fan out, fan in, then a sub-orchestration; the custom status carries a mermaid graph."""
    job = context.get_input() or {}
    count, slow = job.get("count", 6), job.get("slow", {})
    context.set_custom_status({"stage": "fan-out", "graph": GRAPH.format(count=count, state="running")})
    run = job.get("run") or context.instance_id  # whose attempts ``work`` counts
    tasks = [
        context.call_activity_with_retry("work", RETRY, {"run": run, "n": n, "fails": slow.get(str(n), 0)})
        for n in range(count)
    ]
    values = yield context.task_all(tasks)
    checked = yield context.call_sub_orchestrator("check", values, instance_id=f"{context.instance_id}-check")
    context.set_custom_status({"stage": "done", "graph": GRAPH.format(count=count, state="done")})
    return {"total": sum(values), "checked": checked}


@app.orchestration_trigger(context_name="context")
def check(context: df.DurableOrchestrationContext):
    values = context.get_input() or []
    return len(values)


@app.orchestration_trigger(context_name="context")
def broken(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": "about to fail"})
    yield context.call_activity("explode", "the disk is full")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": "waiting for Approve", "graph": "graph LR\n  ask[asked] --> wait{{waiting}}"})
    approved = yield context.wait_for_external_event("Approve")
    context.set_custom_status({"stage": "approved", "graph": "graph LR\n  ask[asked] --> ok[approved]"})
    return {"approved": approved}


@app.entity_trigger(context_name="context", entity_name="Counter")
def counter(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
    context.set_state(value)
