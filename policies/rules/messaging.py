"""Messaging: SQS, SNS, Kinesis encryption at rest, and dead-letter queues for every work queue.

Key ARNs come from the security tier and are unknown in a preview of a new stack: the encryption rules
are stack policies that accept a key supplied by another resource (property_dependencies) or a
non-empty literal, so they decide in a preview instead of reporting "can't run".
"""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import flag, fsbp, get, stack_policy

QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
STREAM = "aws:kinesis/stream:Stream"


def keys(props) -> list:
    return list(props) if props is not None else []


def _key_configured(resource, prop: str) -> bool:
    """A key is configured: supplied by another resource (a KMS key or alias; unknown in a preview) or a
    non-empty literal (an ARN or alias name from config)."""
    if prop not in keys(resource.props):
        return False
    return bool(resource.property_dependencies.get(prop)) or bool(get(resource.props, prop))


def _sqs_encrypted(resources, report, args):
    allow_managed = bool((args.get_config() or {}).get("allowSqsManagedSse", False))
    for q in resources:
        if q.resource_type != QUEUE or _key_configured(q, "kmsMasterKeyId"):
            continue
        if allow_managed and flag(q.props, "sqsManagedSseEnabled") is True:
            continue
        report(f"queue {q.name} is not encrypted with a KMS key (kmsMasterKeyId)"
               + ("" if not allow_managed else " or SQS-managed SSE") + ".", q.urn)


def _sns_encrypted(resources, report, args):
    for t in resources:
        if t.resource_type == TOPIC and not _key_configured(t, "kmsMasterKeyId"):
            report(f"topic {t.name} is not encrypted with a KMS key (kmsMasterKeyId).", t.urn)


def _kinesis_encrypted(resources, report, args):
    for s in resources:
        if s.resource_type != STREAM:
            continue
        if get(s.props, "encryptionType") != "KMS":
            report(f"stream {s.name} has encryptionType {get(s.props, 'encryptionType', 'NONE')!r}; use 'KMS'.", s.urn)
        elif not _key_configured(s, "kmsKeyId"):
            report(f"stream {s.name} uses KMS encryption without kmsKeyId.", s.urn)


def _is_dead_letter_prop(prop: str) -> bool:
    p = prop.lower()
    return "redrive" in p or "deadletter" in p


def _redrive(resources, report, args):
    queues = [r for r in resources if r.resource_type == QUEUE]
    # A queue is a DLQ when another resource names it as its dead-letter target: a queue's redrivePolicy,
    # a Lambda's or an EventBridge target's deadLetterConfig, an SNS subscription's redrivePolicy.
    dead_letter = {d.urn for r in resources for prop, deps in r.property_dependencies.items()
                   if _is_dead_letter_prop(prop) for d in deps if d.resource_type == QUEUE and d.urn != r.urn}
    for q in queues:
        if q.urn in dead_letter:
            continue
        if "redrivePolicy" not in keys(q.props):
            report(f"queue {q.name} has no redrive policy (no dead-letter queue).", q.urn)
        elif not any(d.resource_type == QUEUE for d in q.property_dependencies.get("redrivePolicy", [])) \
                and not get(q.props, "redrivePolicy"):
            report(f"queue {q.name} has an empty redrive policy.", q.urn)


POLICIES = [
    stack_policy("sqs-encrypted", "SQS queues must be encrypted at rest with a KMS key.", _sqs_encrypted,
                 severity=Severity.MEDIUM, framework=fsbp("SQS.1"),
                 remediation="Set kmsMasterKeyId to the data key (the writing services need GenerateDataKey on it).",
                 tags=["sqs", "encryption"],
                 config_schema=PolicyConfigSchema(properties={
                     "allowSqsManagedSse": {"type": "boolean", "default": False}}),
        types=('aws:sqs/queue:Queue',)),
    stack_policy("sns-encrypted", "SNS topics must be encrypted at rest with a KMS key.", _sns_encrypted,
                 severity=Severity.MEDIUM, framework=fsbp("SNS.1"),
                 remediation="Set kmsMasterKeyId to a customer managed key whose policy lets the publishers "
                             "(cloudwatch, events) use it.",
                 tags=["sns", "encryption"],
        types=('aws:sns/topic:Topic',)),
    stack_policy("kinesis-encrypted", "Kinesis data streams must be encrypted at rest with KMS.", _kinesis_encrypted,
                 severity=Severity.MEDIUM, framework=fsbp("Kinesis.1"),
                 remediation="Set encryptionType='KMS' and kmsKeyId.", tags=["kinesis", "encryption"],
        types=('aws:kinesis/stream:Stream',)),
    stack_policy("sqs-redrive-policy", "Every SQS queue that is not itself a dead-letter queue must have one.",
                 _redrive, severity=Severity.MEDIUM,
                 remediation="Create a DLQ and set redrivePolicy={deadLetterTargetArn: dlq.arn, maxReceiveCount: N}.",
                 tags=["sqs", "resilience"],
        types=('aws:sqs/queue:Queue',)),
]
