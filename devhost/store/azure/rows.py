"""Writing an instance's ``Instances`` row after its checkpoint (a follow-up step).

The row follows the checkpoint, whose sentinel holds a snapshot of it, so a row write that
never happened is redone from there.  While an instance runs and only its progress changes
(custom status, last-updated time), its row is written at most every
``row_interval_seconds`` (and at most ``row_writes_per_round`` rows a second): the host that
runs it answers for it from memory, and housekeeping writes what was put off
(:attr:`~.state.InstanceState.row_pending`).  A status change is written at once, so a
sub-orchestration's row is written three times: Pending by its parent, Running, its end.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .hub import Hub
from .instances import RowConflict
from .state import InstanceState

log = logging.getLogger("devhost.store.azure")


def put_off(hub: Hub, state: InstanceState, columns: dict[str, Any]) -> bool:
    """Keep ``columns`` as the pending row instead of writing them now, if only progress
    changed: housekeeping writes it once ``row_interval_seconds`` passed since the last write
    (within its budget of writes per round)."""
    stored = state.row_columns
    if stored is None or stored.get("RuntimeStatus") != columns.get("RuntimeStatus"):
        state.row_pending = None
        return False
    state.row_pending = columns
    due = max(time.monotonic(), state.row_written_at + hub.options.row_interval_seconds)
    state.mark_due = due if state.mark_due is None else min(state.mark_due, due)
    return True



async def write(hub: Hub, state: InstanceState, columns: dict[str, Any]) -> bool:
    """Write the row (if it differs from the stored one); ``False`` when the instance was
    started again or purged meanwhile (its row is left alone)."""
    if state.row_columns == columns:
        return True
    try:
        if state.row_etag is not None:
            etag = await hub.instances.replace(state.instance_id, columns, state.row_etag)
        else:
            etag = await hub.instances.insert(state.instance_id, columns)
    except RowConflict:
        etag = await _behind(hub, state.instance_id, columns)
        if etag is None:
            log.warning("instance %s was started again or purged meanwhile; its row was left alone",
                        state.instance_id)
            return False
        state.row_etag = etag
        return await write(hub, state, columns)
    state.row_etag, state.row_columns = etag, dict(columns)
    state.row_checkpoint = int(columns.get("Checkpoint") or 0)
    state.row_written_at = time.monotonic()
    return True


async def _behind(hub: Hub, instance_id: str, columns: dict[str, Any]) -> str | None:
    """The ETag of the stored row if it is an older checkpoint of the same execution (the
    Pending row a starting client wrote after its start message), else ``None``."""
    found = await hub.instances.get(instance_id)
    if found is None or found[0].get("ExecutionId") != columns.get("ExecutionId"):
        return None
    behind = int(found[0].get("Checkpoint") or 0) < int(columns.get("Checkpoint") or 0)
    return found[1] if behind else None
