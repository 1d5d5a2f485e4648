"""Static assets: the dashboard's own files, and mermaid from a local ``node_modules``.

Mermaid is never fetched from a CDN.  It is looked up in ``node_modules/mermaid`` next to the
app or above it, then next to the devhost package (a checkout of this repository after
``npm install``); when neither has it the instance page shows the graph's mermaid text.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
MERMAID_FILE = Path("node_modules") / "mermaid" / "dist" / "mermaid.min.js"


def find_mermaid(search_from: Iterable[Path]) -> Path | None:
    """The first ``node_modules/mermaid/dist/mermaid.min.js`` in or above the given folders."""
    for start in search_from:
        for folder in (start, *start.parents):
            candidate = folder / MERMAID_FILE
            if candidate.is_file():
                return candidate
    return None


def default_search_dirs(app_dir: Path) -> list[Path]:
    """Where to look for mermaid: the app's folder, then devhost's own checkout."""
    return [app_dir.resolve(), Path(__file__).resolve().parent.parent.parent]
