"""Entry point for ``python -m devhost``."""

import sys

from .cli import main

sys.exit(main())
