"""The errors devhost raises.

Hierarchy::

    DevhostError
    ├── AppLoadError            the app's function_app.py does not import or index
    ├── FunctionNotFound        no orchestrator / activity / entity with that name
    ├── InstanceNotFound        no instance with that id in the task hub
    ├── InstanceAlreadyExists   start with the id of an instance that is still running
    ├── InvalidInstanceState    the operation does not apply in the instance's status
    ├── NonDeterminismError     replay produced actions that do not match history
    ├── StoreError              the task hub store failed (storage SDK errors are wrapped)
    │   └── WorkItemLost        a lock on a work item expired or was taken by another host
    └── AzuriteError            the storage emulator is missing or did not start
"""

from __future__ import annotations


class DevhostError(Exception):
    """Root of every error raised by devhost."""


class AppLoadError(DevhostError):
    """The app could not be imported or indexed; the message names file, line and cause."""


class FunctionNotFound(DevhostError, ValueError):
    """No function of the requested kind is registered under that name."""


class InstanceNotFound(DevhostError, KeyError):
    """No orchestration instance has that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "instance not found"


class InstanceAlreadyExists(DevhostError):
    """An instance with that id exists and is not in a state that may be overwritten."""


class InvalidInstanceState(DevhostError):
    """The requested operation does not apply to the instance in its current status."""


class NonDeterminismError(DevhostError):
    """The orchestrator's actions on replay disagree with its recorded history."""


class StoreError(DevhostError):
    """The task hub store failed; the cause is chained."""


class WorkItemLost(StoreError):
    """A work item's lock expired or another host took it; its effects must not be committed."""


class AzuriteError(DevhostError):
    """Azurite is not installed, or it did not start; the message says how to fix it."""
