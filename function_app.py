"""The Functions app: a DFApp that registers the agents, the workflows and the HTTP API."""

import azure.durable_functions as df
import azure.functions as func

import api
from agents import registry as agents
from orchestrators import registry as workflows

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (agents.bp, *workflows.blueprints, *api.blueprints):
    app.register_functions(blueprint)
