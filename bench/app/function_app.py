"""Benchmark app: a chain and a fan-out of no-op activities."""

import azure.durable_functions as df

app = df.DFApp()


@app.activity_trigger(input_name="value")
def noop(value: int) -> int:
    return value


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    steps = context.get_input()
    for i in range(steps):
        yield context.call_activity("noop", i)
    return steps


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    count = context.get_input()
    results = yield context.task_all([context.call_activity("noop", i) for i in range(count)])
    return len(results)
