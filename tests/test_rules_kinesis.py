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


# --- issue 31: Firehose server-side encryption -----------------------------------------------------------------
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


def _stream(name, **props):
    return rec(FIREHOSE, name, {"destination": "extended_s3", "extendedS3Configuration": {
        "bucketArn": UNKNOWN, "roleArn": UNKNOWN}, **props})


def test_firehose_needs_sse_with_a_customer_key():
    from policy_harness import not_applicable
    r = check([
        _stream("none"),
        _stream("off", serverSideEncryption={"enabled": "false"}),
        _stream("aws-owned", serverSideEncryption={"enabled": True}),
        _stream("cmk", serverSideEncryption={"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": UNKNOWN}),
        _stream("from-stream", kinesisSourceConfiguration={"kinesisStreamArn": UNKNOWN, "roleArn": UNKNOWN}),
    ])
    assert names(r, "firehose-encrypted") == ["aws-owned", "none", "off"]
    assert not skipped(r, "firehose-encrypted")
    assert [n["urn"].split("::")[-1] for n in not_applicable(r, "firehose-encrypted")] == ["from-stream"]
