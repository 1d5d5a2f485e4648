"""The status API's fast body is the same JSON value as the plain one (pure, no I/O).

``status_body`` embeds the stored input, custom status and output verbatim when they are
strict JSON, and must answer exactly what ``json.dumps(status_payload(...))`` answers for
every stored text: JSON, non-JSON text, ``NaN`` (Python's json writes it), lone surrogates.
"""

import json
import math
from datetime import UTC, datetime

import pytest

from devhost.server.binding import client_binding_json
from devhost.server.status import status_body, status_payload
from devhost.store.base import OrchestrationInstance, RuntimeStatus

T0 = datetime(2024, 5, 1, 10, 0, 4, 123456, tzinfo=UTC)


def _same(a: object, b: object) -> bool:
    """JSON equality where NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("stored", [
    None, "", '{"a": [1, 2.5, "caf\\u00e9", null]}', '"a string"', "42", "not json at all", "NaN",
    '{"n": NaN}', '"\\ud800"', "bad \ud800 text", "123456789012345678901234567890", '  {"padded": true}  ',
    '{"emoji": "\U0001f600", "nested": {"deep": [[[]]]}}',
])
@pytest.mark.parametrize("show_input", [True, False])
def test_status_body_is_the_json_of_the_status_payload(stored, show_input):
    instance = OrchestrationInstance(
        instance_id="id-1", name="orch", execution_id="e", runtime_status=RuntimeStatus.COMPLETED,
        created_time=T0, last_updated_time=T0, input=stored, output=stored, custom_status=stored,
    )
    expected = json.loads(json.dumps(status_payload(instance, show_input=show_input)))
    assert _same(json.loads(status_body(instance, show_input=show_input)), expected)


def test_the_client_binding_is_built_once_per_origin():
    first = client_binding_json("http://h:1", "Hub", "http://127.0.0.1:1/durabletask/", None)
    assert client_binding_json("http://h:1", "Hub", "http://127.0.0.1:1/durabletask/", None) is first
    other = json.loads(client_binding_json("http://other:1", "Hub", "http://127.0.0.1:1/durabletask/", "k"))
    assert other["baseUrl"] == "http://other:1/runtime/webhooks/durabletask"
    assert other["requiredQueryStringParameters"] == "code=k"
