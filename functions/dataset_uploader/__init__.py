"""Dataset uploader CLI (run locally by data scientists, not deployed): see uploader.py."""
from .uploader import Uploader, main  # noqa: F401
