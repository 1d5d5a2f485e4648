"""A mis-bound app (test fixture): the durable client binding sits on the wrong function.

The status route takes a ``client`` parameter that no binding provides, and the activity
below it carries the ``durable_client_input`` meant for the route.
"""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="status/{instanceId}", methods=["GET"])
async def get_status(req: func.HttpRequest, client) -> func.HttpResponse:
    status = await client.get_status(req.route_params["instanceId"])
    return func.HttpResponse(str(status.runtime_status))


@app.durable_client_input(client_name="client")
@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}"
