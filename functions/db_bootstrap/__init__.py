"""Database users and grants from the service contracts (handler.py, grants.py, names.py)."""
