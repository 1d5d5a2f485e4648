"""Crash-test fixture: four workflow patterns whose activities log every completed execution."""

import os
import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.activity_trigger(input_name="key")
def step(key: str) -> str:
    """Works a little, then appends ``<pid> <key>`` to $CRASH_LOG (one line per completed run)."""
    time.sleep(0.1)
    with open(os.environ["CRASH_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {key}\n")
        log.flush()
        os.fsync(log.fileno())
    return key.upper()


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    results = []
    for i in range(context.get_input() or 4):
        results.append((yield context.call_activity("step", f"{context.instance_id}:chain:{i}")))
    return results


@app.orchestration_trigger(context_name="context")
def fan(context: df.DurableOrchestrationContext):
    count = context.get_input() or 6
    return (yield context.task_all([context.call_activity("step", f"{context.instance_id}:fan:{i}")
                                    for i in range(count)]))


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    child = yield context.call_sub_orchestrator("chain", 2, f"{context.instance_id}-child")
    last = yield context.call_activity("step", f"{context.instance_id}:parent")
    return [*child, last]


@app.orchestration_trigger(context_name="context")
def timed(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=1))
    return [(yield context.call_activity("step", f"{context.instance_id}:timed"))]
