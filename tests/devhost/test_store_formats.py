"""Text forms the Azure store writes, computed by hand for speed: equal to what they replaced.

``format_datetime`` (entity values) and the canonical history timestamp were ``strftime``
output; a canonical timestamp reads back as the moment it names; partition placement is
FNV-1a 32-bit of the id, as DurableTask.AzureStorage places instances.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from devhost.store.azure import codec
from devhost.store.azure.names import partition_of
from devhost.store.azure.rest.entities import format_datetime


def _moments(count: int) -> list[datetime]:
    rng = random.Random(7)
    zones = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5)), timezone(timedelta(minutes=330))]
    return [datetime(rng.randint(1601, 9998), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                     rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, 1, 999999, rng.randint(0, 999999)]),
                     tzinfo=rng.choice(zones)) for _ in range(count)]


def test_entity_datetimes_are_written_as_strftime_wrote_them():
    for moment in _moments(2000):
        assert format_datetime(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_history_timestamps_are_canonical_and_read_back_as_their_moment():
    for moment in _moments(2000):
        text = codec._stamp(moment)
        assert text == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
        assert codec._canonical_moment(text) == moment
    assert codec._canonical_moment("2024-05-01T10:00:00.1234567Z") is None  # not the canonical form
    assert codec._canonical_moment("1600-12-31T23:59:59.9999990Z") is None  # before Table storage's dates


def test_instances_are_placed_by_fnv1a_of_their_id():
    def fnv1a(text: str) -> int:
        value = 2166136261
        for byte in text.encode("utf-8"):
            value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
        return value

    for instance_id in ("", "a", "abc", "f3e1c2d4b5a6978812345678abcdef01", "naïve ☃", "x" * 300):
        for count in (1, 4, 16):
            assert partition_of(instance_id, count) == fnv1a(instance_id) % count
    assert fnv1a("a") == 0xE40C292C  # the published FNV-1a 32-bit test vector
