"""``make serve`` (``python -m baton serve``) against the real app: the commands it prints work as printed,
the CLI finds the running devhost without ``--url``, and every follow-up hint works when pasted."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
APP_FILES = ("function_app.py", "host.json", "agents", "api", "orchestrators", "examples")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def read_until(stream: asyncio.StreamReader, marker: str, timeout: float = 90) -> str:
    seen = ""
    async with asyncio.timeout(timeout):
        while marker not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"the output ended before {marker!r}:\n{seen}")
            seen += line.decode()
    return seen


async def shell(line: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run a printed command line as a user pastes it (no shell features needed: shlex words)."""
    process = await asyncio.create_subprocess_exec(*shlex.split(line), cwd=cwd, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode()


def hint(output: str, prefix: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(prefix)]
    assert len(lines) == 1, f"one {prefix!r} line expected in:\n{output}"
    return lines[0][len(prefix):].strip()


async def test_serve_prints_commands_that_work_and_the_cli_finds_the_devhost(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    for name in APP_FILES:  # the app as a project folder of its own (symlinks to this checkout)
        (app / name).symlink_to(ROOT / name)
    # as `make serve` does: host.json's %TASKHUB_NAME% must resolve (devhost refuses it otherwise, as the host does)
    (app / "local.settings.json").symlink_to(ROOT / "local.settings.sample.json")
    env = {k: v for k, v in os.environ.items() if k != "BATON_URL"}
    env.update(PYTHONPATH=str(ROOT), NO_COLOR="1", COLUMNS="80", PYTHONUNBUFFERED="1")
    port = free_port()
    serve = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", "serve", "--port", str(port), "--store", "memory", cwd=app, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        banner = await read_until(serve.stdout, "curl -X POST")
        url = f"http://127.0.0.1:{port}"
        assert f"baton API: {url}/api/workflows" in banner
        run_line = next(line.strip() for line in banner.splitlines() if " run parallel " in line)
        assert run_line.endswith(f"--input examples/review.json --url {url}"), run_line  # one line at 80 columns
        code, out = await shell(run_line, app, env)
        assert code == 0 and "succeeded" in out, out

        sub = app / "drafts"
        sub.mkdir()
        code, started = await shell(
            f"{sys.executable} -m baton run approval --input ../examples/review.json --no-wait", sub, env
        )  # no --url, no $BATON_URL: the CLI finds app/.devhost/endpoint.json from a subfolder
        assert code == 0, started
        instance_id = started.split("instance", 1)[1].split()[0]
        approve = hint(started, "approve:")
        assert approve.endswith(f"approve {instance_id} --url {url}"), approve
        code, out = await shell(approve, sub, env)
        assert code == 0 and f"approved {instance_id}" in out, out
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                async with http.get(f"{url}/api/workflows/{instance_id}") as response:
                    if (await response.json())["runtimeStatus"] == "Completed":
                        break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"{instance_id} did not complete after the approval")
        code, out = await shell(hint(started, "status:"), sub, env)
        assert code == 0 and "approved" in out, out
    finally:
        serve.send_signal(signal.SIGINT)  # Ctrl+C
        rest = (await asyncio.wait_for(serve.stdout.read(), 60)).decode()
        await serve.wait()
    assert serve.returncode == 0, rest
    assert "shutting down" in rest and "Traceback" not in rest
    assert not (app / ".devhost" / "endpoint.json").exists()
