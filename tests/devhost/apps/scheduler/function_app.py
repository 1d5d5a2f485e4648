"""An app configured for the Durable Task Scheduler, as Microsoft's current samples are (test fixture)."""

import json
import os

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client) -> func.HttpResponse:
    """Start any orchestrator by name (the scheduler accepts names this app does not register)."""
    instance_id = await client.start_new(req.route_params["functionName"], None, req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.route(route="environment", methods=["GET"])
def environment(req: func.HttpRequest) -> func.HttpResponse:
    """The variables the host gives the worker, as the app sees them."""
    names = ("WEBSITE_HOSTNAME", "FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsScriptRoot")
    return func.HttpResponse(json.dumps({n: os.environ.get(n) for n in names}), mimetype="application/json")


@app.orchestration_trigger(context_name="context")
def hello_cities(context: df.DurableOrchestrationContext):
    """Function chaining: greet each city in turn."""
    cities = context.get_input() or []
    greetings = []
    for city in cities:
        greetings.append((yield context.call_activity("say_hello", city)))
    return greetings


@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}"
