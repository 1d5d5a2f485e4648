"""The Functions app: a DFApp that registers the agents, the workflows and the HTTP API.

Every setting is checked here, when the worker indexes the app: with a bad one the app refuses
to start (the indexing error names each bad setting on its own line) rather than failing later,
three retries at a time, inside every workflow. See "Settings" in the README.
"""

import azure.durable_functions as df
import azure.functions as func

import api
from agents import registry as agents
from agents.settings import problems as agent_setting_problems
from api.settings import problems as api_setting_problems
from orchestrators import registry as workflows


class InvalidSettings(ValueError):
    """One or more app settings have values the app cannot use."""


bad_settings = [*agent_setting_problems(), *api_setting_problems()]
if bad_settings:
    raise InvalidSettings("the app refuses to start; fix these settings (local.settings.json or app settings):\n"
                          + "\n".join(f"  {line}" for line in bad_settings))

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (agents.bp, *workflows.blueprints, *api.blueprints):
    app.register_functions(blueprint)
