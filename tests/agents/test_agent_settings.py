"""Settings from the environment, prices, and how the backend is chosen."""

from __future__ import annotations

import pytest

from agents.llm import PermanentAgentError
from agents.llm.pricing import BUILTIN_PRICES, Price, cost_usd, parse_prices, price_for
from agents.settings import DEFAULT_TAXONOMY, Settings
from agents.storage import EMULATOR_ACCOUNT, expand_connection_string


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "offline"),
        ({"OPENAI_API_KEY": "sk-abcdefghijklmnop"}, "openai"),
        ({"OPENAI_BASE_URL": "http://localhost:11434/v1"}, "openai"),
        ({"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com", "OPENAI_API_KEY": "sk-abcdefghijkl"}, "azure-openai"),
        ({"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com", "BATON_LLM_BACKEND": "offline"}, "offline"),
    ],
)
def test_backend_follows_what_is_configured(env, backend):
    assert Settings.from_env(env).backend == backend


def test_token_limit_parameter_depends_on_the_server():
    assert Settings.from_env({"OPENAI_BASE_URL": "http://localhost:11434/v1"}).token_param == "max_tokens"
    assert Settings.from_env({"OPENAI_API_KEY": "sk-abcdefghijkl"}).token_param == "max_completion_tokens"
    env = {"AZURE_OPENAI_ENDPOINT": "https://x", "BATON_MAX_TOKENS_PARAM": "max_tokens"}
    assert Settings.from_env(env).token_param == "max_tokens"


def test_defaults_and_overrides():
    default = Settings.from_env({})
    assert (default.timeout_seconds, default.client_retries, default.cache_enabled) == (60.0, 0, True)
    assert default.taxonomy == DEFAULT_TAXONOMY and default.inline_bundle_bytes == 32768
    custom = Settings.from_env({"BATON_TAXONOMY": "news, sports ,news", "BATON_CACHE": "off",
                                "BATON_LLM_TIMEOUT_SECONDS": "5"})
    assert custom.taxonomy == ("news", "sports") and custom.cache_enabled is False and custom.timeout_seconds == 5
    assert Settings.from_env({"BATON_TAXONOMY": '["A", "B"]'}).taxonomy == ("A", "B")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BATON_LLM_TIMEOUT_SECONDS": "soon"}, "BATON_LLM_TIMEOUT_SECONDS must be a number"),
        ({"BATON_CACHE": "maybe"}, "BATON_CACHE must be on or off"),
        ({"BATON_TAXONOMY": "only"}, "at least two categories"),
        ({"BATON_PRICES": '{"m": {"input": 1}}'}, "BATON_PRICES['m']"),
        ({"BATON_RESPONSE_FORMAT": "xml"}, "BATON_RESPONSE_FORMAT must be one of"),
    ],
)
def test_bad_settings_are_permanent_configuration_errors(env, message):
    with pytest.raises(PermanentAgentError) as caught:
        Settings.from_env(env)
    assert caught.value.kind == "config" and message in str(caught.value)


def test_identity_based_storage_settings():
    storage = Settings.from_env({"AzureWebJobsStorage__accountName": "acct", "AzureWebJobsStorage__clientId": "id-1"})
    assert storage.storage.blob_service_uri == "https://acct.blob.core.windows.net"
    assert storage.storage.client_id == "id-1" and storage.storage.configured


def test_development_storage_expands_to_azurite():
    expanded = expand_connection_string("UseDevelopmentStorage=true")
    assert f"AccountName={EMULATOR_ACCOUNT}" in expanded
    assert "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1" in expanded
    assert expand_connection_string("DefaultEndpointsProtocol=https;AccountName=a") == (
        "DefaultEndpointsProtocol=https;AccountName=a"
    )


def test_prices_match_by_longest_prefix_and_can_be_overridden():
    table = parse_prices('{"My-Model": [1, 2], "gpt-4o": {"input": 3, "output": 4}}')
    assert price_for(["gpt-4o-mini-2024-07-18"], table) == BUILTIN_PRICES["gpt-4o-mini"]
    assert price_for(["gpt-4o-2024-08-06"], table) == Price(3, 4)
    assert price_for(["my-model"], table) == Price(1, 2)
    assert price_for([None, "unknown", "gpt-4.1-mini"], table) == BUILTIN_PRICES["gpt-4.1-mini"]
    assert price_for(["unknown"], table) is None
    assert cost_usd(Price(2.0, 8.0), 1_000_000, 500_000) == 6.0 and cost_usd(None, 1, 1) is None
