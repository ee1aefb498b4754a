"""Tagging: every taggable AWS resource carries the required tag keys in its own inputs."""
from __future__ import annotations

import functools
import importlib
import inspect

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, Severity

from ._lib import get, plain, resource_policy

DEFAULT_REQUIRED = ["Project", "Environment", "ManagedBy", "Owner", "CostCenter"]


@functools.lru_cache(maxsize=None)
def taggable(token: str) -> bool | None:
    """Whether a pulumi-aws resource type takes `tags` (True/False), or None if the type is unknown."""
    try:
        pkg, mod_type, cls_name = token.split(":")
        if pkg != "aws":
            return False
        module = mod_type.split("/")[0]
        mod = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
        cls = getattr(mod, cls_name)
        return "tags" in inspect.signature(cls._internal_init).parameters
    except (ValueError, ImportError, AttributeError):
        return None


def _check_tags(props, report, args):
    if not args.resource_type.startswith("aws:"):
        return
    kind = taggable(args.resource_type)
    if kind is False:
        return
    if kind is None and "tags" not in props and "tagsAll" not in props:
        args.not_applicable(f"{args.resource_type} is not a pulumi-aws type this pack knows; no tags to check")
    required = list((args.get_config() or {}).get("requiredTags", DEFAULT_REQUIRED))
    tags = dict(plain(get(props, "tags", {})) or {})
    tags.update({k: v for k, v in (plain(get(props, "tagsAll", {})) or {}).items() if k not in tags})
    missing = [k for k in required if not tags.get(k)]
    if missing:
        report(f"missing required tags: {', '.join(missing)}")


def _add_tags(args):
    """Remediation: add missing required tags with placeholder values a human must replace."""
    if taggable(args.resource_type) is not True:
        return None
    required = list((args.get_config() or {}).get("requiredTags", DEFAULT_REQUIRED))
    props = plain(args.props)
    tags = dict(props.get("tags") or {})
    missing = [k for k in required if not tags.get(k)]
    if not missing:
        return None
    tags.update({k: "unassigned" for k in missing})
    props["tags"] = tags
    return props


POLICIES = [
    resource_policy(
        "required-tags",
        "Taggable AWS resources must carry the required tag keys (cost allocation, ownership, budgets).",
        (), _check_tags, severity=Severity.MEDIUM, remediate=_add_tags,
        remediation="Pass tags=... with the required keys on the resource (not only provider default tags).",
        tags=["tagging", "cost"],
        config_schema=PolicyConfigSchema(properties={
            "requiredTags": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_REQUIRED}})),
]
