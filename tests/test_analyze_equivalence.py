"""The shared-decode evaluator (plan/sdk.py, the default of plan.analyze.analyze) gives exactly what the policy
SDK's stock `_PolicyAnalyzerServicer` gives: on both stacks in both modes with the stacks' own policy configs,
with every policy forced to remediate (the Remediate path and the remediate->mandatory downgrade), and on
the whole policy corpus (every `policy_harness.check()` the rule tests make in this run, replayed).

Compared: every diagnostic (policy, level, urn, full message, in order), every not-applicable result, every
remediation and the inputs it left on each resource.
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
from pulumi_policy import ResourceValidationPolicy

import policy_harness
from conftest import corpus_is_complete, corpus_is_split, stack_plan
from plan.analyze import analyze, build_servicer, configure, default_policy_config, load_policy_config
from plan.engine import SECRET_SIG, SECRET_VALUE, UNKNOWN
from plan.records import records_plan
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


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_both_modes(stack, preview):
    result = assert_same(stack_plan(stack, preview), load_policy_config(default_policy_config(stack)))
    assert result["violations"] or result["notApplicable"]  # the comparison compared something


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
    from plan.analyze import pack_policies
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
