"""Read the README the way a user does: its workflow table and its walk-through code blocks."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title: str) -> str:
    """The text of one ``## title`` section."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def workflow_table() -> list[str]:
    """The workflow names in the first column of the Workflows table, in order."""
    return re.findall(r"^\| `([a-z_]+)` \|", section("Workflows"), flags=re.M)


def files_in(title: str) -> dict[str, str]:
    """The python code blocks of a section whose first line names a file (``# agents/x.py``)."""
    blocks = re.findall(r"```python\n# ([\w/]+\.py)\n(.*?)```", section(title), flags=re.S)
    return {path: code for path, code in blocks}
