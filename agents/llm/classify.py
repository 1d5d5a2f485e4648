"""Map what the openai client (or the token provider) raised onto the agent error tree.

=====================================  ===========================================
timeout, connection error               ``TransientAgentError`` (timeout / connection)
429 (``insufficient_quota``: permanent)  ``TransientAgentError`` (rate_limited), with Retry-After
408, 409, 5xx                           ``TransientAgentError`` (server_error)
garbled response body                   ``TransientAgentError`` (bad_response)
400 ``content_filter``                  ``PermanentAgentError`` (content_filter)
400, 422, other 4xx                     ``PermanentAgentError`` (bad_request)
401, 403, credential failures           ``PermanentAgentError`` (auth)
404 (missing model or deployment)       ``PermanentAgentError`` (not_found)
=====================================  ===========================================
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import openai
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

from .errors import AgentError, PermanentAgentError, TransientAgentError

_MAX_MESSAGE = 400


def classify(exc: BaseException, agent: str | None = None, host: str | None = None) -> AgentError | None:
    """The agent error for ``exc``, or ``None`` when it is not an LLM/credential failure.

    ``host`` (the model endpoint's host and port, never a key) is named in failures of the endpoint.
    """
    if isinstance(exc, AgentError):
        return exc
    at = f" at {host}" if host else ""
    if isinstance(exc, TimeoutError | openai.APITimeoutError) and _os_error(exc) is None:
        return TransientAgentError(f"the model{at} did not answer in time", kind="timeout", agent=agent)
    if isinstance(exc, openai.APIConnectionError):
        return TransientAgentError(f"connection to the model{at} failed: {_cause(exc)}", kind="connection",
                                   agent=agent)
    if isinstance(exc, openai.APIResponseValidationError):
        return TransientAgentError(f"the model{at} sent a malformed response", kind="bad_response", agent=agent)
    if isinstance(exc, openai.APIStatusError):
        return _from_status(exc, agent, at)
    if isinstance(exc, ClientAuthenticationError):
        return PermanentAgentError(f"no Entra ID token: {_first_line(exc)}", kind="auth", agent=agent)
    if isinstance(exc, ServiceRequestError):
        return TransientAgentError(f"token request failed: {_first_line(exc)}", kind="connection", agent=agent)
    if isinstance(exc, openai.OpenAIError):
        return PermanentAgentError(f"{type(exc).__name__}: {_first_line(exc)}", kind="client", agent=agent)
    return None


def _from_status(exc: openai.APIStatusError, agent: str | None, at: str = "") -> AgentError:
    status = exc.status_code
    code, message = _error_body(exc.body)
    detail = f"HTTP {status}" + (f" {code}" if code else "") + at + (f": {message}" if message else "")
    request_id = exc.response.headers.get("x-request-id") or exc.response.headers.get("apim-request-id")
    if request_id:
        detail += f" (request id {request_id})"
    if status == 429:
        if code == "insufficient_quota":
            return PermanentAgentError(detail, kind="quota", agent=agent, status=status)
        return TransientAgentError(
            detail, kind="rate_limited", agent=agent, status=status, retry_after=retry_after_seconds(exc.response)
        )
    if status in (408, 409) or status >= 500:
        return TransientAgentError(detail, kind="server_error", agent=agent, status=status)
    if status == 400 and _is_content_filter(code, exc.body):
        return PermanentAgentError(detail, kind="content_filter", agent=agent, status=status)
    if status in (401, 403):
        return PermanentAgentError(detail, kind="auth", agent=agent, status=status)
    if status == 404:
        return PermanentAgentError(detail, kind="not_found", agent=agent, status=status)
    return PermanentAgentError(detail, kind="bad_request", agent=agent, status=status)


def retry_after_seconds(response: Any) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, else ``retry-after`` (seconds or a date)."""
    headers = getattr(response, "headers", None) or {}
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _error_body(body: object) -> tuple[str | None, str | None]:
    """``(code, message)`` from an OpenAI / Azure error body."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if not isinstance(body, dict):
        return None, (_first_line(body)[:_MAX_MESSAGE] if body else None)
    code = body.get("code") or body.get("type")
    message = body.get("message")
    return (str(code) if code else None), (str(message)[:_MAX_MESSAGE] if message else None)


def _is_content_filter(code: str | None, body: object) -> bool:
    if code == "content_filter":
        return True
    text = str(body)
    return "content_filter" in text or "ResponsibleAIPolicyViolation" in text


def _os_error(exc: BaseException) -> BaseException | None:
    """The ``OSError`` (not a timeout) under ``exc``, if any: the SDK's aiohttp transport reports a
    refused connection as a connect timeout, and this says it was a failed connection."""
    seen: set[int] = set()
    link: BaseException | None = exc.__cause__ or exc.__context__
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, OSError) and not isinstance(link, TimeoutError):
            return link
        link = link.__cause__ or link.__context__
    return None


def _cause(exc: BaseException) -> str:
    cause = _os_error(exc) or exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause else _first_line(exc)


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
