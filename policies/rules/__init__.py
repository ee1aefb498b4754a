"""Every rule module in this package exports `POLICIES`; `all_policies()` collects them all.

A new rule is a function in a module here plus its tests; nothing else needs editing.
"""
from __future__ import annotations

import importlib
import pkgutil


def all_policies() -> list:
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for policy in getattr(module, "POLICIES", []):
            if policy.name in found:
                raise ValueError(f"duplicate policy name {policy.name} in {info.name}")
            found[policy.name] = policy
    return [found[k] for k in sorted(found)]
