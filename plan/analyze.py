"""Evaluate the policy pack on a recorded plan through the pulumi_policy SDK's own analyzer.

The CLI starts the pack as a gRPC server and calls GetAnalyzerInfo, Configure, Remediate,
Analyze (per resource) and AnalyzeStack. We call the same servicer methods in-process with the
same protobuf messages, so enforcement levels, config defaults, remediation, unknown-value
handling ("can't run policy ... during preview") and not-applicable results behave as under
`pulumi preview --policy-pack policies`. Only the transport is skipped.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import jsonschema
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy.policy import _PolicyAnalyzerServicer

from .engine import ROOT, Plan, Resource, PlanError

LEVELS = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "remediate",
          proto.DISABLED: "disabled"}
LEVEL_CODES = {v: k for k, v in LEVELS.items()}
PREVIEW_SKIP = "during preview"


@dataclasses.dataclass
class Finding:
    policy: str
    level: str
    urn: str
    message: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Analysis:
    violations: list[Finding]
    not_applicable: list[dict]
    remediations: list[dict]
    policies: list[str]

    @property
    def mandatory(self) -> list[Finding]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def skipped(self) -> list[Finding]:
        """Policies that could not run because a value was unknown (a real preview shows these too)."""
        return [v for v in self.violations if PREVIEW_SKIP in v.message and "can't run policy" in v.message]

    def of(self, policy: str) -> list[Finding]:
        return [v for v in self.violations if v.policy == policy]


def build_servicer(policies: Optional[list] = None, name: str = "ai-platform-policies",
                   default_level=None, initial_config: Optional[dict] = None) -> _PolicyAnalyzerServicer:
    """The pack's servicer, built from the same arguments policies/__main__.py passes to PolicyPack."""
    from policies.pack import pack_args
    args = pack_args()
    if policies is not None:
        args["policies"] = policies
    if default_level is not None:
        args["enforcement_level"] = default_level
    if initial_config is not None:
        args["initial_config"] = initial_config
    return _PolicyAnalyzerServicer(
        args["name"], "0.0.1", args["policies"], args["enforcement_level"], args.get("initial_config"),
        args.get("description"), args.get("display_name"), args.get("readme"), args.get("provider"),
        args.get("tags"), args.get("repository"))


def configure(servicer: _PolicyAnalyzerServicer, policy_config: Optional[Mapping[str, Any]] = None) -> None:
    """What the CLI does with `--policy-pack-config`: merge initial config, apply 'all', fill schema
    defaults, validate against each policy's schema, then call Configure."""
    info = servicer.GetAnalyzerInfo(None, None)
    user = dict(policy_config or {})
    all_entry = user.pop("all", None)
    known = {p.name for p in info.policies}
    for key in user:
        if key not in known:
            raise PlanError(f"policy config: unknown policy {key!r}; expected one of the pack's policy names or 'all'")
    request = proto.ConfigureAnalyzerRequest()
    for policy in info.policies:
        level = LEVELS.get(policy.enforcementLevel, "advisory")
        props: dict[str, Any] = {}
        initial = info.initialConfig.get(policy.name) if policy.name in info.initialConfig else None
        if initial is not None:
            props.update(json_format.MessageToDict(initial.properties))
            if initial.enforcementLevel:
                level = LEVELS[initial.enforcementLevel]
        for entry in (all_entry, user.get(policy.name)):
            if isinstance(entry, str):
                level = entry
            elif isinstance(entry, Mapping):
                entry = dict(entry)
                level = entry.pop("enforcementLevel", level)
                if entry and entry is not all_entry:
                    props.update(entry)
        schema = json_format.MessageToDict(policy.configSchema) if policy.HasField("configSchema") else {}
        for key, spec in (schema.get("properties") or {}).items():
            if key not in props and "default" in spec:
                props[key] = spec["default"]
        if schema.get("properties"):
            try:
                jsonschema.validate(props, {"type": "object", "properties": schema["properties"],
                                            "required": schema.get("required", []), "additionalProperties": False})
            except jsonschema.ValidationError as exc:
                path = ".".join(str(p) for p in exc.absolute_path) or "(root)"
                raise PlanError(f"policy config: {policy.name}.{path}: {exc.message}") from None
        if level not in LEVEL_CODES:
            raise PlanError(f"policy config: {policy.name}: enforcement level {level!r} is not one of "
                            f"advisory, mandatory, remediate, disabled")
        cfg = proto.PolicyConfig(enforcementLevel=LEVEL_CODES[level])
        if props:
            cfg.properties.update(props)
        request.policyConfig[policy.name].CopyFrom(cfg)
    servicer.Configure(request, None)


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(value))
    return s


def _options(r: Resource) -> proto.AnalyzerResourceOptions:
    opts = proto.AnalyzerResourceOptions(
        protect=r.options.get("protect", False), ignoreChanges=r.options.get("ignoreChanges", []),
        additionalSecretOutputs=r.options.get("additionalSecretOutputs", []), parent=r.parent or "")
    if r.options.get("deleteBeforeReplace") is not None:
        opts.deleteBeforeReplace = r.options["deleteBeforeReplace"]
        opts.deleteBeforeReplaceDefined = True
    return opts


def _provider(plan: Plan, r: Resource, providers: dict[str, Resource]) -> Optional[proto.AnalyzerProviderResource]:
    if not r.custom:
        return None
    pkg = r.type.split(":")[0]
    explicit = providers.get(r.provider)
    if explicit is not None:
        return proto.AnalyzerProviderResource(type=explicit.type, urn=explicit.urn, name=explicit.name,
                                              properties=_struct(explicit.props))
    props = {"region": plan.region} if pkg == "aws" else {}
    urn = f"urn:pulumi:{plan.stack}::{plan.project}::pulumi:providers:{pkg}::default"
    return proto.AnalyzerProviderResource(type=f"pulumi:providers:{pkg}", urn=urn, name="default",
                                          properties=_struct(props))


def _stack_props(r: Resource) -> dict:
    """What AnalyzeStack sees: the resource's state (inputs propagated, then outputs)."""
    props = dict(r.props)
    props.update({k: v for k, v in r.outputs.items() if k not in props})
    return props


def analyze(plan: Plan, servicer: Optional[_PolicyAnalyzerServicer] = None,
            policy_config: Optional[Mapping[str, Any]] = None) -> Analysis:
    if servicer is None:
        servicer = build_servicer()
        configure(servicer, policy_config)
    providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
    info = servicer.GetAnalyzerInfo(None, None)
    violations: list[Finding] = []
    not_applicable: list[dict] = []
    remediations: list[dict] = []

    def collect(response, urn: str):
        for d in response.diagnostics:
            violations.append(Finding(d.policyName, LEVELS.get(d.enforcementLevel, "advisory"), d.urn or urn,
                                      d.message))
        for n in response.not_applicable:
            not_applicable.append({"policy": n.policy_name, "urn": urn, "reason": n.reason})

    for r in plan.resources:
        if r.type.startswith("pulumi:providers:"):
            continue
        provider = _provider(plan, r, providers)
        props = r.props
        fix = servicer.Remediate(proto.AnalyzeRequest(type=r.type, properties=_struct(props), urn=r.urn,
                                                      name=r.name, options=_options(r),
                                                      provider=provider), None)
        for rem in fix.remediations:
            if rem.diagnostic:
                violations.append(Finding(rem.policyName, "advisory", r.urn, rem.diagnostic))
            elif rem.properties:
                props = json_format.MessageToDict(rem.properties)
                remediations.append({"policy": rem.policyName, "urn": r.urn})
        if remediations and remediations[-1]["urn"] == r.urn:
            r.inputs = props  # the engine replaces the resource's inputs with the remediated ones
        request = proto.AnalyzeRequest(type=r.type, properties=_struct(props), urn=r.urn, name=r.name,
                                       options=_options(r), provider=provider)
        collect(servicer.Analyze(request, None), r.urn)

    stack_request = proto.AnalyzeStackRequest()
    for r in plan.resources:
        if r.type.startswith("pulumi:providers:"):
            continue
        res = proto.AnalyzerResource(type=r.type, properties=_struct(_stack_props(r)), urn=r.urn, name=r.name,
                                     options=_options(r), parent=r.parent or "", dependencies=r.dependencies)
        provider = _provider(plan, r, providers)
        if provider is not None:
            res.provider.CopyFrom(provider)
        for key, urns in r.propertyDependencies.items():
            res.propertyDependencies[key].urns.extend(urns)
        stack_request.resources.append(res)
    collect(servicer.AnalyzeStack(stack_request, None), "")
    return Analysis(violations=violations, not_applicable=not_applicable, remediations=remediations,
                    policies=[p.name for p in info.policies])


def load_policy_config(path: Optional[Path]) -> dict:
    if path is None:
        return {}
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PlanError(f"policy config: file {path} not found") from None
    except ValueError as exc:
        raise PlanError(f"policy config: {path} is not valid JSON ({exc})") from None


def default_policy_config(stack: str) -> Optional[Path]:
    path = ROOT / "policies" / "config" / f"{stack}.json"
    return path if path.exists() else None
