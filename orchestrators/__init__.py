"""Workflows: one module per workflow (``bp``, ``WORKFLOW``, its orchestrator); see :mod:`orchestrators.registry`."""
