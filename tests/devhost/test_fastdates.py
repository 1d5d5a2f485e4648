"""The fast timestamp parser gives exactly what dateutil gives (so replay is unchanged)."""

import random
from datetime import UTC, datetime, timedelta

from dateutil.parser import parse as dateutil_parse

from devhost.engine.fastdates import parse_utc
from devhost.engine.history import format_timestamp


def _samples() -> list[str]:
    rng = random.Random(20261124)
    base = datetime(1999, 1, 1, tzinfo=UTC)
    texts = []
    for _ in range(2000):
        moment = base + timedelta(seconds=rng.uniform(0, 40 * 365 * 86400))
        texts.append(format_timestamp(moment))  # what devhost writes: 7 fraction digits + Z
        digits = rng.randint(0, 7)
        fraction = f".{rng.randrange(10**digits):0{digits}d}" if digits else ""
        texts.append(moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z")
    return texts


def test_fast_parse_equals_dateutil_for_utc_timestamps():
    for text in _samples():
        fast, reference = parse_utc(text), dateutil_parse(text)
        assert fast == reference, text
        assert fast.utcoffset() == reference.utcoffset(), text
        assert fast.strftime("%Y-%m-%dT%H:%M:%S.%fZ") == reference.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), text


def test_other_formats_fall_back_to_dateutil():
    for text in ("2024-05-01T10:00:00+02:00", "2024-05-01 10:00:00", "May 1 2024 10:00", "2024-05-01T10:00:00"):
        assert parse_utc(text) == dateutil_parse(text)
        assert parse_utc(text).tzinfo is None or parse_utc(text).utcoffset() == dateutil_parse(text).utcoffset()


def test_installed_parser_is_used_by_the_sdk():
    from azure.durable_functions.models.history.HistoryEvent import HistoryEvent

    from devhost.engine import fastdates

    fastdates.install()
    event = HistoryEvent(EventType=12, EventId=-1, IsPlayed=False, Timestamp="2024-05-01T10:00:00.1234567Z")
    assert event.timestamp == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


def test_installed_parser_reads_the_status_api_times_as_dateutil_does():
    from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

    from devhost.engine import fastdates
    from devhost.server.status import format_time

    fastdates.install()
    moment = datetime(2024, 5, 1, 10, 0, 4, tzinfo=UTC)
    text = format_time(moment)  # what the status API writes: no fraction, Z
    status = DurableOrchestrationStatus(createdTime=text, lastUpdatedTime=text)
    assert status.created_time == dateutil_parse(text) == moment
    assert status.last_updated_time.utcoffset() == dateutil_parse(text).utcoffset()
