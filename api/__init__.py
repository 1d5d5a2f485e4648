"""The HTTP API of baton: start, inspect, list, approve and terminate workflows; definitions and graphs."""

from . import control, definitions, openapi, workflows

blueprints = [workflows.bp, control.bp, definitions.bp, openapi.bp]

__all__ = ["blueprints"]
