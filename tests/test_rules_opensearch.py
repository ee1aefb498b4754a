"""Tests for policies/rules/opensearch.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import functools

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

ES, OS = "aws:elasticsearch/domain:Domain", "aws:opensearch/domain:Domain"

ES, OS = "aws:elasticsearch/domain:Domain", "aws:opensearch/domain:Domain"

CASES = [
    ("elasticsearch-encrypted-at-rest", "es-plain", ES, {"vpcOptions": {"subnetIds": ["s"]}}, "violation"),
    ("elasticsearch-encrypted-at-rest", "os-enc", OS, {"encryptAtRest": {"enabled": True},
                                                       "vpcOptions": {"subnetIds": ["s"]}}, "pass"),
    ("elasticsearch-encrypted-at-rest", "os-preview", OS, {"encryptAtRest": {"enabled": True, "kmsKeyId": UNKNOWN},
                                                           "vpcOptions": {"subnetIds": UNKNOWN}}, "pass"),
    ("elasticsearch-in-vpc-only", "os-public", OS, {"encryptAtRest": {"enabled": True}}, "violation"),
    ("elasticsearch-in-vpc-only", "os-enc", OS, {}, "pass"),
    ("elasticsearch-in-vpc-only", "os-preview", OS, {}, "pass"),
]


@functools.cache
def _result():
    seen, records = set(), []
    for _, n, t, p, _ in CASES:
        if n not in seen:
            seen.add(n)
            records.append(rec(t, n, p))
    return check(records)


def _names(findings):
    return {f.urn.split("::")[-1] for f in findings}


@pytest.mark.parametrize("policy,name,rtype,props,expected", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_case(policy, name, rtype, props, expected):
    r = _result()
    assert (name in _names(violations(r, policy))) == (expected == "violation")
    assert (name in _names(skipped(r, policy))) == (expected == "skipped")
