"""The ``offline`` backend: each agent's own deterministic behaviour, no network, labelled as such.

The behaviour itself is a function of the agent module (``Agent.offline``); this module runs
it and accounts for it: ``"backend": "offline"``, model :data:`MODEL`, estimated token
counts and a cost of 0.  An agent that calls no model at all (``collect_data``) reports
zero tokens and its own tool name as the model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from ..agent import Agent
from ..models import AgentResult, Usage
from ..settings import OFFLINE
from .structured import estimate_tokens

MODEL = "offline-extractive-v1"


def run_offline(agent: Agent, payload: Mapping[str, Any], attempt: int | None = None) -> AgentResult:
    """``agent.offline`` on ``payload`` as an :class:`AgentResult`."""
    started = time.perf_counter()
    dumped = agent.produce_offline(payload).model_dump(mode="json")
    if agent.uses_model:
        prompt = estimate_tokens(agent.instructions + json.dumps(payload, ensure_ascii=False, sort_keys=True))
        completion = estimate_tokens(json.dumps(dumped, ensure_ascii=False))
        usage, model = Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion,
                             estimated=True), MODEL
    else:
        usage, model = Usage(), f"{agent.name.replace('_', '-')}-v{agent.version}"
    return AgentResult(
        agent=agent.name, output=dumped, backend=OFFLINE, model=model,
        latency_ms=round((time.perf_counter() - started) * 1000, 3), usage=usage, cost_usd=0.0, cached=False,
        attempt=attempt, llm_requests=0,
    )
