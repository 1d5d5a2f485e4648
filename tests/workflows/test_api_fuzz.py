"""A schema-based fuzzer (schemathesis) over /api/openapi.json against the app on devhost with keys.

Every check schemathesis has runs (no 5xx, status codes, content types and bodies as documented,
schema-invalid requests refused, schema-valid ones accepted, the function key enforced) except
two that assume a 405: a method a route does not accept is a 404 on the Functions host
(azure-functions-host#10098), which devhost matches and the document says. The run is bounded
(a fixed seed, a few dozen examples per operation). Memory store, offline agents: no Azurite.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devhost.host import DevHost, unique_hub_name

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = int(os.environ.get("BATON_FUZZ_EXAMPLES") or 20)
SEED = os.environ.get("BATON_FUZZ_SEED") or "20261201"
NOT_APPLICABLE = "unsupported_method,allow_header_conformance"  # both expect 405; the host answers 404


@pytest.fixture
async def keyed_app() -> AsyncIterator[DevHost]:
    async with DevHost.start(ROOT, store="memory", hub_name=unique_hub_name(), auth="keys") as host:
        yield host


async def test_fuzzing_the_openapi_document_finds_no_5xx_and_no_disagreement(keyed_app, tmp_path):
    schemathesis = Path(sys.executable).with_name("schemathesis")
    key = keyed_app.keys.host["default"]
    process = await asyncio.create_subprocess_exec(
        str(schemathesis), "run", f"{keyed_app.url}/api/openapi.json", "-H", f"x-functions-key: {key}",
        "--checks", "all", "--exclude-checks", NOT_APPLICABLE, "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES), "--seed", SEED, "--workers", "1", "--generation-database", "none",
        "--no-color", cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "120"},
    )
    out, _ = await asyncio.wait_for(process.communicate(), 300)
    report = out.decode(errors="replace")
    assert process.returncode == 0, report
    assert "7 selected / 7 total" in report and "Tested: 7" in report, report
