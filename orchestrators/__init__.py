"""Workflows: one deterministic orchestrator per module, each on its own blueprint."""

from . import approval, parallel, pipeline, results, sequential

blueprints = [sequential.bp, parallel.bp, pipeline.bp, approval.bp, results.bp]

__all__ = ["blueprints"]
