"""The HTTP API of baton: start, inspect, list, approve and terminate workflows."""

from . import control, openapi, workflows

blueprints = [workflows.bp, control.bp, openapi.bp]

__all__ = ["blueprints"]
