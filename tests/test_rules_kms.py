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
