"""Queue, blob and Event Grid triggers with storage bindings and durable clients (test fixture).

Queue and container names come from app settings (``%NAME%``) so every test uses its own.
"""

import hashlib
import json

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _describe_message(msg: func.QueueMessage) -> dict:
    return {
        "type": type(msg).__name__,
        "id": msg.id,
        "body": msg.get_body().decode(),
        "dequeue_count": msg.dequeue_count,
        "insertion_time": msg.insertion_time.isoformat() if msg.insertion_time else None,
        "expiration_time": msg.expiration_time.isoformat() if msg.expiration_time else None,
        "has_pop_receipt": bool(msg.pop_receipt),
    }


@app.queue_trigger(arg_name="msg", queue_name="%IN_QUEUE%", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="out", queue_name="%OUT_QUEUE%", connection="AzureWebJobsStorage")
@app.blob_output(arg_name="copy", path="%OUT_CONTAINER%/queue/{queueTrigger}-{rand-guid}.txt",
                 connection="AzureWebJobsStorage")
@app.durable_client_input(client_name="client")
async def on_message(msg: func.QueueMessage, out: func.Out[str], copy: func.Out[str], client) -> None:
    """Echo the message's metadata; 'fail…' raises; 'start:<id>' starts an orchestration."""
    body = msg.get_body().decode()
    if body.startswith("fail"):
        raise RuntimeError(f"refusing {body}")
    described = _describe_message(msg)
    if body.startswith("start:"):
        described["instance_id"] = await client.start_new("hello", body.split(":", 1)[1], {"from": "queue"})
    else:
        copy.set(body.upper())
    out.set(json.dumps(described))


@app.queue_trigger(arg_name="msg", queue_name="%JSON_QUEUE%", connection="AzureWebJobsStorage")
@app.blob_input(arg_name="doc", path="%IN_CONTAINER%/{file}", connection="AzureWebJobsStorage", data_type="string")
@app.queue_output(arg_name="$return", queue_name="%OUT_QUEUE%", connection="AzureWebJobsStorage")
def lookup(msg: str, doc: str) -> list[str]:
    """A JSON message's property picks the input blob; returns two messages."""
    return [json.dumps({"msg_type": type(msg).__name__, "doc": doc}), "second"]


@app.blob_trigger(arg_name="blob", path="%IN_CONTAINER%/docs/{name}.txt", connection="AzureWebJobsStorage",
                  source="EventGrid")
@app.blob_output(arg_name="$return", path="%OUT_CONTAINER%/{name}/{rand-guid}.json",
                 connection="AzureWebJobsStorage")
@app.durable_client_input(client_name="client")
async def on_blob(blob: func.InputStream, client) -> str:
    """Describe the blob and start 'hello' once per version; a blob whose text starts with 'fail' raises."""
    text = blob.read().decode()
    if text.startswith("fail"):
        raise RuntimeError("refusing the blob")
    version = hashlib.sha256(f"{blob.name}@{blob.blob_properties['ETag']}".encode()).hexdigest()[:32]
    instance_id = await client.start_new("hello", f"blob-{version}", {"blob": blob.name})
    return json.dumps({
        "type": type(blob).__name__, "name": blob.name, "uri": blob.uri, "length": blob.length, "text": text,
        "instance_id": instance_id,
    })


@app.event_grid_trigger(arg_name="event")
@app.durable_client_input(client_name="client")
async def on_event(event: func.EventGridEvent, client) -> None:
    """Start 'hello' with the event's id as instance id; an event of type 'fail' raises."""
    if event.event_type == "fail":
        raise RuntimeError("refusing the event")
    await client.start_new("hello", event.id, {"type": type(event).__name__, "subject": event.subject,
                                               "event_type": event.event_type, "data": event.get_json()})


@app.event_grid_trigger(arg_name="event")
@app.durable_client_input(client_name="client")
async def on_cloud_event(event: func.CloudEvent, client) -> None:
    """The CloudEvents v1.0 schema."""
    await client.start_new("hello", event.id, {"type": type(event).__name__, "source": event.source,
                                               "event_type": event.type, "data": event.get_json()})


@app.service_bus_queue_trigger(arg_name="msg", queue_name="orders", connection="ServiceBus")
def on_service_bus(msg: func.ServiceBusMessage) -> None:
    """A trigger devhost does not serve: listed as such at start."""


@app.orchestration_trigger(context_name="context")
def hello(context: df.DurableOrchestrationContext):
    """Echo the input through one activity."""
    result = yield context.call_activity("echo", context.get_input())
    return result


@app.activity_trigger(input_name="payload")
def echo(payload):
    return payload
