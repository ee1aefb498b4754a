"""Evaluate the policy pack on a recorded plan through the pulumi_policy SDK's own analyzer.

The CLI starts the pack as a gRPC server and calls GetAnalyzerInfo, Configure, Remediate,
Analyze (per resource) and AnalyzeStack. We build the same protobuf messages in-process and hand
them to the SDK's servicer logic, so enforcement levels, config defaults, remediation, unknown-value
handling ("can't run policy ... during preview") and not-applicable results behave as under
`pulumi preview --policy-pack policies`. Only the transport is skipped.

By default the servicer's loops run from plan/sdk.py's copy, which decodes each resource once for
all policies (the SDK decodes it once per policy: 96% of the analysis time) and isolates each policy
(an exception is that policy's error, in `Analysis.errors`; the others still run). `stock=True`
drives the unmodified servicer; tests/test_analyze_equivalence.py demands identical results.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2

from . import sdk
from .engine import ROOT, Plan, PlanError, Resource
from .sdk import PolicyAnalyzerServicer as _PolicyAnalyzerServicer
from .sdk import proto

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
    errors: list[Finding] = dataclasses.field(default_factory=list)
    """Policies that raised (level "error", message "policy X raised: ..."): the result is incomplete."""

    @property
    def mandatory(self) -> list[Finding]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def skipped(self) -> list[Finding]:
        """Policies that could not run because a value was unknown (a real preview shows these too)."""
        return [v for v in self.violations if PREVIEW_SKIP in v.message and "can't run policy" in v.message]

    def of(self, policy: str) -> list[Finding]:
        return [v for v in self.violations if v.policy == policy]


def pack_policies() -> list:
    """The pack's policies, as policies/__main__.py passes them to PolicyPack."""
    from policies.pack import pack_args
    return list(pack_args()["policies"])


def build_servicer(policies: list | None = None, name: str = "ai-platform-policies",
                   default_level=None, initial_config: dict | None = None) -> _PolicyAnalyzerServicer:
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


def configured_servicer(policy_config: Mapping[str, Any] | None = None) -> _PolicyAnalyzerServicer:
    """The pack's servicer with `policy_config` applied (raises PlanError on a bad config: the CLI calls this
    before it runs the program, so a bad config fails in a second, not after the whole plan)."""
    servicer = build_servicer()
    configure(servicer, policy_config)
    return servicer


def configure(servicer: _PolicyAnalyzerServicer, policy_config: Mapping[str, Any] | None = None) -> None:
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
        schema = _schema(policy.configSchema.SerializeToString()) if policy.HasField("configSchema") else {}
        for key, spec in (schema.get("properties") or {}).items():
            if key not in props and "default" in spec:
                props[key] = copy.deepcopy(spec["default"])
        if schema.get("properties"):
            error = _config_error(json.dumps(schema), json.dumps(props))  # key order kept: best_match breaks ties by it
            if error is not None:
                raise PlanError(f"policy config: {policy.name}.{error}") from None
        if level not in LEVEL_CODES:
            raise PlanError(f"policy config: {policy.name}: enforcement level {level!r} is not one of "
                            f"advisory, mandatory, remediate, disabled")
        cfg = proto.PolicyConfig(enforcementLevel=LEVEL_CODES[level])
        if props:
            cfg.properties.update(props)
        request.policyConfig[policy.name].CopyFrom(cfg)
    servicer.Configure(request, None)


@functools.lru_cache(maxsize=1024)
def _schema(serialized: bytes) -> dict:
    """A policy's config schema (the PolicyConfigSchema message GetAnalyzerInfo returns) as a dict, decoded once
    per distinct schema: configure() runs for every policy check in the tests (~100 policies each)."""
    message = proto.PolicyConfigSchema()
    message.ParseFromString(serialized)
    return json_format.MessageToDict(message)


@functools.lru_cache(maxsize=65536)
def _config_error(schema_json: str, props_json: str) -> str | None:
    """"path: message" of the best error of `props` against the policy's schema (or None): what jsonschema
    reports, computed once per distinct (schema, config) pair, and kept on disk for the next run (plan/diskcache.py;
    keyed by this module's source and the installed jsonschema), so a plan whose policy config was validated
    before does not import jsonschema at all."""
    from .diskcache import cached, library_stamp, source_stamp
    return cached("policy-config", [library_stamp("jsonschema"), source_stamp(__file__), schema_json, props_json],
                  lambda: _best_error(schema_json, props_json))


def _best_error(schema_json: str, props_json: str) -> str | None:
    import jsonschema
    schema = json.loads(schema_json)
    exc = jsonschema.exceptions.best_match(_validator(
        {"type": "object", "properties": schema["properties"], "required": schema.get("required", []),
         "additionalProperties": False}).iter_errors(json.loads(props_json)))
    if exc is None:
        return None
    return f"{'.'.join(str(p) for p in exc.absolute_path) or '(root)'}: {exc.message}"


_VALIDATORS: dict[str, Any] = {}


def _validator(schema: dict):
    """`jsonschema.validate` without re-checking the same schema against the meta-schema on every call (that
    check was 0.5 s of each configure); the schema is still checked, once per process."""
    import jsonschema
    key = json.dumps(schema, sort_keys=True)
    if key not in _VALIDATORS:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _VALIDATORS[key] = cls(schema)
    return _VALIDATORS[key]


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


def _provider(plan: Plan, r: Resource, providers: dict[str, Resource]) -> proto.AnalyzerProviderResource | None:
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


def _stack_props(r: Resource, plain: Mapping[str, Any] | None = None) -> dict:
    """What AnalyzeStack sees: the resource's state (inputs propagated, then outputs). `plain`: `r.props` if the
    caller already has it (unwrapping a resource's inputs again is a walk over every value)."""
    props = dict(r.props if plain is None else plain)
    props.update({k: v for k, v in r.outputs.items() if k not in props})
    return props


def analyze(plan: Plan, servicer: _PolicyAnalyzerServicer | None = None,
            policy_config: Mapping[str, Any] | None = None, *, stock: bool = False) -> Analysis:
    """Remediate and Analyze every resource, then AnalyzeStack, as the CLI does. `stock` drives the SDK's
    servicer itself (one decode per policy, an exception aborts); the default shares one decode per resource
    and isolates policies (plan/sdk.py)."""
    if servicer is None:
        servicer = configured_servicer(policy_config)
    providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
    violations: list[Finding] = []
    not_applicable: list[dict] = []
    remediations: list[dict] = []
    errors: list[sdk.PolicyError] = []
    pack = None if stock else sdk.Pack(servicer)
    names = [p.name for p in (servicer.GetAnalyzerInfo(None, None).policies if pack is None else pack.policies)]
    provider_cache: dict = {}

    def collect(response, urn: str):
        for d in response.diagnostics:
            violations.append(Finding(d.policyName, LEVELS.get(d.enforcementLevel, "advisory"), d.urn or urn,
                                      d.message))
        for n in response.not_applicable:
            not_applicable.append({"policy": n.policy_name, "urn": urn, "reason": n.reason})

    def provider_of(r: Resource):
        key = (r.provider, r.custom, r.type.split(":")[0])
        if key not in provider_cache:
            provider_cache[key] = _provider(plan, r, providers)
        return provider_cache[key]

    if pack is not None:
        pack.configure_runtime()
    unwrapped: dict[int, dict] = {}   # id(resource) -> its props, for the stack pass (unless remediated)
    for r in plan.resources:
        if r.type.startswith("pulumi:providers:"):
            continue
        provider = provider_of(r)
        props = unwrapped[id(r)] = r.props
        decoded = None
        if stock:
            fix = servicer.Remediate(proto.AnalyzeRequest(type=r.type, properties=_struct(props), urn=r.urn,
                                                          name=r.name, options=_options(r),
                                                          provider=provider), None)
        else:
            assert pack is not None
            decoded = _input(r, props, provider) if pack.any_remediate() else None
            fix = sdk.remediate_resource(pack, decoded, errors) if decoded is not None else proto.RemediateResponse()
        for rem in fix.remediations:
            if rem.diagnostic:
                violations.append(Finding(rem.policyName, "advisory", r.urn, rem.diagnostic))
            elif rem.properties:
                props = json_format.MessageToDict(rem.properties)
                remediations.append({"policy": rem.policyName, "urn": r.urn})
        if remediations and remediations[-1]["urn"] == r.urn:
            r.inputs = props  # the engine replaces the resource's inputs with the remediated ones
            unwrapped.pop(id(r))
            decoded = None
        if stock:
            request = proto.AnalyzeRequest(type=r.type, properties=_struct(props), urn=r.urn, name=r.name,
                                           options=_options(r), provider=provider)
            collect(servicer.Analyze(request, None), r.urn)
        else:
            assert pack is not None
            collect(sdk.analyze_resource(pack, decoded or _input(r, props, provider), errors), r.urn)

    stack = [r for r in plan.resources if not r.type.startswith("pulumi:providers:")]
    if stock:
        stack_request = proto.AnalyzeStackRequest()
        for r in stack:
            res = proto.AnalyzerResource(type=r.type, properties=_struct(_stack_props(r)), urn=r.urn, name=r.name,
                                         options=_options(r), parent=r.parent or "", dependencies=r.dependencies)
            provider = provider_of(r)
            if provider is not None:
                res.provider.CopyFrom(provider)
            for key, urns in r.propertyDependencies.items():
                res.propertyDependencies[key].urns.extend(urns)
            stack_request.resources.append(res)
        collect(servicer.AnalyzeStack(stack_request, None), "")
    else:
        assert pack is not None
        pack.configure_runtime()
        items = [sdk.StackInput(_input(r, _stack_props(r, unwrapped.get(id(r))), provider_of(r)), r.parent or "",
                                list(r.dependencies),
                                {k: list(v) for k, v in r.propertyDependencies.items()}) for r in stack]
        collect(sdk.analyze_stack(pack, items, errors), "")
    return Analysis(violations=violations, not_applicable=not_applicable, remediations=remediations,
                    policies=names,
                    errors=[Finding(e.policy, "error", e.urn, e.message) for e in errors])


def _input(r: Resource, props: Mapping[str, Any], provider) -> sdk.ResourceInput:
    """The resource as the servicer decodes it: the properties after the protobuf Struct round trip (numbers
    become floats, map order is protobuf's), the options and provider messages."""
    return sdk.ResourceInput(r.type, sdk.to_dict(_struct(props)), r.urn, r.name, _options(r), provider)


def load_policy_config(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PlanError(f"policy config: file {path} not found") from None
    except ValueError as exc:
        raise PlanError(f"policy config: {path} is not valid JSON ({exc})") from None


def default_policy_config(stack: str) -> Path | None:
    path = ROOT / "policies" / "config" / f"{stack}.json"
    return path if path.exists() else None
