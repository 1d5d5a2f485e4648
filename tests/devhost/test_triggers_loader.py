"""Indexing of non-HTTP triggers: what devhost serves, and what it lists as not served."""

from __future__ import annotations

import textwrap
from pathlib import Path

from devhost.loader import load_app

APP = '''
from __future__ import annotations

import azure.functions as func

app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name="q", connection="AzureWebJobsStorage")
@app.blob_input(arg_name="doc", path="c/{queueTrigger}", connection="AzureWebJobsStorage")
def served(msg: func.QueueMessage, doc: str) -> None:
    pass


@app.queue_trigger(arg_name="msg", queue_name="q2", connection="AzureWebJobsStorage")
@app.table_input(arg_name="row", table_name="t", connection="AzureWebJobsStorage")
def with_table(msg: func.QueueMessage, row: str) -> None:
    pass


@app.cosmos_db_trigger(arg_name="docs", container_name="c", database_name="d", connection="Cosmos")
def cosmos(docs: func.DocumentList) -> None:
    pass
'''


def test_triggers_are_indexed_with_their_bindings_and_resolved_annotations(tmp_path: Path):
    (tmp_path / "function_app.py").write_text(textwrap.dedent(APP))
    registry = load_app(tmp_path)
    [served] = registry.triggers
    assert served.name == "served" and served.kind == "queueTrigger"
    assert served.trigger["queueName"] == "q" and served.trigger["direction"] == "in"
    assert [(b["type"], b["direction"]) for b in served.bindings] == [("blob", "in")]
    assert served.annotations["doc"] is str  # a string annotation, resolved as the worker does
    assert "with_table (queueTrigger with table bindings)" in registry.ignored
    assert any(line.startswith("cosmos (cosmosDBTrigger") for line in registry.ignored)
