"""The azure-openai backend end to end: the real AsyncAzureOpenAI client, Entra ID tokens, Azure paths."""

from __future__ import annotations

import pytest

from agents.analyze import NAME as ANALYZE
from agents.llm import PermanentAgentError, azure
from agents.llm.gateway import complete
from agents.registry import AGENTS
from agents.summarize import NAME as SUMMARIZE
from tests.agents.texts import ANALYSIS, SUMMARY, documents_payload
from tests.fakes import Reply
from tests.fakes.fixtures import FAKE_ENTRA_TOKEN


async def test_requests_go_to_the_deployment_with_a_bearer_token_and_no_key(azure_backend):
    azure_backend.script(Reply.json(ANALYSIS, usage=(900, 100)))
    result = await complete(AGENTS[ANALYZE], documents_payload())
    request = azure_backend.requests[0]
    assert request.path == "/openai/deployments/chat/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}
    assert request.bearer_token == FAKE_ENTRA_TOKEN
    assert "api-key" not in request.headers
    assert request.body["max_completion_tokens"] == AGENTS[ANALYZE].max_output_tokens
    assert (result.backend, result.model) == ("azure-openai", "chat")
    assert result.output["key_points"] == ANALYSIS["key_points"]


async def test_cost_uses_the_model_azure_reports_behind_the_deployment(azure_backend):
    azure_backend.response_model = "gpt-4o-mini-2024-07-18"
    azure_backend.script(Reply.json(SUMMARY, usage=(2000, 400)))
    result = await complete(AGENTS[SUMMARIZE], documents_payload())
    assert result.model == "gpt-4o-mini-2024-07-18"
    assert result.cost_usd == pytest.approx((2000 * 0.15 + 400 * 0.60) / 1e6)


async def test_the_token_provider_is_asked_on_every_request_and_may_be_async(azure_backend, agent_env):
    issued: list[str] = []

    async def provider() -> str:
        issued.append(f"rotating-token-{len(issued)}")
        return issued[-1]

    agent_env.setattr(azure, "token_provider", provider)
    azure_backend.script(Reply.json(SUMMARY), Reply.json(SUMMARY))
    await complete(AGENTS[SUMMARIZE], documents_payload(text="First text."))
    await complete(AGENTS[SUMMARIZE], documents_payload(text="Second text."))
    assert [r.bearer_token for r in azure_backend.requests] == ["rotating-token-0", "rotating-token-1"]


async def test_missing_deployment_is_permanent(azure_backend, agent_env):
    azure_backend.deployments = {"gpt-4o-prod"}
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "not_found" and "DeploymentNotFound" in str(caught.value)


async def test_content_filter_is_permanent(azure_backend):
    azure_backend.script(Reply.content_filter())
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "content_filter" and caught.value.status == 400


async def test_endpoint_without_deployment_is_a_configuration_error(azure_backend, agent_env):
    agent_env.delenv("AZURE_OPENAI_DEPLOYMENT")
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "config"
    assert azure_backend.requests == []


async def test_azure_wins_over_openai_settings(azure_backend, agent_env):
    for name, value in azure_backend.openai_env().items():
        agent_env.setenv(name, value)
    azure_backend.script(Reply.json(SUMMARY))
    result = await complete(AGENTS[SUMMARIZE], documents_payload())
    assert result.backend == "azure-openai"
    assert azure_backend.requests[0].deployment == "chat"
