"""The shared-decode evaluator (plan/sdk.py, the default of plan.analyze.analyze) gives exactly what the policy
SDK's stock `_PolicyAnalyzerServicer` gives: on both stacks in both modes with the stacks' own policy configs,
with every policy forced to remediate (the Remediate path and the remediate->mandatory downgrade), and on
the whole policy corpus (every `policy_harness.check()` the rule tests make in this run, replayed). The stock
side's Analyze leaves out, for each request, the registered rules whose own type filter (`applies_to`, the one
their `validate` runs behind) excludes the request's type, and answers each distinct request once (`_Answers`);
test_a_rule_does_nothing_for_a_type_it_does_not_apply_to checks what that leaves out.

Compared: every diagnostic (policy, level, urn, full message, in order), every not-applicable result, every
remediation and the inputs it left on each resource.

On the stacks, the stock servicer is the reference and the cost: it decodes every resource once per policy
(~100 resource policies x ~1,200 resources in Analyze, 47 stack policies x every resource in AnalyzeStack; the
four stack/mode pairs in full were ~12.5 s of CPU, ~8 s of it prod update's). What each pair compares
(`stock_scope`, computed from all four plans in the order of PAIRS: prod update, dev preview, prod preview, dev
update):
- the shared evaluator runs in full on every pair; every remediation and the inputs it leaves are compared on
  every resource (Remediate is cheap);
- Analyze: the stock servicer answers for one resource per kind of request (`request_kind`: type, every leaf path
  of the inputs and its value kind, the options the analyzer passes, the provider and the shape of its
  properties), in the first pair that has that kind; the shared side's findings there are compared (the stock
  Analyze runs the pack less the registered rules that do nothing for the request's type: `_Answers`);
- AnalyzeStack: both evaluators on a smaller stack per pair, one resource per kind of stack entry (`stack_kind`:
  the request's kind with the state's shape, inputs then outputs, and whether it has dependencies and which
  property dependencies) not already in an earlier pair's, with the components above them.
A resource policy's verdict is a function of that one resource's request (the stock servicer runs Analyze per
resource); what can make the two evaluators differ is how a request is decoded and handed to each policy (value
kinds: strings, numbers, booleans, lists, maps, unknowns, secrets; options; the provider; a policy's changes to
what it was given), which the kind captures, and kinds do not depend on the stack or the mode they came from. A
stack policy runs once over the whole stack and its verdict depends on which resources are there, so each pair's
smaller stack is still a stack both evaluators must agree on, holding every kind of entry the stack policies read
there that no earlier pair held (parents, dependencies and property dependencies linked as in any stack; a link
to a resource left out is dropped by both). What is no longer compared: the stock verdict of every resource and of
the stack policies on the real whole stacks (the shared evaluator's verdicts there are what the stack tests
assert); every rule's both sides are compared again in the corpus. docs/performance.md (item 42).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy

import policy_harness
from conftest import corpus_is_complete, corpus_is_split, stack_analysis, stack_plan
from plan.analyze import (
    _stack_props,
    analyze,
    build_servicer,
    configure,
    default_policy_config,
    load_policy_config,
    pack_policies,
)
from plan.engine import SECRET_SIG, SECRET_VALUE, UNKNOWN
from plan.records import records_plan
from plan.sdk import proto
from policy_harness import rec

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def _servicer(policy_config_json: str, stock: bool):
    """One configured servicer per (policy config, side), reused across the corpus's ~270 record sets (configuring
    the pack's ~100 policies was a third of the corpus test); analysis does not change a servicer, and each side
    keeps its own."""
    servicer = build_servicer()
    configure(servicer, json.loads(policy_config_json))
    return _Answers(servicer) if stock else servicer


class _Answers:
    """The stock servicer, each of its answers given once per distinct question, and Analyze asked of the policies
    that can act on the request's type:
    - GetAnalyzerInfo (the policies' names, built again on every call: ~0.2 s of the corpus) once;
    - Analyze once per distinct request (its serialized bytes: type, properties, urn, name, options, provider).
      The rule tests check the same records again and again (a compliant resource in two or three tests of its
      rule: 967 distinct of 1,285 requests). An Analyze answer is a function of the configured pack and the
      request: the stock servicer keeps nothing between calls, and the pack's policies are functions of their
      arguments (a policy that kept state would already give the two evaluators different answers);
    - Analyze runs the SDK's own loop over the pack's policies less the registered rules that do nothing for the
      request's type: a rule's `validate` is `if applies_to(type) and ...: check(...)` with `applies_to` its own
      type filter (policies/rules/_registry.py), so its stock answer for any other type is nothing, whatever the
      request holds (test_a_rule_does_nothing_for_a_type_it_does_not_apply_to checks every rule on every type of
      the stacks). What the left-out pairs cost the stock servicer was only its decoding of the request again, once
      per rule (~100 per resource), for a `validate` that returns at once: the same decoding the rules that do
      apply (every aws type has at least the tag rule) still run on it. Policies that are not registered rules
      (no `applies_to`), those without validate (their not-applicable results) and the levels stay the SDK's.
    Remediate and AnalyzeStack are asked every time, of every policy."""

    def __init__(self, servicer):
        self._servicer, self._info, self._analyze = servicer, None, {}
        self._policies = servicer._PolicyAnalyzerServicer__policies  # the SDK's private state (pinned, plan/sdk.py)
        self._by_type: dict = {}

    def __getattr__(self, name):
        return getattr(self._servicer, name)

    def GetAnalyzerInfo(self, request, context):
        if self._info is None:
            self._info = self._servicer.GetAnalyzerInfo(request, context)
        return self._info

    def _acting_on(self, type_: str) -> list:
        if type_ not in self._by_type:
            self._by_type[type_] = [p for p in self._policies if not (
                isinstance(p, ResourceValidationPolicy) and getattr(p, "applies_to", None) is not None
                and p.has_validation() and not p.applies_to(type_))]
        return self._by_type[type_]

    def Analyze(self, request, context):
        key = request.SerializeToString(deterministic=True)
        if key not in self._analyze:
            self._servicer._PolicyAnalyzerServicer__policies = self._acting_on(request.type)
            try:
                self._analyze[key] = self._servicer.Analyze(request, context)
            finally:
                self._servicer._PolicyAnalyzerServicer__policies = self._policies
        return self._analyze[key]


def outcome(plan, policy_config, *, stock: bool):
    plan = copy.deepcopy(plan)
    servicer = _servicer(json.dumps(policy_config, sort_keys=True), stock)
    result = analyze(plan, servicer=servicer, stock=stock)
    return {"violations": [v.to_json() for v in result.violations], "notApplicable": result.not_applicable,
            "remediations": result.remediations, "inputs": [r.inputs for r in plan.resources],
            "errors": [e.to_json() for e in result.errors]}


def assert_same(plan, policy_config):
    stock = outcome(plan, policy_config, stock=True)
    shared = outcome(plan, policy_config, stock=False)
    assert shared["errors"] == [] and stock["errors"] == []
    for key in ("violations", "notApplicable", "remediations", "inputs"):
        assert shared[key] == stock[key], key
    return stock


# The order in which the stack/mode pairs take their share of the stock comparison (`stock_scope`).
PAIRS = [("prod", False), ("dev", True), ("prod", True), ("dev", False)]


def shape(value, path: str = ""):
    """Every leaf path of `value` with its kind (a list's items share one path)."""
    if value == UNKNOWN:
        yield path, "unknown"
    elif isinstance(value, dict) and SECRET_SIG in value:
        yield path, f"sig:{value[SECRET_SIG]}"
    elif isinstance(value, dict):
        if not value:
            yield path, "{}"
        for key in sorted(value):
            yield from shape(value[key], f"{path}.{key}")
    elif isinstance(value, list):
        if not value:
            yield path, "[]"
        for item in value:
            yield from shape(item, path + "[]")
    else:
        yield path, type(value).__name__


def _kinds(value) -> tuple:
    return tuple(sorted(set(shape(value))))


def request_kind(r, providers: dict) -> tuple:
    """What the servicers decode of a resource's Analyze request, as kinds: its type, the shape of its inputs,
    of the options the analyzer passes (ignoreChanges, additionalSecretOutputs, deleteBeforeReplace set or not,
    a parent or not; protect is always a bool) and of its provider (the default one, or an explicit provider's
    type and the shape of its properties)."""
    explicit = providers.get(r.provider) if r.custom else None
    provider = None if not r.custom else "default" if explicit is None else (explicit.type, _kinds(explicit.props))
    options = r.options
    return (r.type, _kinds(r.props), provider, _kinds(options.get("ignoreChanges") or []),
            _kinds(options.get("additionalSecretOutputs") or []), options.get("deleteBeforeReplace") is not None,
            bool(r.parent))


def stack_kind(r, providers: dict) -> tuple:
    """`request_kind` for AnalyzeStack: the shape of the state it sees (inputs, then outputs) instead of the
    inputs, and whether it has dependencies and which property dependencies."""
    return (*request_kind(r, providers), _kinds(_stack_props(r)), bool(r.dependencies),
            tuple(sorted(r.propertyDependencies)))


def representatives(plan, kind, seen: set) -> set[str]:
    """The first resource (registration order) of each `kind` not in `seen` (which gains them)."""
    providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
    chosen: dict = {}
    for r in plan.resources:
        if r.urn not in providers:
            key = kind(r, providers)
            if key not in seen:
                chosen.setdefault(key, r.urn)
    seen.update(chosen)
    return set(chosen.values())


def with_ancestors(plan, urns: set[str]) -> set[str]:
    by_urn = plan.by_urn()
    out = set(urns)
    for urn in urns:
        parent = by_urn[urn].parent
        while parent and parent in by_urn and parent not in out:
            out.add(parent)
            parent = by_urn[parent].parent
    return out


@functools.cache
def stock_scope() -> dict:
    """(stack, preview) -> (the urns whose Analyze the stock servicer answers, the urns of the stack its
    AnalyzeStack answers on): each kind of request (`request_kind`, `stack_kind`) is asked of the stock servicer
    in the first pair of PAIRS that has it, on its first resource there; the stack is those resources with their
    ancestors (the components their parent links reach). Computed from all four plans, so a pair's share does
    not depend on which tests run or in what order."""
    seen_requests: set = set()
    seen_stack: set = set()
    scope = {}
    for pair in PAIRS:
        plan = stack_plan(*pair)
        scope[pair] = (representatives(plan, request_kind, seen_requests),
                       with_ancestors(plan, representatives(plan, stack_kind, seen_stack)))
    return scope


class _Scoped:
    """The stock servicer, asked for Analyze only on `urns` (None: every resource) and for AnalyzeStack only when
    `stack`; the answer is otherwise empty, and the comparison leaves the shared side's findings there out too."""

    def __init__(self, servicer, urns, stack: bool):
        self._servicer, self._urns, self._stack = servicer, urns, stack

    def __getattr__(self, name):
        return getattr(self._servicer, name)

    def Analyze(self, request, context):
        if self._urns is None or request.urn in self._urns:
            return self._servicer.Analyze(request, context)
        return proto.AnalyzeResponse()

    def AnalyzeStack(self, request, context):
        return self._servicer.AnalyzeStack(request, context) if self._stack else proto.AnalyzeResponse()


def fresh(plan):
    """`plan` for an analysis to change: analyze() changes a plan only by replacing a remediated resource's
    `inputs` (test_every_policy_remediating checks the plan it was given is left as it was), so each Resource is
    copied and its values shared (a deepcopy was ~0.06 s of a prod plan, four per stack comparison)."""
    return dataclasses.replace(plan, resources=[copy.copy(r) for r in plan.resources])


def assert_same_scoped(plan, policy_config, urns, stack_urns, shared_analysis=None):
    """`assert_same` with the stock side scoped: on the whole plan, the stock servicer's Analyze on `urns` (None:
    every resource) against the shared evaluator's findings there, and every remediation and the inputs it
    left; the stack policies on the plan restricted to `stack_urns` (None: the whole plan), both evaluators.
    `shared_analysis`: the shared evaluator's analysis of `plan` with `policy_config`, already made (the stack
    tests' `stack_analysis`), used when it remediated nothing (so `plan` holds the inputs it left).
    Returns the stock side's compared findings (violations, not-applicable results)."""
    stack_policies = {p.name for p in pack_policies() if isinstance(p, StackValidationPolicy)}
    config_json = json.dumps(policy_config, sort_keys=True)

    def run(plan, stock_urns, stack: bool, shared=None):
        stock_plan, shared_plan = fresh(plan), plan if shared is not None else fresh(plan)
        stock = analyze(stock_plan, servicer=_Scoped(_servicer(config_json, True), stock_urns, stack), stock=True)
        if shared is None:
            shared = analyze(shared_plan, servicer=_servicer(config_json, False), stock=False)
        assert shared.errors == [] and stock.errors == []
        return stock, shared, stock_plan, shared_plan

    def findings(result, urns, stack: bool):
        def compared(urn: str, from_stack: bool) -> bool:
            return stack if from_stack else (urns is None or urn in urns)
        return ([v.to_json() for v in result.violations if compared(v.urn, v.policy in stack_policies)],
                [n for n in result.not_applicable if compared(n["urn"], n["urn"] == "")])

    whole = stack_urns is None
    given = shared_analysis if shared_analysis is not None and not shared_analysis.remediations else None
    stock, shared, stock_plan, shared_plan = run(plan, urns, whole, given)
    assert findings(shared, urns, whole) == findings(stock, urns, whole)
    assert shared.remediations == stock.remediations
    assert [r.inputs for r in shared_plan.resources] == [r.inputs for r in stock_plan.resources]
    violations, not_applicable = findings(stock, urns, whole)
    if not whole:
        sub = dataclasses.replace(plan, resources=[r for r in plan.resources if r.urn in stack_urns
                                                   or r.type.startswith("pulumi:providers:")])
        stock, shared, _, _ = run(sub, set(), True)
        assert findings(shared, set(), True) == findings(stock, set(), True)
        more_violations, more_not_applicable = findings(stock, set(), True)
        violations, not_applicable = violations + more_violations, not_applicable + more_not_applicable
    return violations, not_applicable


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_both_modes(stack, preview):
    plan = stack_plan(stack, preview)
    urns, stack_urns = stock_scope()[(stack, preview)]
    if (stack, preview) == PAIRS[0]:  # the first pair has every kind it holds: at least one resource per type
        assert len(urns) >= len({r.type for r in plan.resources}) - 1  # providers left out
    violations, not_applicable = assert_same_scoped(plan, load_policy_config(default_policy_config(stack)), urns,
                                                    stack_urns, stack_analysis(stack, preview))
    assert violations or not_applicable  # the comparison compared something


def _stamp(args):
    """A remediation of our own (the pack's may change): stamps a tag, keeping a secret value secret."""
    tags = dict(args.props.get("tags") or {})
    tags["Remediated"] = "yes"
    return {**args.props, "tags": tags}


REMEDIATE_RECORDS = [
    rec("aws:s3/bucket:Bucket", "bucket", {"tags": {"Project": "p"}}),
    rec("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab",
        {"bucket": UNKNOWN, "blockPublicAcls": True, "blockPublicPolicy": False}, prop_deps={"bucket": ["bucket"]}),
    rec("aws:sqs/queue:Queue", "queue", {"policy": UNKNOWN}),
    rec("aws:sns/topic:Topic", "topic", {"name": "alerts"}),
    rec("aws:ebs/volume:Volume", "volume", {"encrypted": False}),
    rec("aws:secretsmanager/secretVersion:SecretVersion", "secret",
        {"secretString": {SECRET_SIG: SECRET_VALUE, "value": "s3cr3t"}}),
]


def test_every_policy_remediating():
    """All levels at remediate (the pack's policies plus one that always remediates): Remediate runs every
    remediation in order, Analyze then reports the rest as mandatory, on the remediated inputs."""
    policies = [*pack_policies(), ResourceValidationPolicy("stamp", "stamps a tag", remediate=_stamp)]
    plan = records_plan(REMEDIATE_RECORDS)
    results = []
    for stock in (True, False):
        servicer = build_servicer(policies=policies)
        configure(servicer, {"all": "remediate"})
        before = copy.deepcopy(plan)
        copy_ = fresh(plan)
        result = analyze(copy_, servicer=servicer, stock=stock)
        assert plan == before  # analyze() left the plan it was given as it was (`fresh`)
        results.append(([v.to_json() for v in result.violations], result.not_applicable, result.remediations,
                         [r.inputs for r in copy_.resources], result.errors))
    assert results[0] == results[1]
    assert {r["policy"] for r in results[0][2]} >= {"stamp"} and results[0][4] == []
    # what remediation could not fix is reported as mandatory (the SDK's downgrade of remediate)
    assert {v["level"] for v in results[0][0] if v["urn"].endswith("::volume")} == {"mandatory"}


class _Untouchable:
    """A request's props, options or provider that fail the test on any use."""

    def __getattr__(self, name):
        raise AssertionError(f"read .{name}")

    def __getitem__(self, key):
        raise AssertionError(f"read [{key!r}]")

    def __iter__(self):
        raise AssertionError("iterated")

    def __len__(self):
        raise AssertionError("measured")

    def __contains__(self, key):
        raise AssertionError(f"asked for {key!r}")


def test_a_rule_does_nothing_for_a_type_it_does_not_apply_to():
    """What lets the stock side's Analyze (`_Answers`) leave a registered rule out for a type: called as the SDK
    calls it, with a type outside its `applies_to`, every resource rule of the pack returns without reporting and
    without reading the request (props, options, provider), for every type of the four stacks' plans and a few
    of no stack; and a rule does report on a type it applies to (the other side)."""
    types = {r.type for pair in PAIRS for r in stack_plan(*pair).resources}
    types |= {"aws:s3/bucket:Bucket", "aws:unknown/thing:Thing", "azure:storage/account:Account",
              "awsx:lb:ApplicationLoadBalancer", "ai-platform:tier:Data", "pulumi:providers:aws"}
    rules = [p for p in pack_policies() if isinstance(p, ResourceValidationPolicy)
             and getattr(p, "applies_to", None) is not None and p.has_validation()]
    assert len(rules) >= 80
    reports: list = []
    checked = 0
    for policy in rules:
        for type_ in sorted(types):
            if policy.applies_to(type_):
                continue
            args = ResourceValidationArgs(type_, _Untouchable(), f"urn:pulumi:s::p::{type_}::r", "r",  # type: ignore[arg-type]
                                          _Untouchable(), _Untouchable(), {}, {})  # type: ignore[arg-type]
            policy.validate(args, lambda message, urn=None, _p=policy.name: reports.append((_p, message)))
            checked += 1
    assert reports == [] and checked > 10_000
    # The other side: a rule reports on its own type, reading the request.
    kms = next(p for p in rules if p.name == "kms-key-rotation-enabled")
    assert kms.applies_to("aws:kms/key:Key")
    seen: list = []
    kms.validate(ResourceValidationArgs("aws:kms/key:Key", {"enableKeyRotation": False}, "urn:pulumi:s::p::k", "k",
                                        None, None, {}, {}),  # type: ignore[arg-type]
                 lambda message, urn=None: seen.append(message))
    assert seen


def _corpus() -> list:
    if corpus_is_complete():
        return policy_harness.CORPUS
    # Some rule tests ran here and the others on another worker: pytest-xdist split the group conftest marks
    # (pytest-xdist 3.8's loadgroup under pytest 9.2 drops every group, pytest-xdist#1386; requirements-dev.in
    # pins pytest). The child run below would hide it, at the cost of every rule test run twice.
    assert not corpus_is_split(), "pytest-xdist split the rule-test group (tests/conftest.py, requirements-dev.in)"
    # Run alone (or without the rule tests in this process): collect the corpus from a child run of all the rule
    # tests (conftest writes it at the end).
    out = ROOT / "tests" / ".corpus.json"
    try:
        files = sorted(str(p) for p in (ROOT / "tests").glob("test_rules_*.py"))
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider", "-p", "no:xdist",
                        *files],
                       cwd=ROOT, env={**os.environ, "PLAN_CORPUS_OUT": str(out)}, capture_output=True, timeout=600)
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def test_policy_corpus():
    """Every records set the rule tests check, with its level and config, through both evaluators. Runs last
    (conftest), so the corpus is this run's."""
    seen, compared = set(), 0
    for records, policy_config, region in _corpus():
        key = json.dumps([records, policy_config, region], sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        assert_same(records_plan(copy.deepcopy(records), region=region), policy_config)
        compared += 1
    assert compared >= 100, compared
