"""The gateway against a real OpenAI-compatible server: structured output, repair, faults, accounting."""

from __future__ import annotations

import dataclasses
import json

import pytest
from openai.lib._parsing._completions import type_to_response_format_param
from pydantic import BaseModel, Field

from agents.analyze import NAME as ANALYZE
from agents.categorize import NAME as CATEGORIZE
from agents.llm import PermanentAgentError, TransientAgentError, chat
from agents.llm.gateway import complete
from agents.registry import AGENTS
from agents.summarize import NAME as SUMMARIZE
from tests.agents.texts import ANALYSIS, CATEGORY, SUMMARY, documents_payload
from tests.fakes import Reply


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Delays the 429 handling asked for (recorded instead of waited)."""
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr(chat, "sleep", record)
    return delays


def durable_message(exc: BaseException) -> str:
    """How the Functions host reports an activity's exception to the orchestrator."""
    return f"Activity function 'x' failed:  {type(exc).__name__}: {exc}"


async def test_valid_reply_becomes_an_accounted_agent_result(openai_backend):
    openai_backend.script(Reply.json(ANALYSIS, usage=(1200, 300)))
    result = await complete(AGENTS[ANALYZE], documents_payload())
    assert result.output["sentiment"] == {"label": "positive", "score": 0.8}
    assert (result.backend, result.model, result.cached, result.llm_requests) == ("openai", "gpt-4o-mini", False, 1)
    assert result.usage.model_dump() == {
        "prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500, "estimated": False,
    }
    assert result.cost_usd == pytest.approx((1200 * 0.15 + 300 * 0.60) / 1e6)
    assert len(openai_backend.requests) == 1


async def test_request_asks_for_the_output_schema_with_the_api_key(openai_backend):
    openai_backend.script(Reply.json(CATEGORY))
    await complete(AGENTS[CATEGORIZE], documents_payload(taxonomy=["finance", "legal"]))
    request = openai_backend.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.bearer_token == "sk-test-fake-key-0000000000"
    body = request.body
    assert body["model"] == "gpt-4o-mini" and body["max_tokens"] == AGENTS[CATEGORIZE].max_output_tokens
    assert body["temperature"] == AGENTS[CATEGORIZE].temperature
    schema = body["response_format"]["json_schema"]
    assert schema["name"] == "Categorization" and schema["strict"] is True
    assert schema["schema"]["properties"]["category"]["enum"] == ["finance", "legal"]
    assert "JSON schema" in body["messages"][0]["content"] and '"finance"' in body["messages"][1]["content"]


async def test_json_object_mode_still_validates(openai_backend, agent_env):
    agent_env.setenv("BATON_RESPONSE_FORMAT", "json_object")
    openai_backend.script(Reply.text("```json\n" + '{"summary": "Revenue grew."}' + "\n```"))
    result = await complete(AGENTS[SUMMARIZE], documents_payload(summary_words=30))
    assert openai_backend.requests[0].body["response_format"] == {"type": "json_object"}
    assert result.output == {"summary": "Revenue grew.", "word_count": 2}


async def test_schema_violation_is_repaired_once_and_usage_is_summed(openai_backend, agent_env):
    agent_env.setenv("BATON_RESPONSE_FORMAT", "json_schema")  # a server without strict mode
    openai_backend.script(
        Reply.json({"key_points": [], "sentiment": {"label": "great", "score": 3}}, usage=(1000, 50)),
        Reply.json(ANALYSIS, usage=(1100, 200)),
    )
    result = await complete(AGENTS[ANALYZE], documents_payload())
    assert result.output["key_points"] == ANALYSIS["key_points"]
    assert len(openai_backend.requests) == 2 and result.llm_requests == 2
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (2100, 250, 2350)
    assert result.cost_usd == pytest.approx((2100 * 0.15 + 250 * 0.60) / 1e6)
    repair = openai_backend.requests[1].messages
    assert repair[-2]["role"] == "assistant" and '"great"' in repair[-2]["content"]
    assert repair[-1]["role"] == "user" and "did not validate" in repair[-1]["content"]
    assert "sentiment.label" in repair[-1]["content"]


async def test_malformed_json_is_repaired(openai_backend, agent_env):
    agent_env.setenv("BATON_RESPONSE_FORMAT", "json_schema")  # a server without strict mode
    openai_backend.script(Reply.text('{"summary": "cut off'), Reply.json(SUMMARY))
    result = await complete(AGENTS[SUMMARIZE], documents_payload(summary_words=40))
    assert result.output["summary"] == SUMMARY["summary"]
    assert "not valid JSON" in openai_backend.requests[1].messages[-1]["content"]


async def test_two_invalid_replies_are_a_permanent_schema_failure(openai_backend, agent_env):
    agent_env.setenv("BATON_RESPONSE_FORMAT", "json_schema")  # a server without strict mode
    openai_backend.script(Reply.text("not json at all"), Reply.json({"summary": ""}))
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "schema"
    assert len(openai_backend.requests) == 2
    assert durable_message(caught.value).startswith("Activity function 'x' failed:  PermanentAgentError: [schema]")


async def test_summary_over_the_word_budget_is_sent_back(openai_backend, agent_env):
    agent_env.setenv("BATON_RESPONSE_FORMAT", "json_schema")  # a server without strict mode
    long = {"summary": " ".join(["word"] * 60)}
    openai_backend.script(Reply.json(long), Reply.json(SUMMARY))
    result = await complete(AGENTS[SUMMARIZE], documents_payload(summary_words=20))
    assert result.output["word_count"] <= 20
    assert "the budget is 20 words" in openai_backend.requests[1].messages[-1]["content"]


async def test_category_outside_the_taxonomy_is_sent_back(openai_backend, agent_env):
    agent_env.setenv("BATON_RESPONSE_FORMAT", "json_schema")  # a server without strict mode
    openai_backend.script(Reply.json({"category": "sports", "confidence": 0.7}), Reply.json(CATEGORY))
    result = await complete(AGENTS[CATEGORIZE], documents_payload(taxonomy=["Finance", "Legal"]))
    assert result.output["category"] == "Finance"  # normalised to the taxonomy's spelling
    assert "is not one of" in openai_backend.requests[1].messages[-1]["content"]


@pytest.mark.parametrize("status", [500, 502, 503, 408])
async def test_server_errors_are_transient_and_sent_once(openai_backend, status):
    openai_backend.script(Reply.server_error(status))
    with pytest.raises(TransientAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "server_error" and caught.value.status == status
    assert len(openai_backend.requests) == 1  # the client does not retry: Durable does


async def test_client_retries_follow_the_setting(openai_backend, agent_env):
    agent_env.setenv("BATON_LLM_CLIENT_RETRIES", "1")
    openai_backend.script(Reply.server_error(503), Reply.json(SUMMARY))
    result = await complete(AGENTS[SUMMARIZE], documents_payload())
    assert result.output["summary"] == SUMMARY["summary"]
    assert len(openai_backend.requests) == 2


async def test_rate_limit_waits_for_retry_after_then_raises_transient(openai_backend, slept):
    openai_backend.script(Reply.rate_limited(retry_after=7))
    with pytest.raises(TransientAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "rate_limited" and caught.value.retry_after == 7
    assert slept == [7]
    assert len(openai_backend.requests) == 1


async def test_retry_after_is_capped_and_milliseconds_win(openai_backend, slept, agent_env):
    agent_env.setenv("BATON_RETRY_AFTER_MAX_SECONDS", "2")
    openai_backend.script(Reply.rate_limited(retry_after=30), Reply.rate_limited(retry_after=9, retry_after_ms=1500))
    for _ in range(2):
        with pytest.raises(TransientAgentError):
            await complete(AGENTS[SUMMARIZE], documents_payload())
    assert slept == [2, 1.5]


async def test_rate_limit_without_retry_after_does_not_wait(openai_backend, slept):
    openai_backend.script(Reply.rate_limited(retry_after=None))
    with pytest.raises(TransientAgentError):
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert slept == []


async def test_exhausted_quota_is_permanent(openai_backend, slept):
    openai_backend.script(Reply.error(429, "insufficient_quota", "You exceeded your current quota."))
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "quota" and slept == []


async def test_a_hanging_server_times_out_as_transient(openai_backend, agent_env):
    agent_env.setenv("BATON_LLM_TIMEOUT_SECONDS", "0.3")
    openai_backend.script(Reply.hang_forever())
    with pytest.raises(TransientAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "timeout"
    assert len(openai_backend.requests) == 1


async def test_unreachable_server_is_transient(openai_backend, agent_env):
    agent_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: nothing listens
    with pytest.raises(TransientAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "connection"


async def test_garbled_response_body_is_transient(openai_backend):
    openai_backend.script(Reply(raw="<html><body>Bad gateway</body></html>"))
    with pytest.raises(TransientAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "bad_response"


@pytest.mark.parametrize("body", [{"object": "chat.completion", "choices": []}, ["not", "an", "object"],
                                  {"choices": ["not a choice"]}])
async def test_a_json_reply_without_a_usable_choice_is_transient(openai_backend, body):
    """The reply is read as plain JSON (not the SDK's typed model): every shape it can take is checked."""
    openai_backend.script(Reply(body=body))
    with pytest.raises(TransientAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert caught.value.kind == "bad_response"


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply.error(400, "invalid_request_error", "Unrecognized request argument"), "bad_request"),
        (Reply.error(401, "invalid_api_key", "Incorrect API key provided"), "auth"),
        (Reply.error(403, "forbidden", "Principal does not have access"), "auth"),
        (Reply.error(404, "model_not_found", "The model does not exist"), "not_found"),
        (Reply.error(422, None, "Unprocessable"), "bad_request"),
        (Reply.content_filter(), "content_filter"),
        (Reply.text("", finish_reason="content_filter"), "content_filter"),
    ],
)
async def test_client_errors_are_permanent_and_typed(openai_backend, reply, kind):
    openai_backend.script(reply)
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[ANALYZE], documents_payload())
    assert caught.value.kind == kind
    assert not isinstance(caught.value, TransientAgentError)
    assert durable_message(caught.value).startswith(f"Activity function 'x' failed:  PermanentAgentError: [{kind}]")
    assert len(openai_backend.requests) == 1


async def test_a_permanent_failure_is_not_sent_again_for_the_same_input(openai_backend):
    openai_backend.script(Reply.content_filter())
    for _ in range(3):  # what Durable retries of a permanent failure look like
        with pytest.raises(PermanentAgentError) as caught:
            await complete(AGENTS[ANALYZE], documents_payload())
        assert caught.value.kind == "content_filter"
    assert len(openai_backend.requests) == 1
    await complete(AGENTS[ANALYZE], documents_payload(text="Another document entirely."))
    assert len(openai_backend.requests) == 2


async def test_failure_memo_can_be_switched_off(openai_backend, agent_env):
    agent_env.setenv("BATON_FAILURE_CACHE_SECONDS", "0")
    openai_backend.script(Reply.content_filter(), Reply.content_filter())
    for _ in range(2):
        with pytest.raises(PermanentAgentError):
            await complete(AGENTS[ANALYZE], documents_payload())
    assert len(openai_backend.requests) == 2


async def test_missing_usage_is_estimated_and_labelled(openai_backend):
    openai_backend.script(Reply.json(SUMMARY, usage=None))
    result = await complete(AGENTS[SUMMARIZE], documents_payload())
    assert result.usage.estimated is True
    assert result.usage.prompt_tokens > 100 and result.usage.completion_tokens > 5


async def test_unknown_model_has_no_cost_until_priced(openai_backend, agent_env):
    agent_env.setenv("OPENAI_MODEL", "llama3.1:8b")
    openai_backend.script(Reply.json(SUMMARY, usage=(1000, 1000)), Reply.json(SUMMARY, usage=(1000, 1000)))
    unpriced = await complete(AGENTS[SUMMARIZE], documents_payload())
    assert unpriced.model == "llama3.1:8b" and unpriced.cost_usd is None
    agent_env.setenv("BATON_PRICES", '{"llama3.1": {"input": 1.0, "output": 2.0}}')
    priced = await complete(AGENTS[SUMMARIZE], documents_payload(text="A different text to avoid any cache."))
    assert priced.cost_usd == pytest.approx(0.003)


async def test_settings_are_read_at_call_time(openai_backend, agent_env):
    openai_backend.script(Reply.json(SUMMARY))
    assert (await complete(AGENTS[SUMMARIZE], documents_payload())).backend == "openai"
    agent_env.delenv("OPENAI_BASE_URL")
    agent_env.delenv("OPENAI_API_KEY")
    assert (await complete(AGENTS[SUMMARIZE], documents_payload())).backend == "offline"
    assert len(openai_backend.requests) == 1


@pytest.mark.parametrize("agent", [name for name, agent in AGENTS.items() if agent.uses_model])
async def test_each_agent_sends_the_sdks_own_strict_schema_of_its_output_model(openai_backend, agent):
    """What goes out is what ``client.chat.completions.parse(response_format=Model)`` would send."""
    await complete(AGENTS[agent], documents_payload(taxonomy=["finance", "legal"]))
    sent = openai_backend.requests[0].body["response_format"]
    expected = type_to_response_format_param(AGENTS[agent].output_model)
    if AGENTS[agent].choices:  # the call's options narrow a field to an enum (category from the taxonomy)
        expected = json.loads(json.dumps(expected))
        expected["json_schema"]["schema"]["properties"]["category"]["enum"] = ["finance", "legal"]
    assert sent == expected and sent["json_schema"]["strict"] is True
    assert openai_backend.requests[0].body and len(openai_backend.requests) == 1  # the fake took it as strict


async def test_the_fake_service_refuses_a_schema_that_is_not_strict_compatible(openai_backend):
    class Loose(BaseModel):
        title: str = Field(min_length=1)

    loose = dataclasses.replace(AGENTS[SUMMARIZE], name="loose", output_model=Loose)
    with pytest.raises(PermanentAgentError) as caught:
        await complete(loose, documents_payload())
    assert caught.value.kind == "bad_request" and "'minLength' is not permitted" in str(caught.value)


async def test_in_strict_mode_an_invalid_reply_is_a_permanent_schema_failure_without_repair(openai_backend):
    openai_backend.script(Reply.json({"summary": " ".join(["word"] * 90)}))
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[SUMMARIZE], documents_payload(summary_words=20))
    assert caught.value.kind == "schema" and "the budget is 20 words" in str(caught.value)
    assert len(openai_backend.requests) == 1


async def test_a_refusal_is_permanent_and_carries_the_models_reason(openai_backend):
    openai_backend.script(Reply(refusal="I can't help with that request."))
    with pytest.raises(PermanentAgentError) as caught:
        await complete(AGENTS[ANALYZE], documents_payload())
    assert caught.value.kind == "refusal" and "I can't help with that request." in str(caught.value)


async def test_failures_of_the_endpoint_name_its_host_and_never_the_key(openai_backend, agent_env, slept):
    """Issue 10: a dead or failing endpoint says which one (host and port only: no path, no key)."""
    agent_env.setenv("OPENAI_API_KEY", "sk-never-in-a-message-0123456789")
    agent_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: nothing listens
    with pytest.raises(TransientAgentError) as dead:
        await complete(AGENTS[SUMMARIZE], documents_payload())
    assert "connection to the model at 127.0.0.1:9 failed" in str(dead.value)
    agent_env.setenv("OPENAI_BASE_URL", openai_backend.base_url)
    openai_backend.script(Reply.server_error(503))
    with pytest.raises(TransientAgentError) as failing:
        await complete(AGENTS[ANALYZE], documents_payload())
    host = openai_backend.url.split("//", 1)[1].split("/", 1)[0]
    assert "HTTP 503 server_error at " + host in str(failing.value)
    for error in (dead.value, failing.value):
        assert "sk-never" not in str(error) and "/v1" not in str(error)
