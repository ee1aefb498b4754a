"""The shared-decode evaluator (plan/sdk.py, the default of plan.analyze.analyze) gives exactly what the policy
SDK's stock `_PolicyAnalyzerServicer` gives: on both stacks in both modes with the stacks' own policy configs,
with every policy forced to remediate (the Remediate path and the remediate->mandatory downgrade), and on
the whole policy corpus (every `policy_harness.check()` the rule tests make in this run, replayed).

Compared: every diagnostic (policy, level, urn, full message, in order), every not-applicable result, every
remediation and the inputs it left on each resource.

On the stacks, the stock servicer is the reference and the cost (it decodes every resource once per policy:
~100 resource policies x ~1,200 resources in Analyze, 47 stack policies x every resource in AnalyzeStack; the
four stack/mode pairs were ~45 s of the suite's CPU). What each pair compares (`STOCK_SCOPE`):
- prod update (the largest stack, every computed value known): everything, every resource and the stack.
- dev preview: the stack policies on the whole stack (with the unknowns of a preview), and the resource
  policies on one resource per (type, shape) (`representatives`).
- prod preview and dev update: the resource policies on one resource per (type, shape).
- all four: every remediation and the inputs it leaves, on every resource (Remediate is cheap).
A resource policy's verdict is a function of that one resource's request (type, inputs, options, provider; the
stock servicer runs Analyze per resource); what can make the two evaluators differ is how a request is decoded
and handed to each policy (value kinds: strings, numbers, booleans, lists, maps, unknowns, secrets, resource
references; a policy's changes to what it was given), which the shape captures: every leaf path of the inputs
and its kind. dev and prod are one program with different values, so every stack policy is compared on both
stacks, in both modes between them, and every rule's both sides again in the corpus.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

import policy_harness
from conftest import corpus_is_complete, corpus_is_split, stack_plan
from plan.analyze import (
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
    return servicer


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


# (stack, preview) -> (every resource's Analyze, the stack's AnalyzeStack) through the stock servicer; the
# module's docstring says why.
STOCK_SCOPE = {("prod", False): (True, True), ("dev", True): (False, True),
               ("prod", True): (False, False), ("dev", False): (False, False)}


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


def representatives(plan) -> set[str]:
    """The first resource (registration order) of each (type, shape of its inputs)."""
    chosen: dict = {}
    for r in plan.resources:
        if not r.type.startswith("pulumi:providers:"):
            chosen.setdefault((r.type, tuple(sorted(set(shape(r.props))))), r.urn)
    return set(chosen.values())


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


def assert_same_scoped(plan, policy_config, urns, stack: bool):
    """`assert_same` with the stock side scoped (`_Scoped`): the shared side runs in full and its findings are
    compared where the stock side was asked; remediations and inputs everywhere."""
    stack_policies = {p.name for p in pack_policies() if isinstance(p, StackValidationPolicy)}

    def compared(urn: str, from_stack: bool) -> bool:
        return stack if from_stack else (urns is None or urn in urns)

    config_json = json.dumps(policy_config, sort_keys=True)
    stock_plan, shared_plan = copy.deepcopy(plan), copy.deepcopy(plan)
    stock = analyze(stock_plan, servicer=_Scoped(_servicer(config_json, True), urns, stack), stock=True)
    shared = analyze(shared_plan, servicer=_servicer(config_json, False), stock=False)
    assert shared.errors == [] and stock.errors == []

    def findings(result):
        return ([v.to_json() for v in result.violations if compared(v.urn, v.policy in stack_policies)],
                [n for n in result.not_applicable if compared(n["urn"], n["urn"] == "")])
    assert findings(shared) == findings(stock)
    assert shared.remediations == stock.remediations
    assert [r.inputs for r in shared_plan.resources] == [r.inputs for r in stock_plan.resources]
    return findings(stock)


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_both_modes(stack, preview):
    plan = stack_plan(stack, preview)
    every_resource, whole_stack = STOCK_SCOPE[(stack, preview)]
    urns = None if every_resource else representatives(plan)
    assert urns is None or len(urns) >= len({r.type for r in plan.resources}) - 1  # providers left out
    violations, not_applicable = assert_same_scoped(plan, load_policy_config(default_policy_config(stack)), urns,
                                                    whole_stack)
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
        copy_ = copy.deepcopy(plan)
        result = analyze(copy_, servicer=servicer, stock=stock)
        results.append(([v.to_json() for v in result.violations], result.not_applicable, result.remediations,
                         [r.inputs for r in copy_.resources], result.errors))
    assert results[0] == results[1]
    assert {r["policy"] for r in results[0][2]} >= {"stamp"} and results[0][4] == []
    # what remediation could not fix is reported as mandatory (the SDK's downgrade of remediate)
    assert {v["level"] for v in results[0][0] if v["urn"].endswith("::volume")} == {"mandatory"}


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
