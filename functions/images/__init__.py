"""Image helper CLI for people (run locally, not deployed): see cli.py."""
from .cli import main  # noqa: F401
