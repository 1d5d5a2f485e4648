"""Settings of the agents layer, read from environment variables at call time.

:func:`problems` lists every bad one (the app checks them when it is indexed); :meth:`Settings.from_env`
fails permanently, naming them all, when an agent is called with bad settings.

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

import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar
from urllib.parse import urlsplit

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
T = TypeVar("T")


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
        """The settings the environment holds now (tests change it between calls).

        Every bad setting is reported, one line each, in one permanent ``config`` failure.
        Parsed once per distinct set of values (:func:`read_values`), so every agent call reads
        the environment but does not parse it again.
        """
        env = os.environ if environ is None else environ
        settings, found = read_values(tuple((k, v) for k, v in env.items() if k.startswith(SETTING_PREFIXES)))
        if found:
            raise PermanentAgentError("; ".join(found), kind="config")
        register_secret(settings.openai_api_key)  # again: the redactor keeps only the latest secrets
        register_secret(_account_key(settings.storage.connection_string or ""))
        return settings


SETTING_PREFIXES = ("BATON_", "AZURE_", "OPENAI_", HOST_STORAGE)
"""Every variable :func:`_read` looks at starts with one of these."""


@functools.lru_cache(maxsize=32)
def read_values(values: tuple[tuple[str, str], ...]) -> tuple[Settings, tuple[str, ...]]:
    """The settings and the bad ones, from the relevant variables' ``(name, value)`` pairs."""
    settings, found = _read(dict(values))
    return settings, tuple(found)


def problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """One line per bad agent setting, naming it and what it allows (empty: all good).

    Also what the chosen backend needs and lacks (at call time the backend itself says so).
    """
    env = os.environ if environ is None else environ
    settings, found = _read(env)
    return found + _backend_problems(settings, env)


URL_SETTINGS = ("AZURE_OPENAI_ENDPOINT", "OPENAI_BASE_URL")
CONTAINER_SETTINGS = ("BATON_CACHE_CONTAINER", "BATON_BUNDLE_CONTAINER", "BATON_RESULTS_CONTAINER")
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")
_API_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest|v1)$")
CONTAINER_RULE = "3-63 lower-case letters, digits and single hyphens, starting with a letter or digit"


def _read(env: Mapping[str, str]) -> tuple[Settings, list[str]]:
    """The settings (defaults where a value is bad) and the list of bad ones."""
    found: list[str] = []

    def check(name: str, read: Callable[[], T], default: T) -> T:
        try:
            return read()
        except ValueError as exc:
            found.append(str(exc) if str(exc).startswith(name) else f"{name}: {exc}")
            return default

    api_key = env.get("OPENAI_API_KEY") or None
    register_secret(api_key)
    for name in URL_SETTINGS:
        check(name, lambda name=name: _url(env, name), None)
    for name in (*CONTAINER_SETTINGS, "BATON_INPUT_CONTAINERS"):
        check(name, lambda name=name: _containers(env, name), None)
    check("AZURE_OPENAI_API_VERSION", lambda: _api_version(env), None)
    for name in (APP_STORAGE, HOST_STORAGE):
        check(name, lambda name=name: _connection_string(env, name), None)
    settings = Settings(
        backend_choice=check("BATON_LLM_BACKEND", lambda: _choice(env, "BATON_LLM_BACKEND", ("auto", *BACKENDS),
                                                                  "auto"), "auto"),
        azure_endpoint=env.get("AZURE_OPENAI_ENDPOINT") or None,
        azure_deployment=env.get("AZURE_OPENAI_DEPLOYMENT") or None,
        azure_api_version=env.get("AZURE_OPENAI_API_VERSION") or DEFAULT_AZURE_API_VERSION,
        azure_client_id=env.get("AZURE_CLIENT_ID") or None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        openai_api_key=api_key,
        openai_model=env.get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
        timeout_seconds=check("BATON_LLM_TIMEOUT_SECONDS", lambda: _number(
            env, "BATON_LLM_TIMEOUT_SECONDS", 60.0, minimum=0.01), 60.0),
        client_retries=int(check("BATON_LLM_CLIENT_RETRIES", lambda: _number(
            env, "BATON_LLM_CLIENT_RETRIES", 0, minimum=0, whole=True), 0)),
        retry_after_cap_seconds=check("BATON_RETRY_AFTER_MAX_SECONDS", lambda: _number(
            env, "BATON_RETRY_AFTER_MAX_SECONDS", 20.0, minimum=0), 20.0),
        response_format=check("BATON_RESPONSE_FORMAT", lambda: _choice(
            env, "BATON_RESPONSE_FORMAT", RESPONSE_FORMATS, "strict"), "strict"),
        max_tokens_param=check("BATON_MAX_TOKENS_PARAM", lambda: _choice(
            env, "BATON_MAX_TOKENS_PARAM", TOKEN_PARAMS, None), None),
        prices=check("BATON_PRICES", lambda: _prices(env.get("BATON_PRICES")), parse_prices(None)),
        taxonomy=check("BATON_TAXONOMY", lambda: _taxonomy(env.get("BATON_TAXONOMY")), DEFAULT_TAXONOMY),
        summary_words=int(check("BATON_SUMMARY_WORDS", lambda: _number(
            env, "BATON_SUMMARY_WORDS", 80, minimum=5, whole=True), 80)),
        max_input_chars=int(check("BATON_MAX_INPUT_CHARS", lambda: _number(
            env, "BATON_MAX_INPUT_CHARS", 120_000, minimum=1000, whole=True), 120_000)),
        cache_enabled=check("BATON_CACHE", lambda: _switch(env, "BATON_CACHE", True), True),
        cache_container=env.get("BATON_CACHE_CONTAINER") or "baton-cache",
        bundle_container=env.get("BATON_BUNDLE_CONTAINER") or "baton-bundles",
        inline_bundle_bytes=int(check("BATON_INLINE_BUNDLE_BYTES", lambda: _number(
            env, "BATON_INLINE_BUNDLE_BYTES", 32 * 1024, minimum=1024, whole=True), 32 * 1024)),
        failure_cache_seconds=check("BATON_FAILURE_CACHE_SECONDS", lambda: _number(
            env, "BATON_FAILURE_CACHE_SECONDS", 120.0, minimum=0), 120.0),
        storage=StorageSettings.from_env(env),
    )
    return settings, found


def _backend_problems(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """What the chosen backend needs and is missing."""
    if settings.backend == AZURE_OPENAI:
        why = "BATON_LLM_BACKEND=azure-openai" if settings.backend_choice == AZURE_OPENAI else "AZURE_OPENAI_ENDPOINT"
        missing = [n for n in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT") if not env.get(n)]
        return [f"{name} must be set: {why} selects the azure-openai backend" for name in missing
                if name != why]
    if settings.backend_choice == OPENAI and not (settings.openai_base_url or settings.openai_api_key):
        return ["OPENAI_BASE_URL or OPENAI_API_KEY must be set: BATON_LLM_BACKEND=openai selects the openai backend"]
    return []


def _url(env: Mapping[str, str], name: str) -> None:
    text = (env.get(name) or "").strip()
    if text:
        parsed = urlsplit(text)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"{name} must be an http(s) URL such as https://NAME.openai.azure.com, got {text!r}")


def _api_version(env: Mapping[str, str]) -> None:
    text = (env.get("AZURE_OPENAI_API_VERSION") or "").strip()
    if text and not _API_VERSION.match(text):
        raise ValueError(f"AZURE_OPENAI_API_VERSION must be a version such as {DEFAULT_AZURE_API_VERSION}, "
                         f"2025-01-01-preview, preview or v1, got {text!r}")


def _connection_string(env: Mapping[str, str], name: str) -> None:
    """A connection string's shape (its value is a secret: never echoed)."""
    text = (env.get(name) or "").strip()
    if not text:
        return
    keys = {part.partition("=")[0].strip().lower() for part in text.split(";") if "=" in part}
    if not keys & {"usedevelopmentstorage", "accountname", "blobendpoint"}:
        raise ValueError(f"{name} must be a storage connection string (UseDevelopmentStorage=true, or "
                         "DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...), or be unset in favour "
                         f"of {name}__accountName / __blobServiceUri")


def _containers(env: Mapping[str, str], name: str) -> None:
    for container in (part.strip() for part in (env.get(name) or "").split(",")):
        if container and not _CONTAINER.match(container):
            raise ValueError(f"{name} must name Blob containers ({CONTAINER_RULE}), got {container!r}")


def _prices(text: str | None) -> Mapping[str, Price]:
    try:
        return parse_prices(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"BATON_PRICES must be a JSON object of model -> price: {exc.msg} at column {exc.colno}",
                         ) from None


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float, whole: bool = False) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    kind = "a whole number" if whole else "a number"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be {kind} of at least {minimum:g}, got {text!r}") from None
    if whole and not value.is_integer():
        raise ValueError(f"{name} must be {kind} of at least {minimum:g}, got {text!r}")
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
    try:
        labels = json.loads(stripped) if stripped.startswith("[") else stripped.split(",")
    except json.JSONDecodeError as exc:
        raise ValueError(f"BATON_TAXONOMY must be a JSON list or comma-separated labels: {exc.msg}") from None
    cleaned = tuple(dict.fromkeys(str(label).strip() for label in labels if str(label).strip()))
    if len(cleaned) < 2:
        raise ValueError("BATON_TAXONOMY needs at least two categories (a JSON list or comma-separated labels)")
    return cleaned


def _account_key(connection_string: str) -> str | None:
    for part in connection_string.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "accountkey":
            return value.strip()
    return None
