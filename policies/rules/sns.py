"""SNS topics: KMS encryption."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import Autofix, fsbp, stack_policy
from ._shared import _key_configured

TOPIC = "aws:sns/topic:Topic"


def _sns_encrypted(resources, report, args):
    for t in resources:
        if t.resource_type == TOPIC and not _key_configured(t, "kmsMasterKeyId"):
            report(f"topic {t.name} is not encrypted with a KMS key (kmsMasterKeyId).", t.urn)


POLICIES = [
    stack_policy("sns-encrypted", "SNS topics must be encrypted at rest with a KMS key.", _sns_encrypted,
                 severity=Severity.MEDIUM, framework=fsbp("SNS.1"),
                 remediation="Set kmsMasterKeyId to a customer managed key whose policy lets the publishers "
                             "(cloudwatch, events) use it.",
                 tags=["checkov:CKV_AWS_26",
                       "sns", "encryption"],
        autofix=Autofix("report",
            "alias/aws/sns cannot be used by EventBridge, CloudWatch alarms or S3 notifications (its key "
            "policy cannot grant them), so delivery would fail silently. The former sns-topic-managed-"
            "encryption-remediation is removed."),
        types=('aws:sns/topic:Topic',)),
]
