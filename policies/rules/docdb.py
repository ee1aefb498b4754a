"""DocumentDB: storage encryption."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import flag, fsbp, resource_policy
from ._shared import DOCDB_CLUSTER


def _docdb_encryption(props, report, args):
    if flag(props, "storageEncrypted") is not True:
        report("storageEncrypted must be true (set kmsKeyId to a customer managed key).")


POLICIES = [
    resource_policy(
        "docdb-encryption", "DocumentDB clusters must encrypt their storage.",
        (DOCDB_CLUSTER,), _docdb_encryption, severity=Severity.HIGH, framework=fsbp("DocumentDB.1"),
        remediation="Set storage_encrypted=True and kms_key_id=<data key ARN> (replacement for an existing cluster).",
        tags=["encryption", "docdb", "checkov:CKV_AWS_74", "cdk-nag:DOC1"]),
]
