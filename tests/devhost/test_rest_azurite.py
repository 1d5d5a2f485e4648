"""The storage REST client against Azurite (marked ``azurite``): what it writes reads back
identically through the Azure SDKs (``azure-data-tables``, ``azure-storage-queue``) and the
other way round, and the service's refusals arrive as the client's errors."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.data.tables import EdmType, EntityProperty, UpdateMode
from azure.data.tables.aio import TableServiceClient
from azure.storage.queue.aio import QueueClient

from devhost.store.azure.rest import (
    Account,
    Conflict,
    NotFound,
    Operation,
    PreconditionFailed,
    Queue,
    RestError,
    RestSession,
    Table,
    TransactionFailed,
    literal,
)

pytestmark = pytest.mark.azurite

MOMENT = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
VALUES: dict[str, Any] = {
    "Text": "it's \"quoted\" <b>&amp; é 😀", "Empty": "", "Yes": True, "No": False, "Small": -7, "Int32": 2**31 - 1,
    "Double": 1.25, "Whole": 2.0, "When": MOMENT, "Bytes": b"\x00\x01\xfe",
}


@pytest.fixture
async def tables(azurite_connection_string: str) -> AsyncIterator[tuple[Any, Table, RestSession]]:
    name = "rest" + uuid.uuid4().hex[:12]
    service = TableServiceClient.from_connection_string(azurite_connection_string)
    sdk = service.get_table_client(name)
    await sdk.create_table()
    session = RestSession()
    try:
        yield sdk, Table(session, Account.from_connection_string(azurite_connection_string), name), session
    finally:
        await session.close()
        await sdk.delete_table()
        await service.close()


@pytest.fixture
async def queues(azurite_connection_string: str) -> AsyncIterator[tuple[QueueClient, Queue]]:
    name = "rest-" + uuid.uuid4().hex[:12]
    sdk = QueueClient.from_connection_string(azurite_connection_string, name)
    await sdk.create_queue()
    session = RestSession()
    try:
        yield sdk, Queue(session, Account.from_connection_string(azurite_connection_string), name)
    finally:
        await session.close()
        await sdk.delete_queue()
        await sdk.close()


async def test_entity_written_by_the_client_reads_back_identically_through_the_sdk(tables):
    sdk, table, _ = tables
    etag = await table.insert({"PartitionKey": "p'1 é", "RowKey": "r", **VALUES, "Int64": 2**40, "Gone": None})
    read = await sdk.get_entity("p'1 é", "r")
    assert read.metadata["etag"] == etag
    int64 = read.pop("Int64")
    assert isinstance(int64, EntityProperty) and int64.value == 2**40 and int64.edm_type == EdmType.INT64
    assert dict(read) == {"PartitionKey": "p'1 é", "RowKey": "r", **VALUES}
    assert isinstance(read["Whole"], float) and read["When"].tzinfo is not None


async def test_entity_written_by_the_sdk_reads_back_identically_through_the_client(tables):
    sdk, table, _ = tables
    written = {"PartitionKey": "p", "RowKey": "r'2", **VALUES, "Int64": EntityProperty(2**40, EdmType.INT64),
               "Nan": math.nan, "Inf": math.inf}
    await sdk.upsert_entity(written)
    read = await table.get("p", "r'2")
    assert read.etag == (await sdk.get_entity("p", "r'2")).metadata["etag"]
    assert math.isnan(read.pop("Nan")) and read.pop("Inf") == math.inf
    assert dict(read) == {"PartitionKey": "p", "RowKey": "r'2", **VALUES, "Int64": 2**40}
    assert type(read["Whole"]) is float and type(read["Int32"]) is int


async def test_conditional_writes_report_conflicts_and_missing_entities(tables):
    _, table, _ = tables
    entity = {"PartitionKey": "p", "RowKey": "r", "V": 1}
    first = await table.insert(entity)
    with pytest.raises(Conflict) as exists:
        await table.insert(entity)
    assert exists.value.code == "EntityAlreadyExists"
    second = await table.update({**entity, "V": 2}, first)
    with pytest.raises(PreconditionFailed):
        await table.update({**entity, "V": 3}, first)
    merged = await table.update({"PartitionKey": "p", "RowKey": "r", "W": "x"}, second, merge=True)
    read = await table.get("p", "r")
    assert (read.etag, read["V"], read["W"]) == (merged, 2, "x")
    await table.delete("p", "r")
    with pytest.raises(NotFound):
        await table.get("p", "r")
    with pytest.raises(NotFound):
        await table.delete("p", "r")


async def test_query_follows_continuation_and_selects_columns(tables):
    _, table, _ = tables
    for i in range(5):
        await table.upsert({"PartitionKey": "p", "RowKey": f"{i:02d}", "N": i, "Other": "x"})
    await table.upsert({"PartitionKey": "q", "RowKey": "00", "N": 9})
    pages = [page async for page in table.query(f"PartitionKey eq {literal('p')} and N ge 1", ["N"], top=2).by_page()]
    assert [[dict(e) for e in page] for page in pages] == [[{"N": 1}, {"N": 2}], [{"N": 3}, {"N": 4}]]
    assert all(e.etag for page in pages for e in page)


async def test_transaction_commits_all_or_names_the_failing_operation(tables):
    sdk, table, _ = tables
    etags = await table.transact([
        Operation("upsert", {"PartitionKey": "p", "RowKey": "a", "V": 1}),
        Operation("insert", {"PartitionKey": "p", "RowKey": "s", "When": MOMENT}),
    ])
    assert etags == [(await sdk.get_entity("p", k)).metadata["etag"] for k in ("a", "s")]
    stale = 'W/"datetime\'2000-01-01T00%3A00%3A00Z\'"'
    with pytest.raises(TransactionFailed) as failed:
        await table.transact([
            Operation("upsert", {"PartitionKey": "p", "RowKey": "a", "V": 2}),
            Operation("replace", {"PartitionKey": "p", "RowKey": "s", "V": 3}, stale),
        ])
    assert (failed.value.index, failed.value.status, failed.value.code) == (1, 412, "UpdateConditionNotSatisfied")
    assert (await table.get("p", "a"))["V"] == 1  # rolled back
    etags = await table.transact([
        Operation("merge", {"PartitionKey": "p", "RowKey": "s", "V": 4}, etags[1]),
        Operation("delete", {"PartitionKey": "p", "RowKey": "a"}),
    ])
    assert etags[1] is None
    read = await sdk.get_entity("p", "s")
    assert (read["V"], read["When"], read.metadata["etag"]) == (4, MOMENT, etags[0])


async def test_sdk_transaction_rows_read_back_through_the_client(tables):
    sdk, table, _ = tables
    row = {"PartitionKey": "p", "RowKey": "x", **VALUES}
    await sdk.submit_transaction([("upsert", row, {"mode": UpdateMode.REPLACE})])
    assert dict(await table.get("p", "x")) == {"PartitionKey": "p", "RowKey": "x", **VALUES}


TEXTS = ['{"a": "<b>&amp;</b>", "é": "it\'s"}', "plain", "x" * 40_000, "]]> & < >"]


async def test_message_text_put_by_the_client_is_received_identically_by_the_sdk(queues):
    sdk, queue = queues
    for text in TEXTS:
        await queue.put(text)
    received = [m async for m in sdk.receive_messages(messages_per_page=32, max_messages=32)]
    assert sorted(m.content for m in received) == sorted(TEXTS)


async def test_message_text_sent_by_the_sdk_is_received_identically_by_the_client(queues):
    sdk, queue = queues
    for text in TEXTS:
        await sdk.send_message(text)
    received = await queue.receive(32, 30)
    assert sorted(m.content for m in received) == sorted(TEXTS)
    assert all(m.dequeue_count == 1 and m.pop_receipt for m in received)


async def test_invisible_put_update_and_delete_keep_the_pop_receipt_current(queues):
    sdk, queue = queues
    put = await queue.put("held", visibility_timeout=30)
    assert await queue.receive(32, 30) == []  # invisible
    receipt = await queue.update(put.id, put.pop_receipt, 0)
    assert receipt and receipt != put.pop_receipt
    [again] = await queue.receive(1, 30)
    assert (again.id, again.content, again.dequeue_count) == (put.id, "held", 1)
    with pytest.raises(RestError) as stale:
        await queue.delete(put.id, receipt)  # stale: the receive gave a new receipt
    assert (stale.value.status, stale.value.code) == (400, "PopReceiptMismatch")
    await queue.delete(again.id, again.pop_receipt)
    assert (await sdk.get_queue_properties()).approximate_message_count == 0


async def test_sas_connection_strings_authorise_table_and_queue_requests(tables, queues, azurite_connection_string):
    from azure.core.credentials import AzureNamedKeyCredential
    from azure.data.tables import AccountSasPermissions, ResourceTypes, generate_account_sas
    from azure.storage.queue import AccountSasPermissions as QueuePermissions
    from azure.storage.queue import ResourceTypes as QueueResourceTypes
    from azure.storage.queue import generate_account_sas as generate_queue_sas

    from devhost import azurite

    expiry = datetime.now(UTC) + timedelta(hours=1)
    table_sas = generate_account_sas(
        AzureNamedKeyCredential(azurite.ACCOUNT_NAME, azurite.ACCOUNT_KEY), ResourceTypes(object=True),
        AccountSasPermissions(read=True, write=True, update=True, add=True, delete=True), expiry,
    )
    queue_sas = generate_queue_sas(
        azurite.ACCOUNT_NAME, azurite.ACCOUNT_KEY, QueueResourceTypes(service=True, container=True, object=True),
        QueuePermissions(read=True, add=True, update=True, process=True, delete=True), expiry,
    )
    endpoints = azurite_connection_string.split("BlobEndpoint=", 1)[1]
    session = RestSession()
    try:
        sdk_table, key_table, _ = tables
        sas_table = Table(session, Account.from_connection_string(
            f"BlobEndpoint={endpoints};SharedAccessSignature={table_sas}"), key_table.name)
        etag = await sas_table.insert({"PartitionKey": "p", "RowKey": "sas", "V": 1})
        assert (await sdk_table.get_entity("p", "sas")).metadata["etag"] == etag
        assert (await sas_table.get("p", "sas"))["V"] == 1
        _, key_queue = queues
        sas_queue = Queue(session, Account.from_connection_string(
            f"BlobEndpoint={endpoints};SharedAccessSignature={queue_sas}"), key_queue.name)
        await sas_queue.put("via sas")
        [message] = await sas_queue.receive(1, 30)
        await sas_queue.delete(message.id, message.pop_receipt)
        assert message.content == "via sas"
    finally:
        await session.close()


async def test_update_replaces_the_text_as_the_sdk_reads_it(queues):
    sdk, queue = queues
    put = await queue.put("before", visibility_timeout=30)
    receipt = await queue.update(put.id, put.pop_receipt, 0, content='after <&> "é"')
    [message] = [m async for m in sdk.receive_messages(max_messages=1)]
    assert (message.id, message.content) == (put.id, 'after <&> "é"')
    assert receipt
