"""Tests for policies/rules/kinesis.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

STREAM = "aws:kinesis/stream:Stream"

KEY = "aws:kms/key:Key"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- kinesis-encrypted ----------------------------------------------------------------------
def test_kinesis_encrypted_violations():
    r = check([rec(STREAM, "none", {"encryptionType": "NONE"}), rec(STREAM, "nokey", {"encryptionType": "KMS"})])
    assert names(r, "kinesis-encrypted") == ["nokey", "none"]


def test_kinesis_encrypted_passes():
    r = check([rec(STREAM, "s", {"encryptionType": "KMS", "kmsKeyId": "alias/aws/kinesis"})])
    assert violations(r, "kinesis-encrypted") == []


def test_kinesis_encrypted_preview_passes():
    r = check([rec(KEY, "k", {}),
               rec(STREAM, "s", {"encryptionType": "KMS", "kmsKeyId": UNKNOWN}, prop_deps={"kmsKeyId": ["k"]})])
    assert violations(r, "kinesis-encrypted") == [] and not skipped(r, "kinesis-encrypted")
