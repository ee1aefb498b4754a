"""Kinesis data streams: KMS encryption."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import fsbp, get, resource_policy, stack_policy
from ._shared import _key_configured

STREAM = "aws:kinesis/stream:Stream"


def _kinesis_encrypted(resources, report, args):
    for s in resources:
        if s.resource_type != STREAM:
            continue
        if get(s.props, "encryptionType") != "KMS":
            report(f"stream {s.name} has encryptionType {get(s.props, 'encryptionType', 'NONE')!r}; use 'KMS'.", s.urn)
        elif not _key_configured(s, "kmsKeyId"):
            report(f"stream {s.name} uses KMS encryption without kmsKeyId.", s.urn)


POLICIES: list = [
    stack_policy("kinesis-encrypted", "Kinesis data streams must be encrypted at rest with KMS.", _kinesis_encrypted,
                 severity=Severity.MEDIUM, framework=fsbp("Kinesis.1"),
                 remediation="Set encryptionType='KMS' and kmsKeyId.", tags=["checkov:CKV_AWS_43",
                                                                             "cdk-nag:AwsSolutions-KDS1",
                                                                             "kinesis", "encryption"],
        types=('aws:kinesis/stream:Stream',)),
]


# --- Kinesis Data Firehose (issue 31): server-side encryption -------------------------------------------------
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


def _firehose_encrypted(props, report, args):
    from ._lib import flag
    from ._shared import present
    if get(props, "kinesisSourceConfiguration") is not None:
        args.not_applicable("a stream reading a Kinesis data stream is encrypted by that stream's own SSE "
                            "(kinesis-encrypted); Firehose SSE cannot be enabled for it")
        return
    sse = get(props, "serverSideEncryption")
    if sse is None or flag(sse, "enabled") is not True:
        report("serverSideEncryption.enabled must be true (records are buffered unencrypted otherwise).")
    elif get(sse, "keyType", "AWS_OWNED_CMK") != "CUSTOMER_MANAGED_CMK" or not present(sse, "keyArn"):
        report("serverSideEncryption uses an AWS owned key; use keyType CUSTOMER_MANAGED_CMK with keyArn.")


POLICIES.append(resource_policy(
    "firehose-encrypted", "Kinesis Data Firehose delivery streams must use server-side encryption with a customer "
    "managed key.", (FIREHOSE,), _firehose_encrypted, severity=Severity.MEDIUM, framework=fsbp("DataFirehose.1"),
    remediation="server_side_encryption={'enabled': True, 'key_type': 'CUSTOMER_MANAGED_CMK', 'key_arn': <key>}.",
    refs={"checkov": ["CKV_AWS_240", "CKV_AWS_241"], "cdk-nag": "AwsSolutions-KDF1"},
    tags=["kinesis", "firehose", "encryption"]))
