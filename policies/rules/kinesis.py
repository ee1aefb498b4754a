"""Kinesis data streams: KMS encryption."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import fsbp, get, stack_policy
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


POLICIES = [
    stack_policy("kinesis-encrypted", "Kinesis data streams must be encrypted at rest with KMS.", _kinesis_encrypted,
                 severity=Severity.MEDIUM, framework=fsbp("Kinesis.1"),
                 remediation="Set encryptionType='KMS' and kmsKeyId.", tags=["kinesis", "encryption"],
        types=('aws:kinesis/stream:Stream',)),
]
