"""Test app: the real agent activities behind one orchestrator with a Durable retry policy.

Input: ``{"agent": name, "attempts": n, "body": {...}}``; output ``{"ok": true, "result"}`` or
``{"ok": false, "error": <the Durable failure message>}``.
"""

import azure.durable_functions as df

from agents import registry

app = df.DFApp()
app.register_functions(registry.bp)


@app.orchestration_trigger(context_name="context")
def call_agent(context: df.DurableOrchestrationContext):
    """Call one agent with retries, as the workflows do."""
    request = context.get_input()
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=request["attempts"])
    try:
        result = yield context.call_activity_with_retry(request["agent"], retry, request["body"])
    except Exception as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "result": result}
