"""The ``azure-openai`` backend: ``AsyncAzureOpenAI`` authenticated with Entra ID, never a key.

Tokens come from ``DefaultAzureCredential`` (``managed_identity_client_id`` from
``AZURE_CLIENT_ID`` for a user-assigned identity) through ``get_bearer_token_provider`` for
the Cognitive Services scope.

Seam: set :data:`token_provider` to any ``() -> str | Awaitable[str]`` to supply tokens
yourself (tests, custom auth); it is called on every request, like the default one.
Every token handed out is registered with :mod:`agents.llm.redact`, so it is masked
wherever it might appear in a message.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import openai

from ..settings import AZURE_OPENAI, Settings
from .chat import ChatBackend, http_client, pool
from .errors import PermanentAgentError
from .redact import register_secret

SCOPE = "https://cognitiveservices.azure.com/.default"

TokenProvider = Callable[[], "str | Awaitable[str]"]
token_provider: TokenProvider | None = None
"""When set, used instead of ``DefaultAzureCredential``."""

_credentials: dict[str | None, TokenProvider] = {}


def backend(settings: Settings) -> ChatBackend:
    if not settings.azure_endpoint:
        raise PermanentAgentError("the azure-openai backend needs AZURE_OPENAI_ENDPOINT", kind="config")
    if not settings.azure_deployment:
        raise PermanentAgentError(
            "AZURE_OPENAI_ENDPOINT is set but AZURE_OPENAI_DEPLOYMENT is not", kind="config"
        )
    provider = token_provider or _default_provider(settings.azure_client_id)
    key = (
        AZURE_OPENAI, settings.azure_endpoint, settings.azure_deployment, settings.azure_api_version,
        settings.timeout_seconds, settings.client_retries, id(provider),
    )

    def make() -> openai.AsyncAzureOpenAI:
        return openai.AsyncAzureOpenAI(
            azure_endpoint=settings.azure_endpoint,
            azure_deployment=settings.azure_deployment,
            api_version=settings.azure_api_version,
            azure_ad_token_provider=_remembering(provider),
            timeout=settings.timeout_seconds,
            max_retries=settings.client_retries,
            http_client=http_client(),
        )

    return ChatBackend.configured(AZURE_OPENAI, settings.azure_deployment, pool.get(key, make), settings)


def _default_provider(client_id: str | None) -> TokenProvider:
    """One credential per managed identity, created on first use."""
    provider = _credentials.get(client_id)
    if provider is None:
        from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider

        credential = DefaultAzureCredential(managed_identity_client_id=client_id) if client_id else (
            DefaultAzureCredential()
        )
        provider = _credentials[client_id] = get_bearer_token_provider(credential, SCOPE)
    return provider


def _remembering(provider: TokenProvider) -> Callable[[], Awaitable[str]]:
    async def provide() -> str:
        token = provider()
        if inspect.isawaitable(token):
            token = await token
        register_secret(token)
        return token

    return provide
