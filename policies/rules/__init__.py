"""Rule modules, one per AWS service. Importing a module registers its rules in the registry
(`_registry.py`); `all_policies()` imports every module and returns the registered policies.

A new rule is a decorated function in its service's module plus its tests in tests/test_rules_<module>.py;
nothing else needs editing (the catalogue and the policy table read the registry).
"""
from __future__ import annotations

import importlib
import pkgutil

from ._registry import specs


def load() -> list:
    """Import every rule module and return the registry's rule specs, sorted by id."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return specs()


def all_policies() -> list:
    return [s.policy for s in load()]


def policies_of(*modules: str) -> list:
    """The policies registered by the named rule modules (e.g. policies_of("sqs", "sns")), sorted by id."""
    specs_ = load()
    unknown = set(modules) - {s.module for s in specs_}
    if unknown:
        raise ValueError(f"no rule module(s) {sorted(unknown)}")
    return [s.policy for s in specs_ if s.module in modules]
