"""Instances this host ran to their end: the final state, for status reads shortly after.

A client that polls an instance until it ends reads it once more after its last checkpoint.
The cached state of a terminal instance is dropped once that checkpoint's follow-up is done
(anything that still comes reads it again), so without this that last read would be a row
read.  What is kept is a copy of the instance as the sentinel has it, for ``seconds`` (a
purge or a new start through this host forgets it at once; one by another process is seen
within that time), and at most ``size`` of them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from time import monotonic

from ..base import OrchestrationInstance


class Ended:
    def __init__(self, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._kept: OrderedDict[str, tuple[float, OrchestrationInstance]] = OrderedDict()

    def keep(self, instance: OrchestrationInstance) -> None:
        if self.seconds <= 0 or self.size <= 0:
            return
        self._kept[instance.instance_id] = (monotonic() + self.seconds, replace(instance))
        self._kept.move_to_end(instance.instance_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def get(self, instance_id: str) -> OrchestrationInstance | None:
        """A copy of the ended instance, unless it is unknown or kept too long."""
        kept = self._kept.get(instance_id)
        if kept is None:
            return None
        if kept[0] < monotonic():
            del self._kept[instance_id]
            return None
        return replace(kept[1])

    def forget(self, instance_id: str) -> None:
        self._kept.pop(instance_id, None)
