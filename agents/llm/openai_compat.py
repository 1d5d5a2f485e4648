"""The ``openai`` backend: ``AsyncOpenAI`` against OpenAI or any compatible server (Ollama, vLLM).

``OPENAI_BASE_URL`` picks the server (default: OpenAI), ``OPENAI_API_KEY`` the key (servers
that need none get a placeholder), ``OPENAI_MODEL`` the model.
"""

from __future__ import annotations

import hashlib

import openai

from ..settings import OPENAI, Settings
from .chat import ChatBackend, http_client, pool

_NO_KEY = "no-key"


def backend(settings: Settings) -> ChatBackend:
    key_id = hashlib.sha256((settings.openai_api_key or "").encode()).hexdigest()[:16]
    key = (OPENAI, settings.openai_base_url, key_id, settings.timeout_seconds, settings.client_retries)

    def make() -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key or _NO_KEY,
            timeout=settings.timeout_seconds,
            max_retries=settings.client_retries,
            http_client=http_client(),
        )

    return ChatBackend.configured(OPENAI, settings.openai_model, pool.get(key, make), settings)
