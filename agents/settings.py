"""Settings of the agents layer, read from environment variables at call time.

=====================================  ==========================================================
``AZURE_OPENAI_ENDPOINT``               Azure OpenAI endpoint; with ``AZURE_OPENAI_DEPLOYMENT`` it
                                        selects the ``azure-openai`` backend (Entra ID, no keys)
``AZURE_OPENAI_API_VERSION``            default ``2024-10-21``
``AZURE_CLIENT_ID``                     client id of a user-assigned managed identity (optional)
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``  either selects the ``openai`` backend (any compatible server)
``OPENAI_MODEL``                        default ``gpt-4o-mini``
``BATON_LLM_BACKEND``                   ``auto`` (default) or force ``azure-openai``/``openai``/``offline``
``BATON_LLM_TIMEOUT_SECONDS``           per LLM request, default 60
``BATON_LLM_CLIENT_RETRIES``            retries inside the openai client, default 0 (Durable retries)
``BATON_RETRY_AFTER_MAX_SECONDS``       longest ``Retry-After`` honoured by sleeping, default 20
``BATON_RESPONSE_FORMAT``               ``strict`` (default: the SDK's strict JSON schema), or for servers
                                        without strict mode ``json_schema``, ``json_object``, ``none``
``BATON_MAX_TOKENS_PARAM``              ``max_completion_tokens`` or ``max_tokens`` (default: by backend)
``BATON_PRICES``                        JSON price overrides, see :mod:`agents.llm.pricing`
``BATON_TAXONOMY``                      default categories, JSON list or comma-separated
``BATON_SUMMARY_WORDS``                 default summary word budget, default 80
``BATON_MAX_INPUT_CHARS``               document text sent to an LLM is cut here, default 120000
``BATON_CACHE``                         ``on`` (default) / ``off``: result cache in Blob storage
``BATON_CACHE_CONTAINER``               default ``baton-cache``
``BATON_BUNDLE_CONTAINER``              default ``baton-bundles``
``BATON_INLINE_BUNDLE_BYTES``           larger bundles go to Blob storage, default 32768
``BATON_FAILURE_CACHE_SECONDS``         how long a permanent failure is remembered, default 120
``BATON_STORAGE``                       the app's own blobs (documents, cache, bundles, results): a
                                        connection string, or identity-based ``BATON_STORAGE__blobServiceUri``
                                        / ``__accountName`` (+ ``__credential=managedidentity``, ``__clientId``);
                                        unset: ``AzureWebJobsStorage`` (same forms), the host's storage
=====================================  ==========================================================
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .llm.errors import PermanentAgentError
from .llm.pricing import Price, parse_prices
from .llm.redact import register_secret

AZURE_OPENAI = "azure-openai"
OPENAI = "openai"
OFFLINE = "offline"
BACKENDS = (AZURE_OPENAI, OPENAI, OFFLINE)
APP_STORAGE = "BATON_STORAGE"
HOST_STORAGE = "AzureWebJobsStorage"

DEFAULT_TAXONOMY = (
    "finance", "technology", "healthcare", "legal", "marketing",
    "human resources", "operations", "customer feedback", "other",
)
DEFAULT_AZURE_API_VERSION = "2024-10-21"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
RESPONSE_FORMATS = ("strict", "json_schema", "json_object", "none")
TOKEN_PARAMS = ("max_completion_tokens", "max_tokens")


@dataclass(frozen=True)
class StorageSettings:
    """Where the app's Blob storage is: a connection string or an identity-based endpoint."""

    connection_string: str | None = field(default=None, repr=False)
    blob_service_uri: str | None = None
    client_id: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.connection_string or self.blob_service_uri)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StorageSettings:
        """``BATON_STORAGE`` (or its ``__`` settings) when set, else ``AzureWebJobsStorage``."""
        own = any(v for k, v in env.items() if k == APP_STORAGE or k.startswith(f"{APP_STORAGE}__"))
        prefix = APP_STORAGE if own else HOST_STORAGE
        uri = env.get(f"{prefix}__blobServiceUri") or env.get(f"{prefix}__serviceUri")
        account = env.get(f"{prefix}__accountName")
        if not uri and account:
            uri = f"https://{account}.blob.core.windows.net"
        connection = env.get(prefix) or None
        if connection:
            register_secret(_account_key(connection))
        return cls(connection, uri or None, env.get(f"{prefix}__clientId") or None)


@dataclass(frozen=True)
class Settings:
    """Everything the agents read from the environment; build with :meth:`from_env`."""

    backend_choice: str = "auto"
    azure_endpoint: str | None = None
    azure_deployment: str | None = None
    azure_api_version: str = DEFAULT_AZURE_API_VERSION
    azure_client_id: str | None = None
    openai_base_url: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    openai_model: str = DEFAULT_OPENAI_MODEL
    timeout_seconds: float = 60.0
    client_retries: int = 0
    retry_after_cap_seconds: float = 20.0
    response_format: str = "strict"
    max_tokens_param: str | None = None
    prices: Mapping[str, Price] = field(default_factory=lambda: parse_prices(None), repr=False)
    taxonomy: tuple[str, ...] = DEFAULT_TAXONOMY
    summary_words: int = 80
    max_input_chars: int = 120_000
    cache_enabled: bool = True
    cache_container: str = "baton-cache"
    bundle_container: str = "baton-bundles"
    inline_bundle_bytes: int = 32 * 1024
    failure_cache_seconds: float = 120.0
    storage: StorageSettings = field(default_factory=StorageSettings)

    @property
    def backend(self) -> str:
        """``azure-openai``, ``openai`` or ``offline``, from what is configured."""
        if self.backend_choice != "auto":
            return self.backend_choice
        if self.azure_endpoint:
            return AZURE_OPENAI
        if self.openai_base_url or self.openai_api_key:
            return OPENAI
        return OFFLINE

    @property
    def token_param(self) -> str:
        """The request field that carries the output token limit."""
        if self.max_tokens_param:
            return self.max_tokens_param
        return "max_tokens" if self.backend == OPENAI and self.openai_base_url else "max_completion_tokens"

    def offline(self) -> Settings:
        """The same settings with the offline backend forced."""
        return replace(self, backend_choice=OFFLINE)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings now (tests change the environment between calls)."""
        env = os.environ if environ is None else environ
        api_key = env.get("OPENAI_API_KEY") or None
        register_secret(api_key)
        try:
            return cls(
                backend_choice=_choice(env, "BATON_LLM_BACKEND", ("auto", *BACKENDS), "auto"),
                azure_endpoint=env.get("AZURE_OPENAI_ENDPOINT") or None,
                azure_deployment=env.get("AZURE_OPENAI_DEPLOYMENT") or None,
                azure_api_version=env.get("AZURE_OPENAI_API_VERSION") or DEFAULT_AZURE_API_VERSION,
                azure_client_id=env.get("AZURE_CLIENT_ID") or None,
                openai_base_url=env.get("OPENAI_BASE_URL") or None,
                openai_api_key=api_key,
                openai_model=env.get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
                timeout_seconds=_number(env, "BATON_LLM_TIMEOUT_SECONDS", 60.0, minimum=0.01),
                client_retries=int(_number(env, "BATON_LLM_CLIENT_RETRIES", 0, minimum=0)),
                retry_after_cap_seconds=_number(env, "BATON_RETRY_AFTER_MAX_SECONDS", 20.0, minimum=0),
                response_format=_choice(env, "BATON_RESPONSE_FORMAT", RESPONSE_FORMATS, "strict"),
                max_tokens_param=_choice(env, "BATON_MAX_TOKENS_PARAM", TOKEN_PARAMS, None),
                prices=parse_prices(env.get("BATON_PRICES")),
                taxonomy=_taxonomy(env.get("BATON_TAXONOMY")),
                summary_words=int(_number(env, "BATON_SUMMARY_WORDS", 80, minimum=5)),
                max_input_chars=int(_number(env, "BATON_MAX_INPUT_CHARS", 120_000, minimum=1000)),
                cache_enabled=_switch(env, "BATON_CACHE", True),
                cache_container=env.get("BATON_CACHE_CONTAINER") or "baton-cache",
                bundle_container=env.get("BATON_BUNDLE_CONTAINER") or "baton-bundles",
                inline_bundle_bytes=int(_number(env, "BATON_INLINE_BUNDLE_BYTES", 32 * 1024, minimum=1024)),
                failure_cache_seconds=_number(env, "BATON_FAILURE_CACHE_SECONDS", 120.0, minimum=0),
                storage=StorageSettings.from_env(env),
            )
        except ValueError as exc:
            raise PermanentAgentError(str(exc), kind="config") from exc


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {text!r}")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str | None) -> str:
    text = (env.get(name) or "").strip().lower()
    if not text:
        return default  # type: ignore[return-value]
    if text not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {text!r}")
    return text


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = (env.get(name) or "").strip().lower()
    if not text:
        return default
    if text in ("on", "true", "1", "yes"):
        return True
    if text in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{name} must be on or off, got {text!r}")


def _taxonomy(text: str | None) -> tuple[str, ...]:
    if not text or not text.strip():
        return DEFAULT_TAXONOMY
    stripped = text.strip()
    labels = json.loads(stripped) if stripped.startswith("[") else stripped.split(",")
    cleaned = tuple(dict.fromkeys(str(label).strip() for label in labels if str(label).strip()))
    if len(cleaned) < 2:
        raise ValueError("BATON_TAXONOMY needs at least two categories")
    return cleaned


def _account_key(connection_string: str) -> str | None:
    for part in connection_string.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "accountkey":
            return value.strip()
    return None
