"""Tests for policies/rules/kms.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import pytest

from policy_harness import (
    UNKNOWN,
    case_table,
    check,
    not_applicable,
    rec,
    violations,
)

ROLE, KEY = "aws:iam/role:Role", "aws:kms/key:Key"

ROLE, KEY = "aws:iam/role:Role", "aws:kms/key:Key"

CASES = [
    ("kms-key-no-policy-lockout-bypass", "key-bypass", KEY, {"enableKeyRotation": True,
                                                             "bypassPolicyLockoutSafetyCheck": True}, "violation"),
    ("kms-key-no-policy-lockout-bypass", "key-safe", KEY, {"enableKeyRotation": True}, "pass"),
    ("kms-key-no-policy-lockout-bypass", "key-safe-preview", "aws:kms/keyPolicy:KeyPolicy",
     {"keyId": UNKNOWN, "policy": UNKNOWN, "bypassPolicyLockoutSafetyCheck": False}, "pass"),
]


# --- kms-key-rotation-enabled ----------------------------------------------------------------
def test_kms_rotation_violation_pass_and_preview():
    r = check([rec("aws:kms/key:Key", "off", {"enableKeyRotation": False}),
               rec("aws:kms/key:Key", "on", {"enableKeyRotation": True, "policy": UNKNOWN}),
               rec("aws:kms/key:Key", "asym", {"customerMasterKeySpec": "RSA_2048"})])
    assert [v.urn.split("::")[-1] for v in violations(r, "kms-key-rotation-enabled")] == ["off"]
    assert not_applicable(r, "kms-key-rotation-enabled")[0]["urn"].endswith("asym")


@pytest.mark.parametrize("level", ["advisory", "mandatory"])
def test_enforcement_level_comes_from_policy_config(level):
    r = check([rec("aws:kms/key:Key", "off", {"enableKeyRotation": False})], level=level)
    assert {v.level for v in violations(r, "kms-key-rotation-enabled")} == {level}


test_case = case_table(CASES)


# --- issue 32: key use on '*' must be scoped; service principals need a source condition -------------
import json as _json  # noqa: E402

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALIAS_ONLY = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/ai-platform-prod-data"]}}


def _doc(*statements):
    return _json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _use(action=("kms:Decrypt", "kms:GenerateDataKey"), resource="*", condition=None, sid="Use"):
    st = {"Sid": sid, "Effect": "Allow", "Action": list(action), "Resource": resource}
    return {**st, "Condition": condition} if condition else st


def test_key_use_scoped_both_sides():
    r = check([
        # the 19 CodeBuild/CodePipeline/SageMaker statements of issue 32: an alias names the key, nothing the path
        rec(ROLE_POLICY, "alias-only", {"role": "r", "policy": _doc(_use(condition=ALIAS_ONLY))}),
        rec(ROLE_POLICY, "no-condition", {"role": "r", "policy": _doc(_use(action=["kms:*"]))}),
        rec(ROLE, "inline-pattern", {"assumeRolePolicy": "{}", "inlinePolicies": [
            {"name": "p", "policy": _doc(_use(action=["kms:GenerateDataKey*"]))}]}),
        # passing: through a service, for a resource, on a named key, or not a key-use action at all
        rec(ROLE_POLICY, "via-service", {"role": "r", "policy": _doc(_use(condition={
            **ALIAS_ONLY, "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}))}),
        rec(ROLE_POLICY, "context", {"role": "r", "policy": _doc(_use(condition={
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b*"}}))}),
        rec(ROLE_POLICY, "named-key", {"role": "r", "policy": _doc(_use(
            resource="arn:aws:kms:us-east-1:123456789012:key/abc"))}),
        rec(ROLE_POLICY, "describe-only", {"role": "r", "policy": _doc(_use(action=["kms:DescribeKey"]))}),
    ])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "kms-key-use-scoped")) == [
        "alias-only", "inline-pattern", "no-condition"]


def _key(*statements):
    root = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*", "Resource": "*"}
    return {"enableKeyRotation": True, "policy": _doc(root, *statements)}


def _grant(service, condition=None):
    st = {"Sid": "Svc", "Effect": "Allow", "Principal": {"Service": service}, "Action": "kms:Decrypt",
          "Resource": "*"}
    return {**st, "Condition": condition} if condition else st


def test_key_policy_service_source_both_sides():
    r = check([
        # CloudTrailDecryptsForBucketKey before issue 32, and a list of principals without any condition
        rec(KEY, "bare", _key(_grant("cloudtrail.amazonaws.com"))),
        rec(KEY, "bare-list", _key(_grant(["s3.amazonaws.com", "sqs.amazonaws.com"]))),
        rec("aws:kms/keyPolicy:KeyPolicy", "standalone", {"keyId": "k", "policy": _doc(_grant("sns.amazonaws.com"))}),
        # an unrelated condition is not a source condition
        rec(KEY, "wrong-key", _key(_grant("events.amazonaws.com", {"Bool": {"kms:GrantIsForAWSResource": "true"}}))),
        # passing: source ARN, source account, the encryption context of this account's resources, root only
        rec(KEY, "source-arn", _key(_grant("cloudtrail.amazonaws.com", {"StringEquals": {
            "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"}}))),
        rec(KEY, "source-account", _key(_grant(["events.amazonaws.com"], {"StringEquals": {
            "AWS:SourceAccount": "123456789012"}}))),
        rec(KEY, "context", _key(_grant("cloudwatch.amazonaws.com", {"ArnLike": {
            "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:us-east-1:123456789012:*"}}))),
        rec(KEY, "root-only", _key()),
    ])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "kms-key-policy-service-source")) == [
        "bare", "bare-list", "standalone", "wrong-key"]
