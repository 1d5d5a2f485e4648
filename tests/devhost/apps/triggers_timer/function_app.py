"""A timer trigger beside a durable client (test fixture): each firing starts an orchestration."""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=True)
@app.durable_client_input(client_name="client")
async def tick(timer: func.TimerRequest, client) -> None:
    """Record the firing as an orchestration whose input is the timer's view of it."""
    await client.start_new("record", None, {
        "type": type(timer).__name__,
        "past_due": timer.past_due,
        "last": timer.schedule_status.get("Last"),
        "next": timer.schedule_status.get("Next"),
    })


@app.orchestration_trigger(context_name="context")
def record(context: df.DurableOrchestrationContext):
    """Return the input together with the time the orchestration ran."""
    return {**context.get_input(), "at": context.current_utc_datetime.isoformat()}
