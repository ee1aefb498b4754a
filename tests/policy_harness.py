"""Test helpers for rules: run them through the SDK's analyzer path, exactly as the plan does.

    result = check([rec("aws:kms/key:Key", "k", {"enableKeyRotation": False})])
    assert result.of("kms-key-rotation-enabled")

`check` runs the whole pack (every rule sees every record, as in a real stack); `level` sets every
policy's enforcement ("mandatory" by default so assertions read naturally). Use UNKNOWN for values
a real preview of a new stack would not know, and `skipped(result, policy)` to assert the rule said
it could not decide rather than passing.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import pytest

from plan.analyze import Analysis, analyze, build_servicer, configure
from plan.engine import UNKNOWN
from plan.records import records_plan

_SERVICER_CACHE: dict = {}
CORPUS: list = []  # every check() of this run: tests/test_analyze_equivalence.py replays it through the stock servicer


def rec(rtype: str, name: str, props: Mapping[str, Any] | None = None, *, deps=(), prop_deps=None,
        parent: str | None = None, protect: bool = False, provider: Mapping[str, Any] | None = None) -> dict:
    out = {"type": rtype, "name": name, "props": dict(props or {}), "dependencies": list(deps),
           "propertyDependencies": dict(prop_deps or {}), "protect": protect}
    if parent:
        out["parent"] = parent
    if provider:
        out["provider"] = provider
    return out


def check(records, *, level: str = "mandatory", config: Mapping[str, Any] | None = None,
          region: str = "us-east-1") -> Analysis:
    servicer = build_servicer()
    policy_config: dict[str, Any] = {"all": level}
    policy_config.update(config or {})
    configure(servicer, policy_config)
    records = list(records)
    CORPUS.append((records, policy_config, region))
    return analyze(records_plan(records, region=region), servicer=servicer)


def violations(result: Analysis, policy: str) -> list:
    """Real violations of `policy` (not 'could not run during preview' notices)."""
    return [v for v in result.of(policy) if v not in result.skipped]


def skipped(result: Analysis, policy: str) -> list:
    return [v for v in result.skipped if v.policy == policy]


def not_applicable(result: Analysis, policy: str) -> list:
    return [n for n in result.not_applicable if n["policy"] == policy]


def names(findings) -> set[str]:
    """The record names behind a list of findings."""
    return {f.urn.split("::")[-1] for f in findings}


def case_table(cases):
    """A parametrized test for a table of (policy, record name, type, props, expected) cases, all evaluated
    together in one `check` (one stack, fast); expected is "violation", "skipped" or "pass". Use as
    `test_case = case_table(CASES)`."""
    def records():
        seen, out = set(), []
        for _, n, t, p, _ in cases:     # a record may serve several policies' cases: registered once
            if n not in seen:
                seen.add(n)
                out.append(rec(t, n, p))
        return out
    result = functools.lru_cache(maxsize=None)(lambda: check(records()))

    @pytest.mark.parametrize("policy,name,rtype,props,expected", cases, ids=[f"{c[0]}:{c[1]}" for c in cases])
    def test_case(policy, name, rtype, props, expected):
        r = result()
        assert (name in names(violations(r, policy))) == (expected == "violation")
        assert (name in names(skipped(r, policy))) == (expected == "skipped")

    return test_case


def props_with(base: dict, change: dict) -> dict:
    """`base` with `change` applied; a None in `change` removes the key (an input left unset)."""
    out = {**base, **change}
    return {k: v for k, v in out.items() if v is not None}


def good_bad_preview_tests(cases):
    """The three tests of a table {policy: (type, good props, preview props, violating change, message fragment)}:
    the violating resource is reported (mandatory, with the fragment), a compliant one passes, and in a new
    stack's preview (computed outputs unknown) the rule still decides. Use as
    `(test_a, test_b, test_c) = good_bad_preview_tests(CASES)`."""
    policies = sorted(cases)

    @pytest.mark.parametrize("policy", policies)
    def test_rule_reports_the_violating_resource(policy):
        rtype, good, _, change, fragment = cases[policy]
        r = check([rec(rtype, "bad", props_with(good, change)), rec(rtype, "good", good)])
        found = violations(r, policy)
        assert [v.urn.split("::")[-1] for v in found] == ["bad"]
        assert fragment in found[0].message and found[0].level == "mandatory"

    @pytest.mark.parametrize("policy", policies)
    def test_rule_passes_a_compliant_resource(policy):
        rtype, good, _, _, _ = cases[policy]
        r = check([rec(rtype, "good", good)])
        assert violations(r, policy) == [] and skipped(r, policy) == []

    @pytest.mark.parametrize("policy", policies)
    def test_rule_decides_in_a_preview_of_a_new_stack(policy):
        rtype, _, preview, change, _ = cases[policy]
        r = check([rec(rtype, "good", preview), rec(rtype, "bad", props_with(preview, change))])
        assert [v.urn.split("::")[-1] for v in violations(r, policy)] == ["bad"]
        assert skipped(r, policy) == []

    return (test_rule_reports_the_violating_resource, test_rule_passes_a_compliant_resource,
            test_rule_decides_in_a_preview_of_a_new_stack)


__all__ = ["names", "case_table", "props_with", "good_bad_preview_tests", "rec", "check", "violations", "skipped", "not_applicable", "UNKNOWN"]
