"""Indexing like the Python worker: every function's parameters are checked against its bindings.

Matched behaviour (azure-functions-python-worker, ``functions.Registry`` when it adds a
function): the ``context`` parameter is the worker's own when no binding has that name;
any other parameter without a binding, or binding without a parameter, is a
``FunctionLoadError`` ("the following parameters are declared in Python but not in the
function definition (function.json or function decorators)"); an ``inout`` binding and a
``$return`` binding that is not ``out`` are refused.  The library refuses duplicate
function names in ``get_functions``.  devhost reports all problems at once, one line each.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from devhost.errors import AppLoadError
from devhost.loader import load_app

MISBOUND_APP = Path(__file__).parent / "apps" / "misbound"


def write_app(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "function_app.py").write_text("import azure.durable_functions as df\nimport azure.functions as func\n"
                                           "app = df.DFApp()\n" + textwrap.dedent(source))
    return folder


def write_v1_function(app: Path, name: str, source: str, bindings: list[dict]) -> None:
    (app / name).mkdir(parents=True, exist_ok=True)
    (app / name / "__init__.py").write_text(textwrap.dedent(source))
    (app / name / "function.json").write_text(json.dumps({"bindings": bindings}))


def problems(app: Path) -> list[str]:
    with pytest.raises(AppLoadError) as info:
        load_app(app)
    return str(info.value).splitlines()[1:]


def test_a_client_binding_on_the_wrong_function_is_refused_naming_both_functions():
    found = problems(MISBOUND_APP)
    script = MISBOUND_APP / "function_app.py"
    assert len(found) == 2
    assert found[0].strip().startswith(f"{script}:13: function 'get_status': parameter(s) client are declared in "
                                       "Python but not in the function definition")
    assert found[1].strip().startswith(f"{script}:19: function 'say_hello': binding(s) client (durableClient) are "
                                       "declared in function.json or function decorators")


def test_an_extra_python_parameter_is_refused(tmp_path):
    app = write_app(tmp_path / "extra", """\
        @app.activity_trigger(input_name="city")
        def hello(city, greeting):
            return f"{greeting} {city}"
    """)
    (line,) = problems(app)
    assert "function 'hello': parameter(s) greeting are declared in Python" in line
    assert "bindings: city (activityTrigger)" in line


def test_a_context_parameter_is_the_workers_invocation_context(tmp_path):
    app = write_app(tmp_path / "context", """\
        @app.route(route="ping")
        def ping(req, context):
            return context.function_name
    """)
    (function,) = load_app(app).http
    assert function.wants_context and function.trigger_param == "req"


def test_a_context_parameter_of_another_type_is_refused(tmp_path):
    app = write_app(tmp_path / "badcontext", """\
        @app.route(route="ping")
        def ping(req, context: dict):
            return "pong"
    """)
    (line,) = problems(app)
    assert 'function \'ping\': the "context" parameter is expected to be of type azure.functions.Context' in line


def test_routes_that_match_the_same_urls_and_methods_clash(tmp_path):
    app = write_app(tmp_path / "clash", """\
        @app.route(route="items/{id}", methods=["GET"])
        def one(req): return "1"

        @app.route(route="items/{key:int}", methods=["GET", "POST"])
        def two(req): return "2"

        @app.route(route="items/{id}", methods=["DELETE"])
        def three(req): return "3"
    """)
    (line,) = problems(app)
    assert "function 'two': route 'items/{key:int}' clashes with function 'one'" in line


def test_duplicate_function_names_are_refused_with_the_name(tmp_path):
    app = write_app(tmp_path / "dupes", """\
        @app.function_name("same")
        @app.route(route="a")
        def a(req): return "a"

        @app.function_name("same")
        @app.route(route="b")
        def b(req): return "b"
    """)
    with pytest.raises(AppLoadError, match="same does not have a unique function name"):
        load_app(app)


def test_v1_functions_are_checked_against_function_json(tmp_path):
    app = tmp_path / "v1bad"
    write_v1_function(app, "Hello", "def main(city: str) -> str:\n    return city\n",
                      [{"name": "name", "type": "activityTrigger", "direction": "in"}])
    write_v1_function(app, "Both", "def main(req, thing):\n    return 'x'\n",
                      [{"name": "req", "type": "httpTrigger", "direction": "in"},
                       {"name": "thing", "type": "blob", "direction": "inout"},
                       {"name": "$return", "type": "http", "direction": "in"}])
    found = problems(app)
    both = [line for line in found if "function 'Both'" in line]
    assert len(both) == 2 and '"inout" bindings are not supported' in both[0]
    assert 'the "$return" binding must have direction set to "out"' in both[1]
    hello = [line for line in found if "function 'Hello'" in line]
    assert f"{app / 'Hello' / '__init__.py'}:1: function 'Hello'" in hello[0]
    assert "parameter(s) city are declared in Python" in hello[0]
    assert "binding(s) name (activityTrigger) are declared in function.json" in hello[1]


def test_v1_function_without_its_entry_point_is_refused(tmp_path):
    app = tmp_path / "v1noentry"
    write_v1_function(app, "Hello", "def run(name):\n    return name\n",
                      [{"name": "name", "type": "activityTrigger", "direction": "in"}])
    with pytest.raises(AppLoadError, match=r"cannot load function Hello: function main\(\) is not present"):
        load_app(app)


def test_v1_function_json_that_is_not_json_is_named(tmp_path):
    app = tmp_path / "v1json"
    (app / "Hello").mkdir(parents=True)
    (app / "Hello" / "function.json").write_text("{bindings: []")
    (app / "Hello" / "__init__.py").write_text("def main(x): return x\n")
    with pytest.raises(AppLoadError, match=r"Hello/function\.json: not valid JSON"):
        load_app(app)
