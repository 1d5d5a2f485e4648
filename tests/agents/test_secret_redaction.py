"""Secrets and bearer tokens never reach logs, results or exception messages."""

from __future__ import annotations

import logging

import pytest

from agents.llm import PermanentAgentError
from agents.llm.gateway import complete
from agents.llm.redact import redact, register_secret
from agents.registry import AGENTS
from agents.settings import Settings
from agents.summarize import NAME as SUMMARIZE
from tests.agents.texts import SUMMARY, documents_payload
from tests.fakes import Reply
from tests.fakes.fixtures import FAKE_ENTRA_TOKEN

API_KEY = "sk-live-SECRETKEY-4c1d9e8f7a6b5c4d"


async def test_api_key_echoed_by_the_server_is_masked_everywhere(openai_backend, agent_env, caplog):
    agent_env.setenv("OPENAI_API_KEY", API_KEY)
    caplog.set_level(logging.DEBUG)
    openai_backend.script(Reply.error(401, "invalid_api_key", f"Incorrect API key provided: {API_KEY}."))
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert openai_backend.requests[0].bearer_token == API_KEY  # it was really sent ...
    assert API_KEY not in str(caught.value) and "***" in str(caught.value)  # ... and never repeated
    assert API_KEY not in caplog.text
    assert "Incorrect API key provided" in str(caught.value)


async def test_entra_token_is_masked_in_logs_and_errors(azure_backend, caplog):
    caplog.set_level(logging.DEBUG)
    azure_backend.script(
        Reply.error(403, "PermissionDenied", f"Token {FAKE_ENTRA_TOKEN} lacks the role"), Reply.json(SUMMARY)
    )
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    result = await complete(AGENTS[SUMMARIZE], documents_payload(text="Another text."))
    assert azure_backend.requests[0].bearer_token == FAKE_ENTRA_TOKEN
    assert FAKE_ENTRA_TOKEN not in str(caught.value)
    assert FAKE_ENTRA_TOKEN not in caplog.text
    assert FAKE_ENTRA_TOKEN not in result.model_dump_json()
    assert "[instance=" in caplog.text  # the gateway did log


def test_settings_repr_hides_keys(agent_env):
    agent_env.setenv("OPENAI_API_KEY", API_KEY)
    connection = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5PT0="
    agent_env.setenv("AzureWebJobsStorage", connection)
    text = repr(Settings.from_env())
    assert API_KEY not in text and "c2VjcmV0a2V5PT0=" not in text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        ('{"api-key": "0123456789abcdef"}', "0123456789abcdef"),
        ("AccountName=a;AccountKey=Zm9vYmFyYmF6==;EndpointSuffix=x", "Zm9vYmFyYmF6=="),
        ("https://a.blob.core.windows.net/c/b?sv=1&sig=AbCdEf%2B123", "AbCdEf%2B123"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl here", "eyJhbGciOiJSUzI1NiJ9"),
        ("key sk-proj-abcdefghijklmnop used", "sk-proj-abcdefghijklmnop"),
    ],
)
def test_credential_shaped_text_is_masked(text, secret):
    assert secret not in redact(text)
    assert "***" in redact(text)


def test_registered_secrets_are_masked_and_short_values_ignored():
    register_secret("plain-secret-value-xyz")
    register_secret("abc")
    assert redact("x plain-secret-value-xyz y") == "x *** y"
    assert redact("abc") == "abc"
