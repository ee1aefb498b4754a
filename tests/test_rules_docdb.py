"""Tests for policies/rules/docdb.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, good_bad_preview_tests

DOCDB = "aws:docdb/cluster:Cluster"

GOOD_DOCDB = {"storageEncrypted": True, "kmsKeyId": "k", "backupRetentionPeriod": 7, "deletionProtection": True}

PREVIEW_DOCDB = {**GOOD_DOCDB, "kmsKeyId": UNKNOWN, "dbSubnetGroupName": UNKNOWN}

CASES = {
    "docdb-encryption": (DOCDB, GOOD_DOCDB, PREVIEW_DOCDB, {"storageEncrypted": False}, "storageEncrypted"),
}


(test_rule_reports_the_violating_resource, test_rule_passes_a_compliant_resource,
 test_rule_decides_in_a_preview_of_a_new_stack) = good_bad_preview_tests(CASES)
