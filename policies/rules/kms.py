"""KMS customer keys."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import cis, flag, get, resource_policy


def _rotation(props, report, args):
    spec = get(props, "customerMasterKeySpec") or get(props, "keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        args.not_applicable(f"automatic rotation is not supported for {spec} keys")
    if flag(props, "enableKeyRotation") is not True:
        report("enableKeyRotation must be true.")


POLICIES = [
    resource_policy("kms-key-rotation-enabled", "KMS customer managed keys must rotate automatically.",
                    ("aws:kms/key:Key",), _rotation, severity=Severity.MEDIUM, framework=cis("3.6"),
                    remediation="Set enableKeyRotation=True (rotationPeriodInDays 90-2560, default 365).",
                    tags=["encryption", "kms"]),
]
