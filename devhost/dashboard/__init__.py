"""The devhost dashboard: instances, their history, timeline and graph, and entities, in a browser.

Served by the host under ``/_devhost/`` (server-rendered HTML, a little plain JavaScript, no
build step and nothing from a CDN).  It reads through the store's query and history methods
and acts through the task hub client, so it works for any Durable Functions app and store.
"""

from .routes import setup_dashboard
from .state import DASHBOARD_PATH

__all__ = ["DASHBOARD_PATH", "setup_dashboard"]
