"""Tests for policies/rules/efs.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import functools

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

CASES = [
    ("efs-encrypted", "efs-plain", EFS, {}, "violation"),
    ("efs-encrypted", "efs-aws-key", EFS, {"encrypted": True}, "violation"),
    ("efs-encrypted", "efs-cmk", EFS, {"encrypted": True, "kmsKeyId": "arn:k"}, "pass"),
    ("efs-encrypted", "efs-cmk-preview", EFS, {"encrypted": True, "kmsKeyId": UNKNOWN}, "pass"),
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
