"""The storage REST client without storage: connection strings, Shared Key signing (checked
against the formula of the REST reference and against azure-storage-queue's own signer), the
``$batch`` body and response parser, and the typing of entity properties."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from aiohttp import web
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest
from azure.storage.queue._shared.authentication import SharedKeyCredentialPolicy

from devhost import azurite
from devhost.errors import StoreError
from devhost.store.azure.calls import StorageCalls
from devhost.store.azure.rest import (
    Account,
    Conflict,
    ConnectionStringError,
    Operation,
    RestError,
    RestSession,
    Table,
    TransactionFailed,
    auth,
    batch,
    entities,
)
from devhost.store.azure.rest.queues import _messages, escape

KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_azurite_connection_string_gives_path_style_endpoints():
    account = Account.from_connection_string(azurite.connection_string())
    assert account.name == azurite.ACCOUNT_NAME
    assert account.key == base64.b64decode(azurite.ACCOUNT_KEY)
    assert (account.table.origin, account.table.prefix) == ("http://127.0.0.1:10002", "/devstoreaccount1")
    assert (account.queue.origin, account.queue.prefix) == ("http://127.0.0.1:10001", "/devstoreaccount1")


def test_account_connection_string_builds_endpoints_from_the_suffix():
    account = Account.from_connection_string(
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={KEY};EndpointSuffix=core.chinacloudapi.cn"
    )
    assert account.table.origin == "https://acme.table.core.chinacloudapi.cn"
    assert account.queue.origin == "https://acme.queue.core.chinacloudapi.cn"
    assert account.table.prefix == "" and account.sas is None


def test_sas_connection_string_carries_the_token_and_no_key():
    account = Account.from_connection_string(
        "TableEndpoint=https://acme.table.core.windows.net/;QueueEndpoint=https://acme.queue.core.windows.net;"
        "SharedAccessSignature=?sv=2022-11-02&ss=qt&sig=abc%3D"
    )
    assert account.key is None and account.sas == "sv=2022-11-02&ss=qt&sig=abc%3D"
    assert account.name == "acme"
    assert "Authorization" not in account.table_headers("/t()")
    assert account.queue_authorization("GET", "/q/messages", {}, {"x-ms-date": "d"}, 0) is None


def test_path_style_endpoints_name_the_account_when_account_name_is_missing():
    account = Account.from_connection_string(f"AccountKey={KEY};TableEndpoint=http://10.0.0.5:10002/devstoreaccount1;"
                                             "QueueEndpoint=http://10.0.0.5:10001/devstoreaccount1")
    assert account.name == "devstoreaccount1"


@pytest.mark.parametrize("value", ["AccountName=a", "AccountName=a;AccountKey=not base64!", f"AccountKey={KEY}"])
def test_unusable_connection_strings_are_refused(value):
    with pytest.raises(ConnectionStringError):
        Account.from_connection_string(value)


def test_table_requests_are_signed_with_shared_key_lite():
    account = Account.from_connection_string(f"AccountName=acme;AccountKey={KEY}")
    headers = account.table_headers("/Tasks(PartitionKey='p%27%27',RowKey='')")
    to_sign = f"{headers['x-ms-date']}\n/acme/Tasks(PartitionKey='p%27%27',RowKey='')"
    expected = base64.b64encode(hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()).decode()
    assert headers["Authorization"] == f"SharedKeyLite acme:{expected}"


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("POST", "/devstoreaccount1/q1/messages", {"messagettl": "-1", "visibilitytimeout": "30"}, b"<x>hi</x>"),
        ("GET", "/devstoreaccount1/q1/messages", {"numofmessages": "32", "visibilitytimeout": "30"}, None),
        ("PUT", "/devstoreaccount1/q1/messages/0b1c", {"popreceipt": "AgAA+/8=", "visibilitytimeout": "0"}, None),
    ],
)
def test_queue_signature_matches_the_queue_sdks_signer(method, path, query, body):
    account = Account.from_connection_string(azurite.connection_string())
    headers = {"x-ms-date": auth.http_date(), "x-ms-version": "2021-12-02"}
    content_type = "application/xml" if body else ""
    ours = account.queue_authorization(method, path, query, headers, len(body or b""), content_type)
    encoded = "&".join(f"{k}={v.replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')}" for k, v in query.items())
    sdk_headers = {**headers, "Content-Length": str(len(body or b""))}
    if content_type:
        sdk_headers["Content-Type"] = content_type
    request = HttpRequest(method, f"http://127.0.0.1:10001{path}?{encoded}", headers=sdk_headers, content=body)
    pipeline_request = PipelineRequest(request, PipelineContext(None))
    SharedKeyCredentialPolicy(azurite.ACCOUNT_NAME, azurite.ACCOUNT_KEY).on_request(pipeline_request)
    assert ours == request.headers["Authorization"]


def test_entities_are_typed_as_the_tables_sdk_types_them():
    moment = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    encoded = entities.encode({
        "PartitionKey": "p", "S": "text", "B": False, "I": 7, "L": 2**40, "F": 1.5, "N": math.nan,
        "D": moment, "X": b"\x00\xff", "G": UUID(int=1), "Gone": None,
    })
    assert encoded == {
        "PartitionKey": "p", "S": "text", "B": False, "I": 7,
        "L": str(2**40), "L@odata.type": "Edm.Int64",
        "F": 1.5, "F@odata.type": "Edm.Double", "N": "NaN", "N@odata.type": "Edm.Double",
        "D": "2024-05-01T08:00:00.123456Z", "D@odata.type": "Edm.DateTime",
        "X": "AP8=", "X@odata.type": "Edm.Binary",
        "G": "00000000-0000-0000-0000-000000000001", "G@odata.type": "Edm.Guid",
    }


def test_minimal_metadata_decodes_to_python_values_and_keeps_the_etag():
    item = {
        "odata.metadata": "m", "odata.etag": "W/\"1\"", "PartitionKey": "p", "RowKey": "r", "S": "s",
        "I": 3, "F": 2.0, "B": True, "D@odata.type": "Edm.DateTime", "D": "2024-05-01T10:00:00.1234567Z",
        "L@odata.type": "Edm.Int64", "L": "1099511627776", "Inf@odata.type": "Edm.Double", "Inf": "-Infinity",
        "Timestamp": "2026-01-01T00:00:00.0000000Z",
    }
    entity = entities.decode(item)
    assert entity.etag == 'W/"1"'
    assert dict(entity) == {
        "PartitionKey": "p", "RowKey": "r", "S": "s", "I": 3, "F": 2.0, "B": True,
        "D": datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC), "L": 2**40, "Inf": -math.inf,
    }


def test_filter_literals_escape_quotes_and_type_values():
    assert entities.literal("it's") == "'it''s'"
    assert entities.literal(False) == "false"
    assert entities.literal(2**40) == f"{2**40}L"
    assert entities.literal(datetime(2024, 1, 2, tzinfo=UTC)) == "datetime'2024-01-02T00:00:00.000000Z'"


def test_entity_paths_double_quotes_and_percent_encode_keys():
    assert entities.key_path("T", "it's é", "") == "/T(PartitionKey='it%27%27s%20%C3%A9',RowKey='')"


def test_batch_body_has_one_changeset_with_each_operation():
    operations = [
        Operation("upsert", {"PartitionKey": "p", "RowKey": "1", "V": 1}),
        Operation("replace", {"PartitionKey": "p", "RowKey": "s", "V": "x"}, 'W/"e"'),
        Operation("insert", {"PartitionKey": "p", "RowKey": "2"}),
        Operation("delete", {"PartitionKey": "p", "RowKey": "3"}),
    ]
    content_type, body = batch.build("http://h:1/acct", "T", operations)
    boundary = content_type.split("boundary=")[1]
    text = body.decode()
    assert text.startswith(f"--{boundary}\r\nContent-Type: multipart/mixed; boundary=changeset_")
    assert text.endswith(f"--{boundary}--\r\n")
    requests = [line for line in text.split("\r\n") if " HTTP/1.1" in line]
    assert requests == [
        "PUT http://h:1/acct/T(PartitionKey='p',RowKey='1') HTTP/1.1",
        "PUT http://h:1/acct/T(PartitionKey='p',RowKey='s') HTTP/1.1",
        "POST http://h:1/acct/T HTTP/1.1",
        "DELETE http://h:1/acct/T(PartitionKey='p',RowKey='3') HTTP/1.1",
    ]
    assert text.count("If-Match: ") == 2 and 'If-Match: W/"e"' in text and "If-Match: *" in text
    bodies = [json.loads(line) for line in text.split("\r\n") if line.startswith("{")]
    assert bodies[0] == {"PartitionKey": "p", "RowKey": "1", "V": 1}


def _response(parts: list[str]) -> tuple[str, bytes]:
    body = "--batchresponse_b\r\nContent-Type: multipart/mixed; boundary=changesetresponse_c\r\n\r\n"
    mime = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    for part in parts:
        body += f"--changesetresponse_c\r\n{mime}{part}"
    body += "--changesetresponse_c--\r\n--batchresponse_b--\r\n"
    return "multipart/mixed; boundary=batchresponse_b", body.encode()


def test_batch_response_gives_each_operations_etag():
    content_type, body = _response([
        "HTTP/1.1 204 No Content\r\nDataServiceVersion: 1.0;\r\nETag: W/\"datetime'1'\"\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nDataServiceVersion: 1.0;\r\n\r\n",
    ])
    parts = batch.parse(content_type, body)
    assert [p.status for p in parts] == [204, 204]
    assert batch.results(parts, 2) == ["W/\"datetime'1'\"", None]


def test_failed_batch_names_the_operation_and_its_error_code():
    message = {"lang": "en-US", "value": "1:The update condition was not satisfied.\nRequestId:x"}
    error = {"odata.error": {"code": "UpdateConditionNotSatisfied", "message": message}}
    content_type, body = _response([
        f"HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json\r\n\r\n{json.dumps(error)}\r\n"
    ])
    with pytest.raises(TransactionFailed) as failed:
        batch.results(batch.parse(content_type, body), 2)
    assert (failed.value.status, failed.value.code, failed.value.index) == (412, "UpdateConditionNotSatisfied", 1)


def test_queue_text_is_escaped_as_xml_etree_escapes_it_and_read_back():
    import xml.etree.ElementTree as ET

    text = 'a<b>&"c\' é ]]> {"k": [1]}'
    element = ET.Element("MessageText")
    element.text = text
    assert f"<MessageText>{escape(text)}</MessageText>" == ET.tostring(element, encoding="unicode")
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?><QueueMessagesList><QueueMessage><MessageId>m1</MessageId>'
        f"<PopReceipt>r1</PopReceipt><DequeueCount>2</DequeueCount><MessageText>{escape(text)}</MessageText>"
        "</QueueMessage></QueueMessagesList>"
    ).encode()
    [message] = _messages(answer)
    assert (message.id, message.pop_receipt, message.dequeue_count, message.content) == ("m1", "r1", 2, text)


# --- retries and errors, against a real local HTTP server -----------------------------------------
class _FlakyService:
    """A local Table endpoint answering scripted statuses, recording what it received."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.seen: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            return web.json_response({"odata.etag": 'W/"1"', "PartitionKey": "p", "RowKey": "r", "V": 1})
        error = {"odata.error": {"code": "Busy" if status >= 500 else "EntityAlreadyExists",
                                 "message": {"value": "scripted"}}}
        return web.json_response(error, status=status)


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[_FlakyService, Callable[[RestSession], Table]]]:
    service = _FlakyService([])
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", service.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    account = Account.from_connection_string(
        f"AccountName=acme;AccountKey={KEY};TableEndpoint=http://127.0.0.1:{port}/acme"
    )
    try:
        yield service, lambda session: Table(session, account, "T")
    finally:
        await runner.cleanup()


async def test_transient_statuses_are_retried_and_each_attempt_is_signed(flaky):
    service, table_of = flaky
    service.statuses = [503, 500]
    session = RestSession(retries=3, backoff=0.001)
    try:
        entity = await table_of(session).get("p", "r")
    finally:
        await session.close()
    assert (dict(entity), entity.etag) == ({"PartitionKey": "p", "RowKey": "r", "V": 1}, 'W/"1"')
    assert len(service.seen) == 3
    assert all(h["Authorization"].startswith("SharedKeyLite acme:") for h in service.seen)


async def test_retries_end_with_the_last_error_and_conflicts_are_not_retried(flaky):
    service, table_of = flaky
    service.statuses = [503, 503, 503, 409]
    session = RestSession(retries=2, backoff=0.001)
    try:
        with pytest.raises(RestError) as busy:
            await table_of(session).get("p", "r")
        assert (busy.value.status, busy.value.code, len(service.seen)) == (503, "Busy", 3)
        with pytest.raises(Conflict):
            await table_of(session).insert({"PartitionKey": "p", "RowKey": "r"})
        assert len(service.seen) == 4
    finally:
        await session.close()


async def test_no_answer_becomes_a_store_error_counted_once():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request: nothing listens
    account = Account.from_connection_string(f"AccountName=acme;AccountKey={KEY};TableEndpoint=http://127.0.0.1:{port}")
    session = RestSession(retries=1, backoff=0.001)
    calls = StorageCalls()
    try:
        with pytest.raises(StoreError, match=r"table\.get failed"):
            await calls.call("table.get", Table(session, account, "T").get("p", "r"))
    finally:
        await session.close()
    assert calls.by_kind["table.get"] == 1
