"""``Settings.from_env`` parses each distinct environment once, and still follows every change."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from agents import settings as settings_module
from agents.llm.errors import PermanentAgentError
from agents.llm.redact import redact, register_secret
from agents.settings import SETTING_PREFIXES, Settings, _read, read_values


class Recording(Mapping[str, str]):
    """An environment that notes every variable asked for by name."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values, self.asked = values, set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def get(self, key: str, default=None):  # type: ignore[override]
        self.asked.add(key)
        return self.values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def test_every_variable_the_settings_read_is_part_of_the_cache_key():
    env = Recording({"BATON_STORAGE__accountName": "acct"})
    _read(env)
    outside = sorted(name for name in env.asked if not name.startswith(SETTING_PREFIXES))
    assert env.asked and outside == []


def test_a_changed_value_is_read_and_the_same_values_are_parsed_once(monkeypatch: pytest.MonkeyPatch):
    read_values.cache_clear()
    calls = []
    real = settings_module._read
    monkeypatch.setattr(settings_module, "_read", lambda env: calls.append(dict(env)) or real(env))
    monkeypatch.setenv("BATON_SUMMARY_WORDS", "50")
    assert Settings.from_env().summary_words == 50
    assert Settings.from_env().summary_words == 50
    monkeypatch.setenv("BATON_SUMMARY_WORDS", "60")
    assert Settings.from_env().summary_words == 60
    monkeypatch.setenv("OPENAI_MODEL", "gpt-x")
    assert Settings.from_env().openai_model == "gpt-x"
    assert [c.get("BATON_SUMMARY_WORDS") for c in calls] == ["50", "60", "60"]


def test_a_bad_value_fails_every_time_and_the_api_key_stays_redacted(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BATON_SUMMARY_WORDS", "many")
    for _ in range(2):
        with pytest.raises(PermanentAgentError, match="BATON_SUMMARY_WORDS"):
            Settings.from_env()
    monkeypatch.delenv("BATON_SUMMARY_WORDS")
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-pattern-secret-value-42")
    Settings.from_env()
    for n in range(100):  # the redactor keeps the latest 64 secrets: the key falls out ...
        register_secret(f"appcost-test-token-{n:03}")
    Settings.from_env()  # ... and a read from the cache registers it again
    assert redact("key not-a-pattern-secret-value-42 leaked") == "key *** leaked"
