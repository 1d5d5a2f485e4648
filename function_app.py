"""The Functions app: a DFApp that registers the agents, the workflows and the HTTP API."""

import azure.durable_functions as df
import azure.functions as func

import agents
import api
import orchestrators

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (agents.bp, *orchestrators.blueprints, *api.blueprints):
    app.register_functions(blueprint)
