"""How a checkpoint's history rows are split into table transactions (no storage needed).

A transaction holds at most 100 entities (99 rows + the sentinel) and 4 MiB, as the Table
service allows; the split keeps under 99 rows and ~3.5 MB.  Small checkpoints, nearly all of
them, skip measuring their rows: a bound that no JSON encoding can exceed decides first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from devhost.store.azure import history
from devhost.store.azure.history import MAX_BATCH_BYTES, MAX_ROWS_PER_BATCH, _bound, _chunks, _estimate

TRICKY = ['say "hi"\\n', "\x00\x01\x1f control", "naïve ☃ 𝄞", "𝄞" * 100, "\x00" * 50, "", "x" * 1000,
          '{"a": [1, "two"]}']


def test_the_bound_is_never_below_the_encoded_size():
    for text in TRICKY:
        for entity in ({"Text": text}, {"Text": text, "Number": 12345678901234, "When": datetime.now(UTC)},
                       {"PartitionKey": text, "RowKey": "0000000000000001", "Flag": True, "None": None}):
            assert _bound(entity) >= _estimate(entity), entity
            assert _bound(entity) >= len(json.dumps(entity, default=str, ensure_ascii=False).encode("utf-8"))


def test_a_small_checkpoint_is_one_transaction_without_being_encoded(monkeypatch):
    def no_encoding(entity):
        raise AssertionError("a small checkpoint was encoded to be measured")

    monkeypatch.setattr(history, "_estimate", no_encoding)
    rows = [{"PartitionKey": "p", "RowKey": f"{i:016x}", "Result": '"ok"' * 50} for i in range(20)]
    assert _chunks(rows) == [rows]


def test_many_or_large_rows_are_split_by_count_and_by_size():
    many = [{"PartitionKey": "p", "RowKey": f"{i:016x}"} for i in range(250)]
    assert [len(c) for c in _chunks(many)] == [MAX_ROWS_PER_BATCH, MAX_ROWS_PER_BATCH, 250 - 2 * MAX_ROWS_PER_BATCH]
    large = [{"PartitionKey": "p", "RowKey": f"{i:016x}", "Input": "y" * 600_000} for i in range(12)]
    chunks = _chunks(large)
    assert [e for c in chunks for e in c] == large and len(chunks) > 1
    assert all(sum(_estimate(e) for e in chunk) <= MAX_BATCH_BYTES for chunk in chunks)
