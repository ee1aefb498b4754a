"""Results of deterministic checks kept on disk between runs, so a plan does not import and run a validator
whose answer for the same input it already knows.

A result is stored under a key made of everything it depends on: the input, the code that computes it (the
SHA-256 of the computing module's source file) and the library that answers (`library_stamp`: the installed
package's path, size and modification time; a reinstall or upgrade changes it). Nothing is ever judged from a
stale entry: a changed input, module or library is a different key. Values are JSON (a result that is not JSON
is computed every time). A cache that cannot be read or written (a read-only home) only costs the time it saves.
Location: `$XDG_CACHE_HOME/ai-platform/results/` (default `~/.cache`). docs/performance.md, "Sixth pass".
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_MISSING = object()


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ai-platform" / "results"


@functools.cache
def source_stamp(path: str) -> str:
    """SHA-256 of a module's source (the code that computes a cached result)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.cache
def library_stamp(package: str) -> str:
    """The installed `package` (path, size, mtime of its __init__), found without importing it."""
    spec = importlib.util.find_spec(package)
    origin = getattr(spec, "origin", None) or ""
    try:
        st = os.stat(origin)
    except OSError:
        return f"{package}:{origin}"
    return f"{package}:{origin}:{st.st_size}:{st.st_mtime_ns}"


def cached(namespace: str, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, or what it returned before for the same `key` (JSON-encodable: input and stamps)."""
    digest = hashlib.sha256(json.dumps([namespace, key], sort_keys=False).encode()).hexdigest()
    path = cache_dir() / namespace / f"{digest}.json"
    try:
        entry = json.loads(path.read_text())
        if entry.get("key") == key:      # a collision or a torn write is a miss
            return entry["value"]
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    value = compute()
    try:
        text = json.dumps({"key": key, "value": value})
        if json.loads(text)["value"] != value:     # not JSON-faithful (a tuple, a non-str key): never cached
            return value
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
            f.write(text)
        os.replace(f.name, path)
    except (OSError, TypeError, ValueError):
        pass
    return value
