"""DynamoDB: point-in-time recovery, customer managed key encryption, deletion protection."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import flag, fsbp, get, resource_policy

DYNAMODB_TABLE = "aws:dynamodb/table:Table"


def _dynamodb_pitr(props, report, args):
    if flag(props, "pointInTimeRecovery.enabled") is not True:
        report("pointInTimeRecovery.enabled must be true.")


def _dynamodb_encryption(props, report, args):
    sse = get(props, "serverSideEncryption")
    # Key presence, not its value: the key ARN is unknown in a preview of a new stack, and iterating the
    # keys does not read it. enabled without kmsKeyArn means the AWS managed aws/dynamodb key.
    if flag(props, "serverSideEncryption.enabled") is not True or "kmsKeyArn" not in list(iter(sse)):
        report("serverSideEncryption.enabled must be true with a customer managed kmsKeyArn (the default AWS owned "
               "key cannot be audited or restricted).")


def _dynamodb_deletion_protection(props, report, args):
    if flag(props, "deletionProtectionEnabled") is not True:
        report("deletionProtectionEnabled must be true.")


POLICIES = [
    resource_policy(
        "dynamodb-pitr-enabled", "DynamoDB tables must have point-in-time recovery.",
        (DYNAMODB_TABLE,), _dynamodb_pitr, severity=Severity.MEDIUM, framework=fsbp("DynamoDB.2"),
        remediation="Set point_in_time_recovery={'enabled': True}.",
        tags=["resilience", "backup", "dynamodb", "checkov:CKV_AWS_28", "cdk-nag:DDB3"]),
    resource_policy(
        "dynamodb-encryption", "DynamoDB tables must be encrypted with a customer managed KMS key.",
        (DYNAMODB_TABLE,), _dynamodb_encryption, severity=Severity.MEDIUM,
        remediation="Set server_side_encryption={'enabled': True, 'kms_key_arn': <data key ARN>}.",
        tags=["encryption", "dynamodb", "checkov:CKV_AWS_119", "awsguard:dynamodb-table-encryption-enabled"]),
    resource_policy(
        "dynamodb-deletion-protection", "DynamoDB tables must have deletion protection.",
        (DYNAMODB_TABLE,), _dynamodb_deletion_protection, severity=Severity.MEDIUM, framework=fsbp("DynamoDB.6"),
        remediation="Set deletion_protection_enabled=True (the stack's platform.protect setting).",
        tags=["resilience", "protection", "dynamodb"]),
]
