"""Which tier a recorded resource belongs to, read from the tier components' types (components/context.py
`Platform.tier_type`): `ai-platform:tier:Data` is the primary build's data tier; another instance of the same tiers
in one program (the DR region's, `ai-platform:dr:Network`) is named with its instance (`dr-Network`). A module of
its own so the reports, the cost model and the picture share it without importing each other."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

PROJECT_PREFIX = "ai-platform:"
TIER_PREFIX = PROJECT_PREFIX + "tier:"     # the primary build's tiers
NO_TIER = "-"                              # providers and anything else outside a tier


class _Recorded(Protocol):
    type: str
    parent: str


def tier_name(type_: str) -> str | None:
    """The tier a component type is, or None when the type is not a tier component."""
    if not type_.startswith(PROJECT_PREFIX):
        return None
    parts = type_.split(":")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        return None
    instance, tier = parts[1], parts[2]
    return tier if instance == "tier" else f"{instance}-{tier}"


def is_tier(type_: str) -> bool:
    return tier_name(type_) is not None


def tier_of(resource: _Recorded, by_urn: Mapping[str, _Recorded]) -> str:
    """The tier component a resource belongs to (NO_TIER for top-level providers and the like)."""
    seen: _Recorded | None = resource
    while seen is not None:
        name = tier_name(seen.type)
        if name is not None:
            return name
        seen = by_urn.get(seen.parent)
    return NO_TIER
