"""Tests for policies/rules/docdb.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

DOCDB = "aws:docdb/cluster:Cluster"

GOOD_DOCDB = {"storageEncrypted": True, "kmsKeyId": "k", "backupRetentionPeriod": 7, "deletionProtection": True}

PREVIEW_DOCDB = {**GOOD_DOCDB, "kmsKeyId": UNKNOWN, "dbSubnetGroupName": UNKNOWN}

CASES = {
    "docdb-encryption": (DOCDB, GOOD_DOCDB, PREVIEW_DOCDB, {"storageEncrypted": False}, "storageEncrypted"),
}


def _props(base: dict, change: dict) -> dict:
    out = {**base, **change}
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_reports_the_violating_resource(policy):
    rtype, good, _, change, fragment = CASES[policy]
    r = check([rec(rtype, "bad", _props(good, change)), rec(rtype, "good", good)])
    found = violations(r, policy)
    assert [v.urn.split("::")[-1] for v in found] == ["bad"]
    assert fragment in found[0].message and found[0].level == "mandatory"


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_passes_a_compliant_resource(policy):
    rtype, good, _, _, _ = CASES[policy]
    r = check([rec(rtype, "good", good)])
    assert violations(r, policy) == [] and skipped(r, policy) == []


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_decides_in_a_preview_of_a_new_stack(policy):
    rtype, _, preview, change, _ = CASES[policy]
    r = check([rec(rtype, "good", preview), rec(rtype, "bad", _props(preview, change))])
    assert [v.urn.split("::")[-1] for v in violations(r, policy)] == ["bad"]
    assert skipped(r, policy) == []
