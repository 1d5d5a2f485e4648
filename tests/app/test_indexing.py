"""Index the repo's ``function_app.py`` as the Python worker does and check what the host and the
Durable extension would reject; the checker itself is tested on two fixture apps."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from durable_checks import Report, RouteError, check_functions, check_index, route_key

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = HERE / "fixtures"
INDEXER = HERE / "durable_index.py"


def index(app_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """Run the indexer in a fresh interpreter, as the worker would load the app."""
    out = tmp_path / f"{app_dir.name}-index.json"
    done = subprocess.run(
        [sys.executable, str(INDEXER), str(app_dir), str(out)],
        cwd=app_dir, capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, f"indexer crashed:\n{done.stdout}\n{done.stderr}"
    return json.loads(out.read_text(encoding="utf-8"))


def test_repo_function_app_indexes_and_every_durable_call_resolves(tmp_path: Path) -> None:
    if not (ROOT / "function_app.py").is_file():
        pytest.skip("function_app.py is not written yet")
    indexed = index(ROOT, tmp_path)
    report = check_index(indexed)
    for warning in report.warnings:
        warnings.warn(warning, stacklevel=1)
    assert not report.problems, "\n".join(report.problems)
    kinds = {b["type"] for f in indexed["functions"] for b in f["json"]["bindings"]}
    assert {"httpTrigger", "orchestrationTrigger", "activityTrigger"} <= kinds


def test_checker_finds_nothing_wrong_in_the_good_fixture(tmp_path: Path) -> None:
    indexed = index(FIXTURES / "good_app", tmp_path)
    report = check_index(indexed)
    assert report.problems == []
    assert report.warnings == []
    resolved = {c["expr"].split(",")[0]: c["names"] for c in indexed["calls"] if c["file"] == "flows.py"}
    both = ["hello", "shout"]
    assert resolved["context.call_activity_with_retry(agent"] == both  # a helper's parameter, 2 call sites
    assert resolved["context.call_activity(agent"] == both  # a comprehension over a constant tuple
    assert resolved["context.call_activity(BY_KIND[kind]"] == both  # a constant mapping, dynamic key
    assert resolved["context.call_activity(chosen"] == both  # a local assigned a conditional
    assert resolved["context.call_activity(names.SHOUT"] == ["shout"]
    assert resolved["df.EntityId(COUNTER"] == ["Counter"]
    assert dict(report.durable) == {"orchestrator": {"main", "child"}, "activity": {"hello", "shout"},
                                    "entity": {"counter"}}


def test_checker_reports_each_mistake_in_the_broken_fixture(tmp_path: Path) -> None:
    report = check_index(index(FIXTURES / "broken_app", tmp_path))
    problems = "\n".join(report.problems)
    assert "names activity 'gret', which is not registered" in problems
    assert "names orchestrator 'no_such_workflow', which is not registered" in problems
    assert "names entity 'NoSuchEntity', which is not registered" in problems
    assert "GET Items/{key}/ is already served by get_item" in problems
    assert "bad_route: route 'bad/{name': malformed parameter" in problems
    assert len(report.problems) == 5, problems
    assert len(report.warnings) == 1 and "get_input()['activity'] is not a constant" in report.warnings[0]


def test_an_app_that_fails_to_import_is_a_problem(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "function_app.py").write_text("import azure.functions as func\nimport no_such_module\n")
    report = check_index(index(app, tmp_path))
    assert len(report.problems) == 1 and "No module named 'no_such_module'" in report.problems[0]


@pytest.mark.parametrize(
    ("route", "key"),
    [
        ("workflows/{name}", "workflows/{}"),
        ("/Workflows/{id:guid}/events/{event}/", "workflows/{}/events/{}"),
        ("files/{*path}", "files/{}"),
        ("items/{id:int?}", "items/{}"),
        ("v{version}/items", "v{}/items"),
    ],
)
def test_route_key_anonymises_parameters(route: str, key: str) -> None:
    assert route_key(route) == key


@pytest.mark.parametrize("route", ["a/{b", "a/b}", "a//b", "{x}/{X}", "{*rest}/more", "a/{1x}"])
def test_route_key_rejects_templates_the_host_refuses(route: str) -> None:
    with pytest.raises(RouteError):
        route_key(route)


def _function(name: str, *bindings: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "json": {"bindings": list(bindings)}}


def test_malformed_bindings_and_duplicate_names_are_reported() -> None:
    report = Report()
    check_functions(
        [
            _function("a", {"type": "activityTrigger", "direction": "IN", "name": "x", "activity": "a"}),
            _function("A", {"type": "activityTrigger", "direction": "in", "name": "y"}),
            _function("b", {"type": "queueTrigger", "name": "msg"}, {"direction": "out", "name": "bad-name"}),
            _function("c", {"type": "http", "direction": "OUT", "name": "$return"}),
            _function("d", {"type": "httpTrigger", "direction": "IN", "name": "req", "route": "d"},
                      {"type": "http", "direction": "OUT", "name": "$return"}),
        ],
        report,
    )
    problems = "\n".join(report.problems)
    assert "A: function name already used by a" in problems
    assert "the activity name 'A' is registered twice" in problems
    assert "binding 'msg' (queueTrigger): direction None is not in/out/inout" in problems
    assert "binding #1 has no type" in problems
    assert "name must be a parameter name or $return" in problems
    assert "c: 0 triggers, expected exactly one" in problems
    assert "d: no methods declared" in problems
