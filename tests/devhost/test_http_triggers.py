"""The app's own HTTP functions: routes, constraints, sync and async, request parts."""


async def test_sync_function_sees_route_query_and_headers(devhost_http):
    async with devhost_http.get("/api/echo/hello", params={"q": "1"}, headers={"x-test": "yes"}) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert await response.json() == {"word": "hello", "q": "1", "h": "yes"}


async def test_route_constraint_rejects_non_matching_values(devhost_http):
    async with devhost_http.get("/api/echo/123") as response:
        assert response.status == 404
        assert "error" in await response.json()


async def test_async_function_returning_a_string(devhost_http):
    async with devhost_http.post("/api/async-echo", data=b"ping") as response:
        assert response.status == 200 and await response.text() == "ping"


async def test_a_method_the_function_does_not_accept_is_404(devhost_http):
    # The Functions host answers 404 here, not 405 (azure-functions-host#10098); devhost matches it.
    async with devhost_http.delete("/api/async-echo") as response:
        assert response.status == 404
        assert "error" in await response.json()


async def test_check_status_payload_uses_the_request_origin(devhost, devhost_http):
    async with devhost_http.post("/api/orchestrators/chain", json={"steps": 1}) as response:
        payload = await response.json()
    assert response.status == 202
    assert payload["statusQueryGetUri"].startswith(devhost.url + "/runtime/webhooks/durabletask/instances/")
    assert response.headers["Retry-After"] == "10"
    await devhost.wait_for_instance(payload["id"])
