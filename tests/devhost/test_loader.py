"""Loading and indexing apps: settings files, and clear errors for apps that do not load."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from devhost.errors import AppLoadError
from devhost.loader import load_app
from devhost.settings import load_host_settings, load_local_settings


def write_app(folder: Path, source: str, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "function_app.py").write_text(textwrap.dedent(source))
    for name, text in files.items():
        (folder / name.replace("_json", ".json")).write_text(text)
    return folder


def test_import_error_names_file_line_and_cause(tmp_path):
    app = write_app(tmp_path / "broken", """\
        import azure.durable_functions as df

        app = df.DFApp()
        settings = {}
        timeout = settings["TIMEOUT"]
    """)
    with pytest.raises(AppLoadError) as info:
        load_app(app)
    message = str(info.value)
    assert f"{app / 'function_app.py'}:5" in message and "KeyError: 'TIMEOUT'" in message


def test_syntax_error_names_file_and_line(tmp_path):
    app = write_app(tmp_path / "syntax", "import azure.functions as func\napp = func.FunctionApp(\n")
    with pytest.raises(AppLoadError, match=r"function_app.py:2: SyntaxError"):
        load_app(app)


def test_an_app_without_a_function_app_object_is_rejected(tmp_path):
    app = write_app(tmp_path / "empty", "VALUE = 1\n")
    with pytest.raises(AppLoadError, match="found no FunctionApp instances"):
        load_app(app)


def test_duplicate_activity_names_fail_indexing(tmp_path):
    app = write_app(tmp_path / "dupes", """\
        import azure.durable_functions as df

        app = df.DFApp()

        @app.activity_trigger(input_name="x", activity="work")
        def one(x): return x

        @app.activity_trigger(input_name="x", activity="Work")
        def two(x): return x
    """)
    with pytest.raises(AppLoadError, match="'Work' is registered twice"):
        load_app(app)


def test_blueprints_on_a_plain_function_app_are_indexed(tmp_path):
    app = write_app(tmp_path / "blueprints", """\
        import azure.durable_functions as df
        import azure.functions as func

        bp = df.Blueprint()

        @bp.activity_trigger(input_name="x", activity="shout")
        def shout(x): return x.upper()

        @bp.orchestration_trigger(context_name="context", orchestration="Main")
        def main(context):
            return (yield context.call_activity("shout", "hi"))

        @bp.route(route="items/{id:int}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
        def item(req): return "ok"

        app = func.FunctionApp()
        app.register_functions(bp)
    """)
    registry = load_app(app)
    assert set(registry.activities) == {"shout"} and registry.activities["shout"].name == "shout"
    assert set(registry.orchestrators) == {"main"} and registry.orchestrators["main"].name == "Main"
    (route,) = registry.http
    assert (route.route, route.methods, route.auth_level) == ("items/{id:int}", frozenset({"GET"}), "FUNCTION")


def test_local_settings_values_fill_the_environment_without_overriding(tmp_path, monkeypatch):
    monkeypatch.setenv("ALREADY_SET", "from-shell")
    monkeypatch.delenv("FROM_FILE", raising=False)
    values = {"IsEncrypted": False, "Values": {"FROM_FILE": "file", "ALREADY_SET": "file", "HUB": "SettingsHub"}}
    (tmp_path / "local.settings.json").write_text(json.dumps(values))
    load_local_settings(tmp_path)
    assert os.environ["FROM_FILE"] == "file" and os.environ["ALREADY_SET"] == "from-shell"
    monkeypatch.delenv("FROM_FILE")
    monkeypatch.setenv("HUB", "SettingsHub")
    host = {"version": "2.0", "extensions": {"durableTask": {"hubName": "%HUB%", "maxConcurrentActivityFunctions": 3},
                                             "http": {"routePrefix": ""}}}
    (tmp_path / "host.json").write_text(json.dumps(host))
    settings = load_host_settings(tmp_path)
    assert (settings.hub_name, settings.max_concurrent_activities, settings.route_prefix) == ("SettingsHub", 3, "")


def test_invalid_hub_name_is_a_clear_error(tmp_path):
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"durableTask": {"hubName": "my-hub"}}}))
    with pytest.raises(AppLoadError, match="task hub name 'my-hub' is invalid"):
        load_host_settings(tmp_path)
