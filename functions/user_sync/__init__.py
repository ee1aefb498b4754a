"""Lambda package: the handler lives in handler.py (deployed as the zip root)."""
