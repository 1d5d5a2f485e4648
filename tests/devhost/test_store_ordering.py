"""Messages one episode sends to one instance reach it in send order, on every store.

The Durable extension guarantees it for entity operations (``EntityScheduler/MessageSorter.cs``
sequences messages per sender and receiver): an orchestration that signals an entity and then
calls it must see the signal applied first.  On Azure Storage the outbox puts its messages
concurrently, so the network may answer them in any order; here a real proxy in front of
Azurite answers the first put last, while a dispatcher keeps locking the receiver.  A host
that keeps what it sends to itself (the default, ``keep_local``) puts none of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from tests.devhost.queue_proxy import QueueProxy
from tests.devhost.store_kit import Stores, episode, lock, raised, run, started

COUNT = 12


@pytest.fixture
async def proxied(stores: Stores) -> AsyncIterator[QueueProxy | None]:
    """On Azurite, the stores opened from now on reach the queues through a holding proxy."""
    if stores.kind == "memory":
        yield None
        return
    direct = stores.connection_string or ""
    async with QueueProxy.start(QueueProxy.queue_endpoint(direct)) as proxy:
        stores.connection_string = proxy.connection_string(direct)
        try:
            yield proxy
        finally:
            await stores.cleanup()  # while the proxy still forwards
            stores.opened.clear()


@pytest.mark.parametrize("keep_local", [False, True], ids=["put", "kept"])
async def test_messages_of_one_episode_to_one_instance_are_taken_in_send_order(
    stores: Stores, proxied: QueueProxy | None, keep_local: bool
) -> None:
    if stores.kind == "memory" and keep_local:
        pytest.skip("the memory store puts nothing either way")
    store = await stores.open(keep_local=keep_local)
    await run(store, "receiver")  # exists, and its host has it at hand
    sender = await started(store, "sender")
    sent = [raised("receiver", f"op-{i:02d}") for i in range(COUNT)]
    if proxied is not None:
        proxied.hold("op-00", release_after=COUNT - 1)  # the first put is answered last
    taken: list[list[str]] = []

    async def receiver_dispatcher() -> None:
        while sum(map(len, taken)) < COUNT:
            item = await lock(store, wait=10)
            assert item is not None and item.instance_id == "receiver"
            taken.append([m.message_id for m in item.messages])
            await store.complete_orchestration_work_item(item, episode(item))

    dispatcher = asyncio.ensure_future(receiver_dispatcher())
    await store.complete_orchestration_work_item(sender, replace(episode(sender), messages=sent))
    await asyncio.wait_for(dispatcher, 30)
    assert [m for batch in taken for m in batch] == [m.message_id for m in sent]
    if proxied is not None:
        assert proxied.held_answered == (0 if keep_local else 1)  # the hold did happen, or nothing was put
