"""Binding expressions and blob path patterns (pure; no storage).

Behaviour matched: the WebJobs SDK's binding expressions (``%Setting%``, ``{rand-guid}``,
``{DateTime}`` as ``yyyy-MM-ddTHH-mm-ssZ``, trigger data case-insensitively, dotted paths into
JSON, ``{{``/``}}`` escapes) and blob trigger path patterns (``{name}`` captures, literal
container).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from devhost.triggers.expressions import BindingExpressionError, BlobPathPattern, resolve

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _now() -> datetime:
    return NOW


def test_trigger_data_settings_and_datetime(monkeypatch):
    monkeypatch.setenv("OUT_CONTAINER", "results")
    path = resolve("%OUT_CONTAINER%/{QueueTrigger}/{DateTime}.txt", {"queueTrigger": "order-7"}, _now)
    assert path == "results/order-7/2026-03-04T05-06-07Z.txt"


def test_rand_guid_is_new_each_time_and_honours_the_n_format():
    first, second = resolve("{rand-guid}", {}, _now), resolve("{rand-guid}", {}, _now)
    assert first != second and str(uuid.UUID(first)) == first
    assert len(resolve("{rand-guid:N}", {}, _now)) == 32


def test_dotted_paths_reach_into_json_and_braces_escape():
    data = {"order": {"Customer": {"id": 42}}}
    assert resolve("{{literal}}/{order.customer.id}", data, _now) == "{literal}/42"


@pytest.mark.parametrize("template", ["{missing}", "{order.nothing}", "%NO_SUCH_SETTING_X%", "{DateTime:yyyy}"])
def test_unresolvable_expressions_are_errors(template):
    with pytest.raises(BindingExpressionError):
        resolve(template, {"order": {"id": 1}}, _now)


def test_blob_path_pattern_captures_names_and_knows_its_prefix():
    pattern = BlobPathPattern.compile("inbox/docs/{name}.{ext}")
    assert (pattern.container, pattern.prefix) == ("inbox", "docs/")
    assert pattern.match("docs/sub/report.v2.txt") == {"name": "sub/report.v2", "ext": "txt"}
    assert pattern.match("other/report.txt") is None
    assert BlobPathPattern.compile("inbox").match("any/thing") == {}


@pytest.mark.parametrize("path", ["{c}/x", "In_Box/{name}", "inbox/{bad name}"])
def test_invalid_blob_paths_are_refused(path):
    with pytest.raises(BindingExpressionError):
        BlobPathPattern.compile(path)
