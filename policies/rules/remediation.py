"""Remediations (enforcement level `remediate`) for settings that can be fixed safely in place.

Each policy here only remediates: the matching validation belongs to the service's own rule (required-tags
remediates in tags.py). Under `remediate` the engine applies the returned inputs before the service rules
run, so the fixed resource passes them; under advisory/mandatory these policies do nothing and the service
rules report. Remediated inputs keep other unknown values as they are, so a preview of a new stack can
remediate too.
"""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, ResourceValidationPolicy, Severity

from ._compliance import is_set, is_unknown, nist, raw, with_types
from ._lib import cis, fsbp, get

PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _validated_elsewhere(args, report):
    """No validation: the service module owns it (see module docstring)."""


def _fix_pab(args):
    if args.resource_type != PAB:
        return None
    if all(not is_unknown(args.props, f) and get(args.props, f) is True for f in PAB_FLAGS):
        return None
    props = raw(args.props)
    props.update({f: True for f in PAB_FLAGS})
    return props


def _fix_queue(args):
    if args.resource_type != QUEUE:
        return None
    if is_set(args.props, "kmsMasterKeyId") or is_unknown(args.props, "sqsManagedSseEnabled"):
        return None  # a customer key (or a value decided elsewhere) is kept as is
    if get(args.props, "sqsManagedSseEnabled") is True:
        return None
    props = raw(args.props)
    props["sqsManagedSseEnabled"] = True
    return props


def _fix_topic(args):
    if args.resource_type != TOPIC or is_set(args.props, "kmsMasterKeyId"):
        return None
    props = raw(args.props)
    props["kmsMasterKeyId"] = (args.get_config() or {}).get("kmsMasterKeyId", "alias/aws/sns")
    return props


def _policy(name, description, fix, *, types, framework, remediation, tags, severity=Severity.HIGH, config_schema=None):
    return with_types(ResourceValidationPolicy(
        name=name, description=description, validate=_validated_elsewhere, remediate=fix, severity=severity,
        framework=framework, tags=tags, remediation_steps=remediation, config_schema=config_schema), *types)


POLICIES = [
    _policy("s3-public-access-block-remediation", "Remediation: S3 public access blocks set all four flags.",
            _fix_pab, types=(PAB,), framework=cis("2.1.4"), severity=Severity.CRITICAL,
            remediation="Sets blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to "
                        "true on aws.s3.BucketPublicAccessBlock resources.",
            tags=["remediation", "s3", "exposure"]),
    _policy("sqs-queue-managed-encryption-remediation", "Remediation: SQS queues without a KMS key get "
            "SQS-managed server-side encryption.", _fix_queue, types=(QUEUE,), framework=fsbp("SQS.1"),
            remediation="Sets sqsManagedSseEnabled=true on queues with no kmsMasterKeyId (a customer key is kept).",
            tags=["remediation", "sqs", "encryption"]),
    _policy("sns-topic-managed-encryption-remediation", "Remediation: SNS topics without a KMS key are encrypted "
            "with the AWS managed key.", _fix_topic, types=(TOPIC,), framework=nist("SC-28"),
            remediation="Sets kmsMasterKeyId='alias/aws/sns' (configurable) on topics with no key. Topics that "
                        "CloudWatch alarms, EventBridge or S3 publish to need a customer key instead: set one.",
            tags=["remediation", "sns", "encryption", "checkov:CKV_AWS_26"],
            config_schema=PolicyConfigSchema(properties={
                "kmsMasterKeyId": {"type": "string", "default": "alias/aws/sns"}})),
]
