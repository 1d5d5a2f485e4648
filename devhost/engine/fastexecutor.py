"""The SDK's per-replay setup, made once.

``azure-functions-durable`` builds a new ``TaskOrchestrationExecutor`` for every replay, and
its constructor defines a ``namedtuple`` class each time (about 0.15 ms: 3% of devhost's CPU
with 100 workflows at once).  :func:`install` gives that module a ``namedtuple`` that builds
each class once and returns it again for the same name and fields; the executor uses the
class only for its own lookup table, so replays are unchanged
(``tests/devhost/test_fastexecutor.py``).
"""

from __future__ import annotations

import collections
import functools
import importlib
from typing import Any

_SDK_MODULE = "azure.durable_functions.models.TaskOrchestrationExecutor"


@functools.lru_cache(maxsize=64)
def _class(typename: str, field_names: tuple[str, ...]) -> type:
    return collections.namedtuple(typename, field_names)


def namedtuple(typename: str, field_names: Any, **options: Any) -> type:
    """``collections.namedtuple``, the class made once per ``(typename, field_names)``."""
    if options or not isinstance(field_names, tuple | list):
        return collections.namedtuple(typename, field_names, **options)
    return _class(typename, tuple(field_names))


def install() -> None:
    """Point the SDK's executor module at :func:`namedtuple` (idempotent, process-wide)."""
    module = importlib.import_module(_SDK_MODULE)
    module.namedtuple = namedtuple  # type: ignore[attr-defined]
