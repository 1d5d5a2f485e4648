"""The README's workflow table follows the workflow registry (no devhost, no storage)."""

from __future__ import annotations

from orchestrators.registry import WORKFLOWS
from tests.workflows.readme import files_in, workflow_table


def test_the_readme_table_lists_exactly_the_registered_workflows():
    assert workflow_table() == list(WORKFLOWS), "update the table under '## Workflows' in README.md"


def test_the_walk_throughs_each_add_one_file():
    assert list(files_in("Add your own agent")) == ["agents/keywords.py"]
    assert list(files_in("Add your own workflow")) == ["orchestrators/keyword_report.py"]
