"""Gateway overhead: ``complete()`` against the fake OpenAI server vs a raw aiohttp request to it.

Both sides send the same chat-completions body to the same local server and get the same
reply; the difference is what the gateway adds (settings, the openai client, schema, JSON
validation, accounting, logging).  Prints ms per call for each, the overhead per call and
the ratio gateway/raw.  ``--latency-ms`` makes the server wait like a model would, to show
the overhead as a share of a realistic call.  The result cache is off (no storage).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from agents.analyze import NAME as ANALYZE  # noqa: E402
from agents.llm.gateway import complete  # noqa: E402
from agents.llm.structured import build_messages, call_schema, response_format  # noqa: E402
from agents.registry import AGENTS  # noqa: E402
from tests.fakes.openai_server import FakeOpenAIServer, Reply  # noqa: E402

TEXT = (
    "Acme Corp reported third-quarter revenue of $4.2 billion, up 12% from a year earlier. Net income rose to "
    "$610 million and the company raised its guidance. Investors welcomed the results."
)
ANALYSIS = {
    "key_points": ["Revenue rose 12% to $4.2 billion.", "Guidance was raised."],
    "sentiment": {"label": "positive", "score": 0.7},
    "entities": [{"name": "Acme Corp", "type": "organization", "mentions": 1}],
}


async def measure(calls: int, latency_ms: float, rounds: int) -> dict[str, float]:
    spec = AGENTS[ANALYZE]
    payload = {"title": "Q3", "documents": [{"title": "Q3", "text": TEXT}], "options": {}}
    reply = Reply.json(ANALYSIS, usage=(400, 60), delay=latency_ms / 1000)
    async with FakeOpenAIServer.start() as server:
        server.responder = lambda _request: reply
        os.environ.update(server.openai_env())
        os.environ["BATON_CACHE"] = "off"
        for name in ("AZURE_OPENAI_ENDPOINT", "AzureWebJobsStorage"):
            os.environ.pop(name, None)
        schema = call_schema(spec.output_model, spec.choices, {}, strict=True)
        body = {
            "model": "gpt-4o-mini", "messages": build_messages(spec.instructions, schema, payload),
            "temperature": spec.temperature, "max_tokens": spec.max_output_tokens,
            "response_format": response_format(spec.output_model.__name__, schema, "strict"),
        }
        headers = {"Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"}
        best = {"gateway": float("inf"), "raw": float("inf")}
        async with aiohttp.ClientSession() as session:

            async def raw_call() -> None:
                async with session.post(f"{server.base_url}/chat/completions", json=body, headers=headers) as r:
                    r.raise_for_status()
                    await r.json()

            async def gateway_call() -> None:
                result = await complete(spec, payload)
                assert result.output["sentiment"]["label"] == "positive"

            for _ in range(20):  # warm up connections and caches on both sides
                await raw_call()
                await gateway_call()
            for _ in range(rounds):
                for name, call in (("raw", raw_call), ("gateway", gateway_call)):
                    started = time.perf_counter()
                    for _ in range(calls):
                        await call()
                    best[name] = min(best[name], (time.perf_counter() - started) * 1000 / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="repeat and keep the best round")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="server-side delay per reply")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    best = asyncio.run(measure(args.calls, args.latency_ms, args.rounds))
    overhead = best["gateway"] - best["raw"]
    print(f"server latency {args.latency_ms:g} ms, {args.calls} calls x {args.rounds} rounds (best round)")
    print(f"raw aiohttp request : {best['raw']:8.3f} ms/call")
    print(f"gateway complete()  : {best['gateway']:8.3f} ms/call")
    print(f"overhead            : {overhead:8.3f} ms/call  (ratio gateway/raw {best['gateway'] / best['raw']:.2f})")


if __name__ == "__main__":
    main()
