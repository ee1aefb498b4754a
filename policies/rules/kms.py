"""KMS keys: rotation and no policy-lockout bypass."""
from __future__ import annotations

from pulumi_policy import Severity

from ._compliance import nist
from ._lib import cis, flag, get, resource_policy
from ._shared import KMS_KEY, KMS_KEY_POLICY


def _no_lockout_bypass(props, report, args):
    if flag(props, "bypassPolicyLockoutSafetyCheck") is True:
        report("bypassPolicyLockoutSafetyCheck must not be true: a policy that locks out its administrators "
               "makes the key unmanageable.")


def _rotation(props, report, args):
    spec = get(props, "customerMasterKeySpec") or get(props, "keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        args.not_applicable(f"automatic rotation is not supported for {spec} keys")
    if flag(props, "enableKeyRotation") is not True:
        report("enableKeyRotation must be true.")


POLICIES = [
    resource_policy(
        "kms-key-no-policy-lockout-bypass", "KMS key policies must not bypass the policy lockout safety check.",
        (KMS_KEY, KMS_KEY_POLICY, "aws:efs/fileSystemPolicy:FileSystemPolicy"), _no_lockout_bypass,
        severity=Severity.CRITICAL, framework=nist("AC-6"),
        remediation="Remove bypassPolicyLockoutSafetyCheck (default false).",
        tags=["kms", "access", "compliance-policies:aws-kms-key-disallow-bypass-policy-lockout-safety-check"]),
    resource_policy("kms-key-rotation-enabled", "KMS customer managed keys must rotate automatically.",
                    ("aws:kms/key:Key",), _rotation, severity=Severity.MEDIUM, framework=cis("3.6"),
                    remediation="Set enableKeyRotation=True (rotationPeriodInDays 90-2560, default 365).",
                    tags=["checkov:CKV_AWS_7", "cdk-nag:AwsSolutions-KMS5",
                          "compliance-policies:aws-kms-key-enable-key-rotation",
                          "awsguard:cmk-backing-key-rotation-enabled", "fsbp:KMS.4",
                          "encryption", "kms"]),
]
