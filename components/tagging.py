"""The tags every taggable resource carries, in its own inputs.

Provider default tags and stack transforms are invisible to policies under the mock runtime, and
the tag policy must see the same thing under a real preview and under mocks, so each resource is
given `tags=` explicitly. The five keys below are also the policy pack's default `requiredTags`.
"""
from __future__ import annotations

from collections.abc import Mapping

REQUIRED_TAG_KEYS = ("Project", "Environment", "ManagedBy", "Owner", "CostCenter")


def base_tags(project: str, environment: str, owner: str, cost_center: str) -> dict[str, str]:
    return {"Project": project, "Environment": environment, "ManagedBy": "pulumi", "Owner": owner,
            "CostCenter": cost_center}


class Tagger:
    """`tagger(Name=..., Tier=...)` returns the base tags plus extras (extras cannot drop a base key)."""

    def __init__(self, base: Mapping[str, str]):
        missing = [k for k in REQUIRED_TAG_KEYS if not base.get(k)]
        if missing:
            raise ValueError(f"base tags lack {missing}")
        self.base = dict(base)

    def __call__(self, name: str | None = None, **extra: str) -> dict[str, str]:
        tags = dict(self.base)
        tags.update({k: v for k, v in extra.items() if v is not None})
        tags.update({k: self.base[k] for k in REQUIRED_TAG_KEYS})
        if name:
            tags["Name"] = name
        return tags
