"""Orchestrator, v1 model: ``main = df.Orchestrator.create(...)``."""

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    names = context.get_input()
    greetings = []
    for name in names:
        greetings.append((yield context.call_activity("Hello", name)))
    counter = df.EntityId("Counter", "greetings")
    for _ in greetings:
        yield context.call_entity(counter, "add", 1)
    total = yield context.call_entity(counter, "get")
    return {"greetings": greetings, "count": total}


main = df.Orchestrator.create(orchestrator_function)
