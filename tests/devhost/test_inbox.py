"""The Azure store's :class:`Inbox` keeps its indexes up to date as entries change; these tests
pin its answers to a naive reference that scans every entry (the inbox as it was before),
step by step through random sequences of holds, locks, removals and clock moves.  No storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from devhost.store.azure.inbox import Inbox
from devhost.store.azure.queues import Receipt
from devhost.store.base import Message

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INSTANCES = ["a", "b", "c", "d"]
MESSAGE_IDS = [f"m{n}" for n in range(10)]


def _message(instance_id: str, message_id: str, due: int | None = None) -> Message:
    visible_at = None if due is None else T0 + timedelta(minutes=due)
    return Message(message_id, instance_id, {"EventType": 0}, visible_at=visible_at)


@dataclass
class _Entry:
    message: Message
    partition: int
    order: int
    copies: set[str] = field(default_factory=set)
    locked: bool = False

    def visible(self, now: datetime) -> bool:
        return self.message.visible_at is None or self.message.visible_at <= now


class NaiveInbox:
    """The reference: every answer scans every entry."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, _Entry]] = {}

    def add(self, message: Message, partition: int, queue_id: str | None, order: int) -> bool:
        entries = self.entries.setdefault(message.instance_id, {})
        entry = entries.get(message.message_id)
        if entry is None:
            entries[message.message_id] = _Entry(message, partition, order, {queue_id} if queue_id else set())
            return True
        if queue_id:
            entry.copies.add(queue_id)
        return False

    def firsts(self, now: datetime) -> dict[str, int]:
        """Ready instances and the order of their oldest unlocked visible message."""
        return {i: min(orders) for i, e in self.entries.items()
                if (orders := [b.order for b in e.values() if not b.locked and b.visible(now)])}

    def ready(self, now: datetime) -> list[str]:
        return [i for _, i in sorted((order, i) for i, order in self.firsts(now).items())]

    def visible(self, instance_id: str, now: datetime) -> list[_Entry]:
        entries = self.entries.get(instance_id, {}).values()
        return sorted((b for b in entries if not b.locked and b.visible(now)), key=lambda b: b.order)

    def messages(self, instance_id: str) -> list[_Entry]:
        return sorted(self.entries.get(instance_id, {}).values(), key=lambda b: b.order)

    def set_locked(self, instance_id: str, message_ids: list[str], locked: bool) -> None:
        for message_id in message_ids:
            if message_id in self.entries.get(instance_id, {}):
                self.entries[instance_id][message_id].locked = locked

    def remove(self, instance_id: str, message_ids: list[str] | None) -> list[_Entry]:
        entries = self.entries.get(instance_id, {})
        ids = list(entries) if message_ids is None else [m for m in dict.fromkeys(message_ids) if m in entries]
        taken = [entries.pop(m) for m in ids]
        if not entries:
            self.entries.pop(instance_id, None)
        return taken

    def remove_partition(self, partition: int) -> list[_Entry]:
        hit = [i for i, e in self.entries.items() if any(b.partition == partition for b in e.values())]
        return [b for i in hit for b in self.remove(i, None)]

    def next_due(self) -> datetime | None:
        return min((b.message.visible_at for e in self.entries.values() for b in e.values()
                    if b.message.visible_at is not None and not b.locked), default=None)

    def count(self, partition: int) -> int:
        return sum(b.partition == partition for e in self.entries.values() for b in e.values())

    def __len__(self) -> int:
        return sum(len(e) for e in self.entries.values())


def _seen(entries) -> list[tuple]:  # type: ignore[no-untyped-def]
    """What a caller can see of a list of entries (``Buffered`` or ``_Entry``)."""
    return [(b.message.message_id, b.partition, b.order, b.locked, set(b.copies)) for b in entries]


instances = st.sampled_from(INSTANCES)
message_ids = st.lists(st.sampled_from(MESSAGE_IDS), max_size=4)
dues = st.one_of(st.none(), st.none(), st.integers(0, 12))


class InboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.inbox, self.naive = Inbox(), NaiveInbox()
        self.now = T0
        self.copies = 0

    @rule(instance_id=instances, message_id=st.sampled_from(MESSAGE_IDS), partition=st.integers(0, 2),
          order=st.integers(0, 30), due=dues, put=st.booleans())
    def add_or_hold(self, instance_id: str, message_id: str, partition: int, order: int, due: int | None,
                    put: bool) -> None:
        message = _message(instance_id, message_id, due)
        if put:
            self.copies += 1
            queue_id = f"q{self.copies}"
            got = self.inbox.add(message, partition, Receipt(queue_id, "pop"), order)
        else:
            queue_id = None
            got = self.inbox.hold(message, partition, order)
        assert got == self.naive.add(message, partition, queue_id, order)

    @rule(instance_id=instances)
    def lock_visible(self, instance_id: str) -> None:
        """What ``Orchestrations._take`` does: lock the messages an episode gets."""
        ids = [b.message.message_id for b in self.inbox.visible(instance_id, self.now)]
        self.inbox.set_locked(instance_id, ids, True)
        self.naive.set_locked(instance_id, ids, True)

    @rule(instance_id=instances, ids=message_ids, locked=st.booleans())
    def set_locked(self, instance_id: str, ids: list[str], locked: bool) -> None:
        self.inbox.set_locked(instance_id, ids, locked)
        self.naive.set_locked(instance_id, ids, locked)

    @rule(instance_id=instances)
    def unlock_all(self, instance_id: str) -> None:
        self.inbox.unlock_all(instance_id)
        self.naive.set_locked(instance_id, list(self.naive.entries.get(instance_id, {})), False)

    @rule(instance_id=instances, ids=st.one_of(st.none(), message_ids))
    def remove(self, instance_id: str, ids: list[str] | None) -> None:
        assert _seen(self.inbox.remove(instance_id, ids)) == _seen(self.naive.remove(instance_id, ids))

    @rule(partition=st.integers(0, 2))
    def remove_partition(self, partition: int) -> None:
        taken = sorted(_seen(self.inbox.remove_partition(partition)))
        assert taken == sorted(_seen(self.naive.remove_partition(partition)))

    @rule(minutes=st.integers(-3, 6))
    def move_clock(self, minutes: int) -> None:
        """Mostly forward; backwards too (a wall clock set back must not show a future message)."""
        self.now += timedelta(minutes=minutes)

    @rule()
    def ask_ready(self) -> None:
        expected = self.naive.ready(self.now)
        assert list(self.inbox.iter_ready(self.now)) == expected
        assert self.inbox.ready(self.now) == expected

    @precondition(lambda self: len(self.naive) > 0)
    @rule(data=st.data())
    def walk_while_changing(self, data: st.DataObject) -> None:
        """``Orchestrations.lock`` awaits between instances: entries change while it walks.  It
        sees each instance once, only ready ones, and misses none that stayed ready as it was."""
        at_start = self.naive.firsts(self.now)
        steady = dict(at_start)
        walked: list[str] = []
        for instance_id in self.inbox.iter_ready(self.now):
            assert instance_id not in walked
            assert instance_id in at_start or instance_id in self.naive.firsts(self.now)
            walked.append(instance_id)
            change = data.draw(st.sampled_from(["none", "lock", "add", "remove"]))
            if change == "lock":
                self.lock_visible(data.draw(instances))
            elif change == "add":
                self.add_or_hold(data.draw(instances), data.draw(st.sampled_from(MESSAGE_IDS)), 0,
                                 data.draw(st.integers(0, 30)), None, True)
            elif change == "remove":
                self.remove(data.draw(instances), None)
            firsts = self.naive.firsts(self.now)
            steady = {i: order for i, order in steady.items() if firsts.get(i) == order}
        assert set(steady) <= set(walked)

    @invariant()
    def same_answers(self) -> None:
        assert len(self.inbox) == len(self.naive)
        assert self.inbox.next_due() == self.naive.next_due()
        for partition in range(3):
            assert self.inbox.count(partition) == self.naive.count(partition)
        for instance_id in INSTANCES:
            assert _seen(self.inbox.messages(instance_id)) == _seen(self.naive.messages(instance_id))
            assert _seen(self.inbox.visible(instance_id, self.now)) == _seen(self.naive.visible(instance_id, self.now))
            held = self.naive.entries.get(instance_id, {})
            assert [self.inbox.has(instance_id, m) for m in MESSAGE_IDS] == [m in held for m in MESSAGE_IDS]


InboxMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=60, deadline=None)
TestInboxAgainstNaive = InboxMachine.TestCase


def _add(inbox: Inbox, instance_id: str, message_id: str, order: int, due: int | None = None) -> None:
    inbox.add(_message(instance_id, message_id, due), 0, Receipt(f"q-{instance_id}-{message_id}", "pop"), order)


def test_a_delayed_message_makes_its_instance_ready_when_its_time_comes():
    inbox = Inbox()
    _add(inbox, "timer", "t", order=1, due=10)
    _add(inbox, "now", "n", order=2)
    assert inbox.ready(T0) == ["now"]
    assert inbox.next_due() == T0 + timedelta(minutes=10)
    assert inbox.ready(T0 + timedelta(minutes=10)) == ["timer", "now"]  # the older message first
    inbox.set_locked("timer", ["t"], True)
    assert inbox.next_due() is None  # handed out
    assert inbox.ready(T0 + timedelta(minutes=10)) == ["now"]
    inbox.unlock_all("timer")  # its episode was abandoned
    assert inbox.ready(T0 + timedelta(minutes=10)) == ["timer", "now"]


def test_the_clock_set_back_hides_messages_not_yet_due_again():
    inbox = Inbox()
    _add(inbox, "timer", "t", order=1, due=5)
    assert inbox.ready(T0 + timedelta(minutes=5)) == ["timer"]
    assert inbox.ready(T0 + timedelta(minutes=4)) == []
    assert list(inbox.iter_ready(T0 + timedelta(minutes=4))) == []


def test_an_instance_ranks_by_its_oldest_unlocked_message():
    inbox = Inbox()
    _add(inbox, "a", "a1", order=1)
    _add(inbox, "a", "a5", order=5)
    _add(inbox, "b", "b3", order=3)
    assert inbox.ready(T0) == ["a", "b"]
    inbox.set_locked("a", ["a1"], True)  # an episode took a1; a5 came later
    assert inbox.ready(T0) == ["b", "a"]
    inbox.remove("a", ["a1"])
    inbox.set_locked("a", ["a5"], True)
    assert inbox.ready(T0) == ["b"]
    assert inbox.count(0) == 2 and len(inbox) == 2


def test_walking_ready_instances_goes_on_in_order_after_changes():
    inbox = Inbox()
    for n, instance_id in enumerate("abcd"):
        _add(inbox, instance_id, "m", order=n)
    walk = inbox.iter_ready(T0)
    assert next(walk) == "a"
    inbox.remove("c")  # consumed meanwhile by another episode
    _add(inbox, "e", "m", order=10)  # arrived meanwhile
    _add(inbox, "z", "m", order=-1)  # older than the walk's position: left to the next call
    assert list(walk) == ["b", "d", "e"]
    assert inbox.ready(T0) == ["z", "a", "b", "d", "e"]
