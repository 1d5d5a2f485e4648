"""What an agent is: :class:`Agent`, declared once in its own module (``agents/<name>.py``).

An agent module sets ``AGENT = Agent(...)``; :mod:`agents.registry` finds it and registers
it as a Durable activity named ``AGENT.name``.  The agent declares:

* ``instructions``: the system prompt (empty: the agent calls no model, ``offline`` is its work);
* ``input_model``: the pydantic model of the activity's input (an :class:`AgentInput`);
* ``output_model``: what the model must answer (a strict JSON schema is made from it);
* ``prepare``: builds the JSON the model reads (the user message) from the validated input;
* ``offline``: the agent's offline behaviour, ``payload -> output dict`` (deterministic);
* ``finalize``: optional, completes the model's answer with facts taken in code;
* ``options``: the call options it reads (``summary_words``, ``taxonomy``), part of its cache key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .inputs import AgentInput
from .logs import AgentLogger, CallContext
from .settings import Settings

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class Call:
    """One activity call as ``prepare`` sees it: settings, logger, context and the other agents."""

    settings: Settings
    log: AgentLogger
    context: CallContext
    agents: Mapping[str, Agent] = field(default_factory=dict)


Prepare = Callable[[Any, Call], Awaitable[dict[str, Any]]]
Offline = Callable[[Payload], dict[str, Any]]
Finalize = Callable[[BaseModel, Payload], BaseModel]


@dataclass(frozen=True)
class Agent:
    """One agent: its contract, its prompt, and its offline behaviour."""

    name: str
    description: str
    input_model: type[AgentInput]
    output_model: type[BaseModel]
    prepare: Prepare
    offline: Offline
    instructions: str = ""
    finalize: Finalize | None = None
    options: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    temperature: float = 0.2
    max_output_tokens: int = 800
    offline_when_refused: bool = False
    """On a permanent model failure, answer with the offline behaviour (the error handler must never fail)."""
    version: int = 1

    @property
    def uses_model(self) -> bool:
        return bool(self.instructions)

    def complete_output(self, output: BaseModel, payload: Payload) -> BaseModel:
        """The agent's final output: the validated reply, finalized when the agent says so."""
        return self.finalize(output, payload) if self.finalize else output

    def produce_offline(self, payload: Payload) -> BaseModel:
        """The offline output, validated like a model's reply (``options`` feed request-dependent checks)."""
        reply = self.output_model.model_validate(self.offline(payload), context=dict(payload.get("options") or {}))
        return self.complete_output(reply, payload)
