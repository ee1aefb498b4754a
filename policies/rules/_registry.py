"""The rule registry: every rule declares its metadata once, where it is defined, and the pack
(policies/pack.py), the catalogue (policies/catalog.py) and the policy table (policies/README.md) read it
from here. Nothing is recovered afterwards by inspecting closures or bytecode.

    @rule("kms-key-rotation-enabled", "KMS keys rotate yearly.", types=(KMS_KEY,),
          severity=Severity.MEDIUM, framework=fsbp("KMS.4"), refs={"checkov": "CKV_AWS_7"},
          steps="Set enable_key_rotation=True.", tags=["kms", "encryption"])
    def _rotation(props, report, args): ...

A resource rule's check is `check(props, report, args)`, called only for its `types`; a stack rule's
(`kind="stack"`) is `check(resources, report, args)` and its `types` say which types it reads (required:
the catalogue and the table list them). `types=ANY_AWS` means every pulumi-aws type.

Remediation (`remediate=`) is allowed only with an `Autofix("remediate", reason)` that says why the fix cannot
change behaviour or hide a finding; every other rule records `Autofix("report", reason)` (a default reason
applies). The decision and reason are printed in the policy table.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

ANY_AWS = ("aws:*",)
# Other packs' identifiers a rule corresponds to. awsguard = pulumi/pulumi-policy-aws; pulumi = Pulumi's
# compliance-ready policies (pulumi-compliance-policies-aws); checkov; cdk-nag (AwsSolutions pack); fsbp / cis:
# further AWS FSBP controls (Service.N) and CIS AWS Foundations 3.0 sections beyond the one `framework` names.
# policies/COVERAGE.md (python -m policies.catalog --coverage) lists every id against the anchors' lists.
REF_KINDS = ("awsguard", "pulumi", "checkov", "cdk-nag", "fsbp", "cis")
DEFAULT_REPORT_REASON = ("report only: the fix is a design decision (keys, network paths, capacity, retention) that "
                         "changes behaviour or cost; the team applies it.")


@dataclasses.dataclass(frozen=True)
class Autofix:
    decision: str  # "remediate" | "report"
    reason: str

    def __post_init__(self):
        if self.decision not in ("remediate", "report"):
            raise ValueError(f"autofix decision {self.decision!r}: use 'remediate' or 'report'")
        if not self.reason:
            raise ValueError("an autofix decision needs its reason")


@dataclasses.dataclass(frozen=True)
class RuleSpec:
    id: str
    kind: str  # resource | stack
    types: tuple
    description: str
    severity: Severity
    steps: str  # how a human fixes a violation
    framework: object  # PolicyComplianceFramework or None
    refs: Mapping[str, tuple]
    tags: tuple
    autofix: Autofix
    module: str  # the rule module (one per AWS service)
    policy: Any  # the SDK policy object the pack serves (Resource- or StackValidationPolicy)


REGISTRY: dict[str, RuleSpec] = {}


# Other spellings of a reference kind seen in tags.
REF_ALIASES = {"compliance-policies": "pulumi"}


def _ref_id(kind: str, ident: str) -> str:
    """The anchor's own spelling: cdk-nag ids carry their pack prefix (AEC3 -> AwsSolutions-AEC3)."""
    if kind == "cdk-nag" and not ident.startswith("AwsSolutions-"):
        return f"AwsSolutions-{ident}"
    return ident


def _split_refs(tags: Iterable[str], refs: Mapping[str, object] | None) -> tuple[tuple, dict]:
    out: dict[str, list] = {}
    for kind, ids in (refs or {}).items():
        out.setdefault(kind, []).extend(_ref_id(kind, i) for i in (
            [ids] if isinstance(ids, str) else list(ids)))  # type: ignore[call-overload]  # a str or str iterable
    plain = []
    for t in tags:
        kind, sep, ident = t.partition(":")
        kind = REF_ALIASES.get(kind, kind) if sep else kind
        if sep and kind in REF_KINDS:
            out.setdefault(kind, []).append(_ref_id(kind, ident))
        elif re.fullmatch(r"CKV2?_AWS_\d+", t):  # a bare checkov id
            out.setdefault("checkov", []).append(t)
        else:
            plain.append(t)
    bad = set(out) - set(REF_KINDS)
    if bad:
        raise ValueError(f"unknown reference kind(s) {sorted(bad)}: use {', '.join(REF_KINDS)}")
    return tuple(plain), {k: tuple(dict.fromkeys(out[k])) for k in REF_KINDS if out.get(k)}


def is_component(token: str) -> bool:
    """awsx:lb:ApplicationLoadBalancer, eks:index:Cluster (no module/member path) vs aws:lb/loadBalancer:..."""
    parts = token.split(":")
    return len(parts) == 3 and "/" not in parts[1]


def judged_at_component(urn: str, types: tuple) -> bool:
    """True for a resource inside a component this rule already judges (an awsx ALB's load balancer and
    listeners, an awsx FargateService's service and task definition, an eks Cluster's aws.eks.Cluster):
    the team sees each finding once, at the component whose inputs they wrote. The ancestors' types are in
    the URN's qualified type (`awsx:lb:ApplicationLoadBalancer$aws:lb/loadBalancer:LoadBalancer`)."""
    parts = urn.split("::")
    if len(parts) < 4:
        return False
    return any(t in types and is_component(t) for t in parts[2].split("$")[:-1])


def rule(id: str, description: str, *, types: Iterable[str], kind: str = "resource",
         severity: Severity = Severity.HIGH, steps: str = "", framework=None,
         refs: Mapping[str, object] | None = None, tags: Iterable[str] = (),
         config_schema: PolicyConfigSchema | None = None, remediate: Callable | None = None,
         autofix: Autofix | None = None) -> Callable:
    """Decorator registering `check` as rule `id` with its metadata (see the module docstring)."""
    types = tuple(types)
    if not types:
        raise ValueError(f"{id}: declare the resource types the rule reads (ANY_AWS for every aws type)")
    if kind not in ("resource", "stack"):
        raise ValueError(f"{id}: kind must be 'resource' or 'stack'")
    if remediate is not None and (autofix is None or autofix.decision != "remediate"):
        raise ValueError(f"{id}: a remediation needs Autofix('remediate', <why it cannot change behaviour>)")
    if autofix is not None and autofix.decision == "remediate" and remediate is None:
        raise ValueError(f"{id}: Autofix('remediate') without a remediate function")
    autofix = autofix or Autofix("report", DEFAULT_REPORT_REASON)
    plain_tags, all_refs = _split_refs(tags, refs)
    matches = (lambda t: t.startswith("aws:")) if types == ANY_AWS else (lambda t: t in types)

    def register(check: Callable) -> Callable:
        if id in REGISTRY:
            raise ValueError(f"duplicate rule id {id} ({REGISTRY[id].module} and {check.__module__})")
        common: dict[str, Any] = dict(name=id, description=description, severity=severity, framework=framework,
                      tags=list(plain_tags), remediation_steps=steps or None, config_schema=config_schema)
        if kind == "stack":
            def validate_stack(args: StackValidationArgs, report: ReportViolation):
                check(args.resources, report, args)
            policy: Any = StackValidationPolicy(validate=validate_stack, **common)
        else:
            def validate(args: ResourceValidationArgs, report: ReportViolation):
                if matches(args.resource_type) and not judged_at_component(args.urn, types):
                    check(args.props, report, args)

            fix = None
            if remediate is not None:
                def fix(args: ResourceValidationArgs):
                    return remediate(args) if matches(args.resource_type) else None
            policy = ResourceValidationPolicy(validate=validate, remediate=fix, **common)
            # The types `validate` reads (it does nothing for any other): the offline engine's evaluator skips the
            # other (resource, policy) pairs instead of calling it (plan/sdk.py `analyze_resource`).
            policy.applies_to = matches
        REGISTRY[id] = RuleSpec(id=id, kind=kind, types=types, description=description, severity=severity,
                                steps=steps, framework=framework, refs=all_refs, tags=plain_tags, autofix=autofix,
                                module=check.__module__.rsplit(".", 1)[-1], policy=policy)
        return check

    return register


def specs() -> list[RuleSpec]:
    return [REGISTRY[k] for k in sorted(REGISTRY)]
