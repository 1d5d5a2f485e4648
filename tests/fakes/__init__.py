"""Test doubles that are real servers: reuse them from any test package.

* :mod:`tests.fakes.openai_server` — :class:`FakeOpenAIServer`, an OpenAI / Azure OpenAI
  chat-completions server on 127.0.0.1 with scripted replies and faults.
* :mod:`tests.fakes.fixtures` — pytest fixtures built on it (import them into a conftest).
"""

from .openai_server import FakeOpenAIServer, RecordedRequest, Reply, example_from_schema

__all__ = ["FakeOpenAIServer", "RecordedRequest", "Reply", "example_from_schema"]
