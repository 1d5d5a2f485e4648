"""Where an orchestrator replay runs: on the host's loop, or on a worker thread.

The Python worker runs a synchronous function (an orchestrator's handle is one) on a thread
of its pool.  In devhost that thread shares one interpreter lock with the host's loop, so a
replay does not run beside the loop anyway, and the two hand-offs cost more than a small
replay (measured: about 10% of the host's CPU with 100 workflows at once).  So a replay runs
on the loop while its context is small (``inline_max_chars``) and its orchestrator has never
been slow; one that takes longer than ``slow_seconds`` (a large history, or user code that
blocks) sends that orchestrator's replays to the pool from then on, so the loop keeps
serving.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger("devhost.orchestration")


@dataclass
class ReplayPlacement:
    inline_max_chars: int = 200_000
    slow_seconds: float = 0.05
    slow: set[str] = field(default_factory=set)

    def inline(self, name: str, context_chars: int) -> bool:
        """Whether this replay runs on the loop."""
        return context_chars <= self.inline_max_chars and name.lower() not in self.slow

    def observe(self, name: str, seconds: float) -> None:
        """An inline replay of ``name`` took ``seconds``: too long, and the next go to the pool."""
        if seconds > self.slow_seconds and name.lower() not in self.slow:
            self.slow.add(name.lower())
            log.info("a replay of orchestrator '%s' took %.0f ms; its replays run on a worker thread from now on "
                     "so the host keeps serving meanwhile", name, seconds * 1000)
