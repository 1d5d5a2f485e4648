"""The CLI's own checks, no API needed: input files, which URL it talks to, unreachable APIs, hints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from baton import endpoint, hints

ROOT = Path(__file__).resolve().parents[2]


def baton(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "BATON_URL"}
    return subprocess.run([sys.executable, "-m", "baton", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**clean, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200", **env})


def test_a_malformed_json_file_is_refused_with_the_parse_error_and_line(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text('{\n  "text": "[input] tags stay visible",\n  "title": 5,,\n}\n', encoding="utf-8")
    result = baton("run", "parallel", "--input", str(request), "--url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert f"{request}:3:14: invalid JSON: Expecting property name enclosed in double quotes" in result.stdout
    lines = result.stdout.splitlines()
    shown = lines.index('    "title": 5,,')  # the line itself, then a caret under column 14
    assert lines[shown + 1] == " " * 15 + "^"
    assert "Traceback" not in result.stdout + result.stderr


def test_json_that_is_not_an_object_and_json_on_stdin_are_refused(tmp_path: Path) -> None:
    request = tmp_path / "list.json"
    request.write_text("[1, 2]", encoding="utf-8")
    result = baton("run", "parallel", "--input", str(request), "--url", "http://127.0.0.1:9")
    assert result.returncode == 2 and "must be a JSON object" in result.stdout and "not a JSON list" in result.stdout
    piped = subprocess.run([sys.executable, "-m", "baton", "run", "parallel", "-i", "-", "--url", "http://127.0.0.1:9"],
                           input='{"text": "x"', capture_output=True, text=True, cwd=ROOT, timeout=60,
                           env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})
    assert piped.returncode == 2 and "<stdin>:1:13: invalid JSON" in piped.stdout


def test_text_files_are_sent_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from baton.commands import read_request

    notes = tmp_path / "notes.txt"
    notes.write_text("[draft] {not json} Sales rose.", encoding="utf-8")
    assert read_request(str(notes)) == {"text": "[draft] {not json} Sales rose."}
    plain = tmp_path / "README"
    plain.write_text("Sales rose.", encoding="utf-8")
    assert read_request(str(plain)) == {"text": "Sales rose."}


def test_an_unreachable_api_says_how_to_start_one() -> None:
    result = baton("list", BATON_URL="http://127.0.0.1:9")
    assert result.returncode == 2
    assert "nothing answers at http://127.0.0.1:9 (from $BATON_URL)" in result.stdout
    assert "make serve" in result.stdout and "--url" in result.stdout and "Traceback" not in result.stderr


def write_discovery(folder: Path, url: str, pid: int) -> None:
    (folder / ".devhost").mkdir(parents=True, exist_ok=True)
    (folder / ".devhost" / "endpoint.json").write_text(json.dumps({"url": url, "pid": pid}), encoding="utf-8")


def test_the_url_comes_from_the_flag_then_the_environment_then_a_running_devhost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BATON_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert endpoint.resolve() == endpoint.Endpoint("http://localhost:7071", "default")
    write_discovery(tmp_path, "http://127.0.0.1:7399/", os.getpid())
    (tmp_path / "sub" / "dir").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "sub" / "dir")  # found from a subfolder, as git finds .git
    assert endpoint.resolve() == endpoint.Endpoint("http://127.0.0.1:7399", str(tmp_path / ".devhost/endpoint.json"))
    monkeypatch.setenv("BATON_URL", "http://env:1")
    assert endpoint.resolve().url == "http://env:1"
    assert endpoint.resolve("http://flag:2/").url == "http://flag:2"


def test_a_discovery_file_left_by_a_dead_devhost_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATON_URL", raising=False)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    write_discovery(tmp_path, "http://127.0.0.1:7399", int(finished.stdout))
    monkeypatch.chdir(tmp_path)
    assert endpoint.resolve().source == "default"


def test_hints_name_the_program_as_it_was_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", [str(ROOT / "baton" / "__main__.py")])
    monkeypatch.setattr(sys, "executable", str(ROOT / ".venv" / "bin" / "python"))
    at_7072 = endpoint.Endpoint("http://127.0.0.1:7072", "--url")
    assert hints.command("approve", "abc", endpoint=at_7072) == \
        ".venv/bin/python -m baton approve abc --url http://127.0.0.1:7072"
    default = endpoint.Endpoint("http://127.0.0.1:7071", "serve")
    assert hints.command("status", "a b", endpoint=default) == ".venv/bin/python -m baton status 'a b'"
    script = tmp_path / "bin" / "baton"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(script)])
    assert hints.program() == str(script)  # installed but not on PATH: the full path
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    assert hints.program() == "baton"
