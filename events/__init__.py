"""Workflows started by events, and the events workflows publish.

* :mod:`events.inbox`: a blob in the ``inbox`` container starts a workflow on its text;
* :mod:`events.requests`: a message on the ``workflow-requests`` queue starts a workflow;
* :mod:`events.lifecycle`: every workflow that ends is published once to ``workflow-events``
  (registered when ``BATON_EVENTS_QUEUE`` names the queue).
"""

from . import inbox, lifecycle, requests


def blueprints() -> list:
    """The blueprints to register; the lifecycle publisher only when ``BATON_EVENTS_QUEUE`` is set."""
    return [inbox.bp, requests.bp, *([lifecycle.bp] if lifecycle.enabled() else [])]

__all__ = ["blueprints"]
