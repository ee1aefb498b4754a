"""EFS: encryption at rest."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import is_set
from ._lib import cis, flag, resource_policy

EFS = "aws:efs/fileSystem:FileSystem"


def _efs(props, report, args):
    if flag(props, "encrypted") is not True:
        report("encrypted must be true.")
        return
    # A kmsKeyId from another resource (unknown in a preview) is a customer key: presence decides.
    if (args.get_config() or {}).get("requireCustomerKey", True) and not is_set(props, "kmsKeyId"):
        report("kmsKeyId is not set: the file system uses the AWS managed key aws/elasticfilesystem.")


POLICIES = [
    resource_policy(
        "efs-encrypted", "EFS file systems must be encrypted with a customer managed KMS key.", (EFS,), _efs,
        severity=Severity.HIGH, framework=cis("2.4.1"),
        remediation="Set encrypted=True and kmsKeyId to a customer managed key (replaces the file system).",
        tags=["compliance-policies:aws-efs-filesystem-disallow-unencrypted-file-system",
              "compliance-policies:aws-efs-filesystem-configure-customer-managed-key",
              "encryption", "efs", "awsguard:efs-encrypted", "cdk-nag:AwsSolutions-EFS1", "checkov:CKV_AWS_42"],
        config_schema=PolicyConfigSchema(properties={"requireCustomerKey": {"type": "boolean", "default": True}})),
]
