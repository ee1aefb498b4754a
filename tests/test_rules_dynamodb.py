"""Tests for policies/rules/dynamodb.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, good_bad_preview_tests, rec, skipped, violations

TABLE = "aws:dynamodb/table:Table"

GOOD_TABLE = {"pointInTimeRecovery": {"enabled": True}, "deletionProtectionEnabled": True,
              "serverSideEncryption": {"enabled": True, "kmsKeyArn": "arn:aws:kms:us-east-1:1:key/k"}}

PREVIEW_TABLE = {**GOOD_TABLE, "serverSideEncryption": {"enabled": True, "kmsKeyArn": UNKNOWN}}

CASES = {
    "dynamodb-pitr-enabled": (TABLE, GOOD_TABLE, PREVIEW_TABLE, {"pointInTimeRecovery": {"enabled": False}},
                              "pointInTimeRecovery"),
    "dynamodb-encryption": (TABLE, GOOD_TABLE, PREVIEW_TABLE, {"serverSideEncryption": None}, "serverSideEncryption"),
    "dynamodb-deletion-protection": (TABLE, GOOD_TABLE, PREVIEW_TABLE, {"deletionProtectionEnabled": False},
                                     "deletionProtectionEnabled"),
}


(test_rule_reports_the_violating_resource, test_rule_passes_a_compliant_resource,
 test_rule_decides_in_a_preview_of_a_new_stack) = good_bad_preview_tests(CASES)


def test_dynamodb_encryption_needs_a_customer_managed_key_not_just_enabled():
    # enabled without kmsKeyArn is the AWS managed key: reported; the key's presence is decidable in a preview
    aws_managed = {**GOOD_TABLE, "serverSideEncryption": {"enabled": True}}
    r = check([rec(TABLE, "aws-managed", aws_managed), rec(TABLE, "cmk", PREVIEW_TABLE)])
    found = violations(r, "dynamodb-encryption")
    assert [v.urn.split("::")[-1] for v in found] == ["aws-managed"] and "kmsKeyArn" in found[0].message
    assert skipped(r, "dynamodb-encryption") == []
