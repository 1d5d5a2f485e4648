"""An activity that blocks its thread on a socket forever (test fixture for a prompt stop).

It writes ``BLOCKING_MARKER`` (a file path from the environment) once it is blocked, so a
test can wait for that condition instead of sleeping.
"""

import os
import pathlib
import socket

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["functionName"], None, None)
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def wait_for_socket(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("read_forever", None))


@app.activity_trigger(input_name="unused")
def read_forever(unused) -> str:
    left, _right = socket.socketpair()  # nothing is ever written to the other end
    pathlib.Path(os.environ["BLOCKING_MARKER"]).write_text("blocked")
    return left.recv(1).decode()
