"""The SDK's DurableOrchestrationClient against devhost's RPC API, and the public webhook API.

The fixture app's ``client_ops`` HTTP function calls one client method per request, so every
call below goes user code -> SDK -> HTTP -> devhost, as it does under ``func start``.
"""

from __future__ import annotations

from typing import Any

import pytest

from devhost.store.base import RuntimeStatus
from tests.devhost.e2e import WEBHOOK, post, start, status

RUNNING = frozenset({RuntimeStatus.RUNNING})


async def call(http, op: str, instance_id: str | None = None, **args: Any) -> Any:
    path = f"/api/client/{op}" + (f"/{instance_id}" if instance_id else "")
    async with http.post(path, json=args) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_start_new_with_id_and_input_then_status_with_history(devhost, devhost_http):
    assert await call(devhost_http, "start", "sdk-1", name="chain", input={"steps": 2}) == "sdk-1"
    await devhost.wait_for_instance("sdk-1")
    result = await call(devhost_http, "status", "sdk-1")
    assert result["runtimeStatus"] == "Completed"
    assert result["output"] == ["Hello 0!", "Hello 1!"]
    assert result["input"] == '{"steps": 2}'  # the Python client double-encodes, as on the real host
    kinds = [e["EventType"] for e in result["history"]]
    assert kinds == ["ExecutionStarted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"]


async def test_status_of_an_unknown_instance_is_falsy(devhost_http):
    assert await call(devhost_http, "status", "nobody") is None


async def test_status_all_and_status_by_runtime_status(devhost, devhost_http):
    await call(devhost_http, "start", "done-1", name="chain", input={"steps": 1})
    await devhost.wait_for_instance("done-1")
    await call(devhost_http, "start", "wait-1", name="waits_forever")
    await devhost.wait_for_instance("wait-1", until=RUNNING)
    assert await call(devhost_http, "status_all") == ["done-1", "wait-1"]
    assert await call(devhost_http, "status_by", statuses=["Running"]) == ["wait-1"]
    assert await call(devhost_http, "status_by", statuses=["Completed", "Failed"]) == ["done-1"]


async def test_raise_event_data_reaches_the_orchestrator_as_text_like_the_real_host(devhost, devhost_http):
    await call(devhost_http, "start", "ev-1", name="waits_forever")
    await devhost.wait_for_instance("ev-1", until=RUNNING)
    await call(devhost_http, "raise", "ev-1", event="Go", data={"ok": True})
    result = await devhost.wait_for_instance("ev-1")
    assert result["output"] == '{"ok": true}'  # azure-functions-durable-python issue #295


async def test_terminate_suspend_and_resume_through_the_sdk(devhost, devhost_http):
    await call(devhost_http, "start", "t-1", name="waits_forever")
    await devhost.wait_for_instance("t-1", until=RUNNING)
    await call(devhost_http, "suspend", "t-1", reason="hold")
    await devhost.wait_for_instance("t-1", until=frozenset({RuntimeStatus.SUSPENDED}))
    await call(devhost_http, "resume", "t-1", reason="go on")
    await devhost.wait_for_instance("t-1", until=RUNNING)
    await call(devhost_http, "terminate", "t-1", reason="enough")
    result = await devhost.wait_for_instance("t-1")
    assert (result["runtimeStatus"], result["output"]) == ("Terminated", "enough")


async def test_restart_with_a_new_id_and_with_the_same_id(devhost, devhost_http):
    await call(devhost_http, "start", "r-1", name="chain", input={"steps": 1})
    await devhost.wait_for_instance("r-1")
    new_id = await call(devhost_http, "restart", "r-1", new_id=True)
    assert isinstance(new_id, str) and new_id != "r-1"
    assert (await devhost.wait_for_instance(new_id))["output"] == ["Hello 0!"]
    assert await call(devhost_http, "restart", "r-1", new_id=False) == "r-1"
    assert (await devhost.wait_for_instance("r-1"))["runtimeStatus"] == "Completed"


async def test_purge_one_and_purge_by_filter(devhost, devhost_http):
    for iid in ("p-1", "p-2", "p-3"):
        await call(devhost_http, "start", iid, name="chain", input={"steps": 1})
        await devhost.wait_for_instance(iid)
    assert await call(devhost_http, "purge", "p-1") == 1
    assert await call(devhost_http, "purge", "p-1") == 0
    assert await call(devhost_http, "status", "p-1") is None
    assert await call(devhost_http, "purge_by") == 2
    assert await call(devhost_http, "status_all") == []


async def test_wait_for_completion_returns_the_output_or_the_check_status_payload(devhost, devhost_http):
    await call(devhost_http, "start", "w-1", name="chain", input={"steps": 1})
    async with devhost_http.post("/api/client/wait/w-1", json={"timeout_ms": 5000}) as response:
        assert response.status == 200 and await response.json() == ["Hello 0!"]
    await call(devhost_http, "start", "w-2", name="waits_forever")
    async with devhost_http.post("/api/client/wait/w-2", json={"timeout_ms": 200}) as response:
        assert response.status == 202
        assert (await response.json())["id"] == "w-2"


async def test_entity_signal_and_read_state_through_the_sdk(devhost, devhost_http):
    assert await call(devhost_http, "read_entity", "k9") == {"exists": False, "state": None}
    await call(devhost_http, "signal", "k9", operation="add", input=4)
    await call(devhost_http, "signal", "k9", operation="add", input=3)
    for _ in range(200):
        state = await call(devhost_http, "read_entity", "k9")
        if state["state"] == 7:
            break
        await devhost.clock.sleep(0.01)
    assert state == {"exists": True, "state": 7}


# --- the public webhook API ---------------------------------------------------------------
async def test_webhook_start_by_name_with_raw_json_input(devhost, devhost_http):
    async with devhost_http.post(f"{WEBHOOK}/orchestrators/chain/hook-1", json={"steps": 1}) as response:
        assert response.status == 202
        body = await response.json()
    assert body["id"] == "hook-1" and response.headers["Location"] == body["statusQueryGetUri"]
    assert set(body) >= {"sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "suspendPostUri"}
    assert (await devhost.wait_for_instance("hook-1"))["output"] == ["Hello 0!"]


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/orchestrators/no_such_orchestrator", b"{}", "doesn't exist"),
        ("/orchestrators/chain", b"{not json", "Invalid JSON"),
        ("/orchestrators/chain/@bad", b"{}", "must not start with '@'"),
    ],
)
async def test_webhook_start_rejects_bad_requests_with_400(devhost_http, path, body, expected):
    headers = {"Content-Type": "application/json"}
    async with devhost_http.post(WEBHOOK + path, data=body, headers=headers) as response:
        assert response.status == 400
        assert expected in (await response.json())["ExceptionMessage"]


async def test_starting_a_running_instance_id_again_is_a_conflict(devhost, devhost_http):
    await start(devhost_http, "waits_forever", instance_id="dup-1")
    await devhost.wait_for_instance("dup-1", until=RUNNING)
    async with devhost_http.post(f"{WEBHOOK}/orchestrators/waits_forever/dup-1") as response:
        assert response.status == 409
        assert "already exists" in (await response.json())["Message"]


async def test_status_codes_for_running_done_unknown_and_gone(devhost, devhost_http):
    await start(devhost_http, "waits_forever", instance_id="codes-1")
    await devhost.wait_for_instance("codes-1", until=RUNNING)
    async with devhost_http.get(f"{WEBHOOK}/instances/codes-1") as response:
        assert response.status == 202 and response.headers["Retry-After"] == "5"
    headers = {"Content-Type": "text/plain"}  # checked after 404/410, as the extension orders it
    assert await post(devhost_http, "/instances/codes-1/raiseEvent/Go", data=b"x", headers=headers) == 400
    assert await post(devhost_http, "/instances/codes-1/raiseEvent/Go", json="x") == 202
    await devhost.wait_for_instance("codes-1")
    code, body = await status(devhost_http, "codes-1")
    assert (code, body["output"]) == (200, "x")
    assert await post(devhost_http, "/instances/codes-1/raiseEvent/Go", json="again") == 410
    assert await post(devhost_http, "/instances/nobody/raiseEvent/Go", json=1) == 404
    assert await post(devhost_http, "/instances/nobody/terminate") == 404
    assert (await status(devhost_http, "nobody"))[0] == 404


async def test_listing_instances_pages_with_a_continuation_token(devhost, devhost_http):
    for n in range(5):
        await start(devhost_http, "chain", {"steps": 1}, instance_id=f"page-{n}")
        await devhost.wait_for_instance(f"page-{n}")
    seen: list[str] = []
    token = ""
    for _ in range(5):
        headers = {"x-ms-continuation-token": token} if token else {}
        async with devhost_http.get(f"{WEBHOOK}/instances", params={"top": "2"}, headers=headers) as response:
            assert response.status == 200
            seen += [item["instanceId"] for item in await response.json()]
            token = response.headers.get("x-ms-continuation-token", "")
        if not token:
            break
    assert sorted(seen) == [f"page-{n}" for n in range(5)]
    async with devhost_http.get(f"{WEBHOOK}/instances", params={"runtimeStatus": "Bogus"}) as response:
        assert response.status == 400
