"""CloudTrail: multi-region trails with log file validation and KMS encryption."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import cis, flag, resource_policy
from ._shared import has_key

TRAIL = "aws:cloudtrail/trail:Trail"


def _trail(props, report, args):
    if flag(props, "isMultiRegionTrail") is not True:
        report("isMultiRegionTrail must be true (one trail records every region).")
    if flag(props, "enableLogFileValidation") is not True:
        report("enableLogFileValidation must be true (digest files prove the logs were not altered).")
    if flag(props, "includeGlobalServiceEvents", True) is False:
        report("includeGlobalServiceEvents must not be false (IAM, STS and CloudFront events are global).")
    if not has_key(props, "kmsKeyId"):
        report("kmsKeyId must be set: trail log files are encrypted with a customer managed KMS key.")


POLICIES = [
    resource_policy(
        "cloudtrail-multi-region-validated-encrypted",
        "CloudTrail trails must be multi-region, include global events, validate log files and use KMS.",
        (TRAIL,), _trail, severity=Severity.HIGH, framework=cis("3.1"),
        remediation="Set isMultiRegionTrail, includeGlobalServiceEvents and enableLogFileValidation to true and "
                    "kmsKeyId to a customer managed key whose policy grants cloudtrail.amazonaws.com.",
        tags=["checkov:CKV_AWS_35", "checkov:CKV_AWS_36", "checkov:CKV_AWS_67",
              "logging", "audit", "encryption"]),
]
