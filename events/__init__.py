"""Workflows started by events, and the events workflows publish.

* :mod:`events.inbox`: a blob in the ``inbox`` container starts a workflow on its text;
* :mod:`events.requests`: a message on the ``workflow-requests`` queue starts a workflow;
* :mod:`events.lifecycle`: every workflow that ends is published once to ``workflow-events``
  (registered when the app has storage to publish to: ``BATON_STORAGE`` or ``AzureWebJobsStorage``).
"""

from . import inbox, lifecycle, requests


def blueprints() -> list:
    """The blueprints to register; the lifecycle publisher only when the app has storage (read at app load)."""
    return [inbox.bp, requests.bp, *([lifecycle.bp] if lifecycle.enabled() else [])]

__all__ = ["blueprints"]
