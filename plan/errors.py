"""What every part of the engine shares and nothing else: the repository root and the one-line planning error.
Its own module so the stack-file loader and the engine import it, not each other."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class PlanError(Exception):
    """The program could not be planned (bad config, program error). Always one line."""
