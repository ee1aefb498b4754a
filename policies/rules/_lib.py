"""Shared helpers for rules. Rules import these relatively (`from ._lib import ...`) so the pack
works both as `policies.rules` (tests, offline engine) and as `rules` (the Pulumi CLI).

Props are the SDK's unknown-checking proxies: Mappings and Sequences, not dict/list. Reading an
unknown value raises UnknownValueError, which the SDK reports as "can't run policy ... during
preview" (advisory). Never catch it: a rule that cannot see a value must not pass silently.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from ._registry import ANY_AWS, REGISTRY, Autofix, rule  # noqa: F401  (re-exported for rule modules)

# Tokens that name the same AWS resource (awsx and older programs use aws.alb, newer aws.lb).
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
TARGET_GROUPS = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
VPC = "aws:ec2/vpc:Vpc"
AWSX_VPC = "awsx:ec2:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
# Packages whose components are remote: their children are real resources under a real preview.
REMOTE_PACKAGES = ("awsx", "eks")

CIS = PolicyComplianceFramework(name="CIS AWS Foundations Benchmark", version="3.0.0")
AWS_FSBP = PolicyComplianceFramework(name="AWS Foundational Security Best Practices", version="1.0.0")


def cis(ref: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(name="CIS AWS Foundations Benchmark", version="3.0.0", reference=ref)


def fsbp(ref: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(name="AWS Foundational Security Best Practices", version="1.0.0",
                                     reference=ref)


def get(props: Any, path: str, default: Any = None) -> Any:
    """props['a']['b'][0]... by 'a.b.0'; missing keys give `default`. Unknown values still raise."""
    cur = props
    for part in path.split("."):
        if isinstance(cur, Mapping):
            if part not in cur:
                return default
            cur = cur[part]
        elif isinstance(cur, Sequence) and not isinstance(cur, str) and part.isdigit():
            idx = int(part)
            if idx >= len(cur):
                return default
            cur = cur[idx]
        else:
            return default
        if cur is None:
            return default
    return cur


def as_bool(value: Any, default: Any = None) -> Any:
    """A boolean input as True/False whichever way it is typed: pulumi-aws 7 made several former booleans
    strings ("true"/"false"; `bool("false")` is True), so every rule reads booleans through this. Anything
    else (absent, or a value that is not a boolean) gives `default`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return default


def num(value: Any) -> Any:
    """Numbers arrive as floats through the protobuf Struct (443.0): whole numbers become ints, so ports and
    rule numbers print as users wrote them."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def flag(props: Any, path: str, default: Any = None) -> Any:
    """get() for a boolean input, through as_bool (see there). Unknown values still raise."""
    return as_bool(get(props, path), default)


def items(value: Any) -> list:
    """A list-valued prop as a list (None -> [])."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [value[i] for i in range(len(value))]
    return [value]


def plain(value: Any) -> Any:
    """Deep-copy a proxied value into dict/list (reading every element, so unknowns raise here)."""
    if isinstance(value, Mapping):
        return {k: plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(value[i]) for i in range(len(value))]
    return value


def policy_document(value: Any) -> dict | None:
    """An IAM policy document given as a JSON string or as an object; None if absent or unparsable."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        # json.loads builds fresh dicts and lists of plain values: what `plain` would copy it into (no second walk).
        return doc if isinstance(doc, dict) else None
    doc = plain(value)
    return doc if isinstance(doc, dict) else None


def statements(doc: dict | None) -> list[dict]:
    if not doc:
        return []
    st = doc.get("Statement", [])
    return [s for s in (st if isinstance(st, list) else [st]) if isinstance(s, dict)]


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def resource_policy(name: str, description: str, types: Iterable[str], check: Callable, *,
                    severity: Severity = Severity.HIGH, remediation: str = "", framework=None,
                    tags: Iterable[str] = (), config_schema: PolicyConfigSchema | None = None,
                    refs=None, autofix: Autofix | None = None,
                    remediate: Callable | None = None) -> ResourceValidationPolicy:
    """Register `check(props, report, args)` as a resource rule for the given type tokens: the call form of
    the `rule` decorator (_registry.py). `remediation` is the how-to-fix text shown to users."""
    rule(name, description, types=types, severity=severity, steps=remediation, framework=framework, refs=refs,
         tags=tags, config_schema=config_schema, remediate=remediate, autofix=autofix)(check)
    return REGISTRY[name].policy


def stack_policy(name: str, description: str, check: Callable, *, types: Iterable[str],
                 severity: Severity = Severity.HIGH, remediation: str = "", framework=None, tags: Iterable[str] = (),
                 config_schema: PolicyConfigSchema | None = None, refs=None,
                 autofix: Autofix | None = None) -> StackValidationPolicy:
    """Register `check(resources, report, args)` as a stack rule reading the given type tokens."""
    rule(name, description, types=types, kind="stack", severity=severity, steps=remediation, framework=framework,
         refs=refs, tags=tags, config_schema=config_schema, autofix=autofix)(check)
    return REGISTRY[name].policy


def ancestors(resource) -> list:
    out, cur = [], resource.parent
    while cur is not None:
        out.append(cur)
        cur = cur.parent
    return out


def depends_on(resource, target, prop: str | None = None) -> bool:
    """Does `resource` depend on `target` (or on a component that contains it)? By URN, so it holds in a
    real preview where ids are unknown. With `prop`, only that property's dependencies count."""
    targets = {target.urn} | {a.urn for a in ancestors(target) if a.resource_type.split(":")[0] in REMOTE_PACKAGES}
    deps = (resource.property_dependencies.get(prop, []) if prop else
            list(resource.dependencies) + [d for ds in resource.property_dependencies.values() for d in ds])
    return any(d.urn in targets for d in deps)
