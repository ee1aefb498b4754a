"""Tagging: every taggable AWS resource carries the required tag keys in its own inputs."""
from __future__ import annotations

import functools
import importlib
import inspect
import keyword

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import is_unknown
from ._lib import ANY_AWS, Autofix, get, resource_policy

DEFAULT_REQUIRED = ["Project", "Environment", "ManagedBy", "Owner", "CostCenter"]


@functools.cache
def taggable(token: str) -> bool | None:
    """Whether a pulumi-aws resource type takes `tags` (True/False), or None if the type is unknown."""
    try:
        pkg, mod_type, cls_name = token.split(":")
        if pkg != "aws":
            return False
        module = mod_type.split("/")[0]
        if module == "index":
            mod = importlib.import_module("pulumi_aws")
        else:  # Python keywords get a trailing underscore: aws:lambda/... lives in pulumi_aws.lambda_
            mod = importlib.import_module(f"pulumi_aws.{module}_" if keyword.iskeyword(module)
                                          else f"pulumi_aws.{module}")
        cls = getattr(mod, cls_name)
        return "tags" in inspect.signature(cls._internal_init).parameters
    except (ValueError, ImportError, AttributeError):
        return None


def _tag_keys(props, prop: str) -> dict:
    """The tag map's keys with a flag saying whether each has a value. A map that is unknown as a whole
    (built in an apply in a preview) raises UnknownValueError: the rule then says it could not run.
    A key whose value alone is unknown counts as present (the key is decided, its value comes later)."""
    tags = get(props, prop)
    if tags is None:
        return {}
    out = {}
    for key in tags:
        out[key] = is_unknown(tags, key) or bool(tags[key])
    return out


def _check_tags(props, report, args):
    kind = taggable(args.resource_type)
    if kind is False:
        return
    if kind is None and "tags" not in props and "tagsAll" not in props:
        args.not_applicable(f"{args.resource_type} is not a pulumi-aws type this pack knows; no tags to check")
    required = list((args.get_config() or {}).get("requiredTags", DEFAULT_REQUIRED))
    present = _tag_keys(props, "tags")
    for k, v in _tag_keys(props, "tagsAll").items():
        present[k] = present.get(k, False) or v
    missing = [k for k in required if not present.get(k)]
    if missing:
        report(f"missing required tags: {', '.join(missing)}")


POLICIES = [
    resource_policy(
        "required-tags",
        "Taggable AWS resources must carry the required tag keys (cost allocation, ownership, budgets).",
        ANY_AWS, _check_tags, severity=Severity.MEDIUM,
        remediation="Pass tags=... with the required keys on the resource (not only provider default tags).",
        tags=["tagging", "cost"],
        autofix=Autofix("report", "Tags are reported, never invented: owner and cost centre are facts only the "
                        "team knows; placeholder values would fill cost allocation with 'unassigned' and hide the "
                        "finding. (The former remediation also raised on a tag map unknown in preview.)"),
        config_schema=PolicyConfigSchema(properties={
            "requiredTags": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_REQUIRED}})),
]
