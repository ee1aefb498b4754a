"""Tests for policies/rules/redshift.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import functools

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

CASES = [
    ("redshift-cluster-configuration", "rs-plain", RS, {"nodeType": "ra3.xlplus", "publiclyAccessible": False},
     "pass"),
    ("redshift-cluster-configuration", "rs-string-false", RS, {"nodeType": "ra3.xlplus", "encrypted": "false"},
     "violation"),
    ("redshift-cluster-configuration", "rs-string-true", RS, {"nodeType": "ra3.xlplus", "encrypted": "true"}, "pass"),
    ("redshift-cluster-configuration", "rs-enc", RS, {"nodeType": "ra3.xlplus", "encrypted": True,
                                                      "publiclyAccessible": False}, "pass"),
    ("redshift-cluster-configuration", "rs-preview", RS, {"nodeType": "ra3.xlplus", "encrypted": True,
                                                          "kmsKeyId": UNKNOWN, "publiclyAccessible": False}, "pass"),
    ("redshift-cluster-maintenance-settings", "rs-nosnap", RS, {"automatedSnapshotRetentionPeriod": 0,
                                                                "encrypted": True}, "violation"),
    ("redshift-cluster-maintenance-settings", "rs-enc", RS, {}, "pass"),
    ("redshift-cluster-maintenance-settings", "rs-preview", RS, {}, "pass"),
    ("redshift-cluster-public-access", "rs-public", RS, {"publiclyAccessible": True, "encrypted": True}, "violation"),
    ("redshift-cluster-public-access", "rs-unset", RS, {"encrypted": True}, "violation"),
    ("redshift-cluster-public-access", "rs-enc", RS, {}, "pass"),
    ("redshift-cluster-public-access", "rs-preview", RS, {}, "pass"),
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
