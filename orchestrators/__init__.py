"""Workflows: one deterministic orchestrator per module, each on its own blueprint."""

from . import agent_step, approval, parallel, pipeline, results, sequential

blueprints = [sequential.bp, parallel.bp, pipeline.bp, approval.bp, agent_step.bp, results.bp]

__all__ = ["blueprints"]
