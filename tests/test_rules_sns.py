"""Tests for policies/rules/sns.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

TOPIC = "aws:sns/topic:Topic"

KEY = "aws:kms/key:Key"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- sns-encrypted --------------------------------------------------------------------------
def test_sns_encrypted_violation():
    assert names(check([rec(TOPIC, "t", {"name": "t"})]), "sns-encrypted") == ["t"]


def test_sns_encrypted_passes_literal_key():
    assert violations(check([rec(TOPIC, "t", {"kmsMasterKeyId": "alias/x"})]), "sns-encrypted") == []


def test_sns_encrypted_preview_passes():
    r = check([rec(KEY, "k", {}), rec(TOPIC, "t", {"kmsMasterKeyId": UNKNOWN}, prop_deps={"kmsMasterKeyId": ["k"]})])
    assert violations(r, "sns-encrypted") == [] and not skipped(r, "sns-encrypted")
