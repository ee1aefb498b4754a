"""SQS queues: KMS encryption and dead-letter queues."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import nist
from ._lib import Autofix, depends_on, flag, fsbp, get, policy_document, stack_policy, statements
from ._shared import _key_configured, keys

QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"


def denies_plain_http(doc, service: str) -> bool:
    """A statement denying every principal every `service` action (or `*`) when aws:SecureTransport is false."""
    for st in statements(doc):
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if st.get("Effect") != "Deny" or not any(a in (f"{service}:*", "*") for a in actions):
            continue
        if st.get("Principal") not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
            continue
        for op, block in (st.get("Condition") or {}).items():
            if op.lower() == "bool" and isinstance(block, dict):
                for key, value in block.items():
                    values = value if isinstance(value, list) else [value]
                    if key.lower() == "aws:securetransport" and any(str(v).lower() == "false" for v in values):
                        return True
    return False


def _tls_only(resources, report, args):
    policies = [r for r in resources if r.resource_type == QUEUE_POLICY]
    for q in resources:
        if q.resource_type != QUEUE or denies_plain_http(policy_document(get(q.props, "policy")), "sqs"):
            continue
        mine = [pol for pol in policies if depends_on(pol, q, "queueUrl")]
        if not any(denies_plain_http(policy_document(get(pol.props, "policy")), "sqs") for pol in mine):
            report(f"queue {q.name} has no queue policy denying requests without TLS (Deny sqs:* to * when "
                   f"aws:SecureTransport is false).", q.urn)


def _sqs_encrypted(resources, report, args):
    allow_managed = bool((args.get_config() or {}).get("allowSqsManagedSse", False))
    for q in resources:
        if q.resource_type != QUEUE or _key_configured(q, "kmsMasterKeyId"):
            continue
        if allow_managed and flag(q.props, "sqsManagedSseEnabled") is True:
            continue
        report(f"queue {q.name} is not encrypted with a KMS key (kmsMasterKeyId)"
               + ("" if not allow_managed else " or SQS-managed SSE") + ".", q.urn)


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
    stack_policy("sqs-tls-only-policy", "SQS queue policies must deny requests made without TLS (dead-letter queues "
                 "too).", _tls_only, severity=Severity.MEDIUM, framework=nist("SC-8"),
                 remediation="Give the queue one QueuePolicy with a statement Deny, Principal '*', Action 'sqs:*', "
                             "Condition Bool aws:SecureTransport 'false' (components/recipes/functions.py does it "
                             "for every function's dead-letter queue).",
                 tags=["sqs", "encryption", "transport", "cdk-nag:SQS4"],
                 types=(QUEUE, QUEUE_POLICY)),
    stack_policy("sqs-encrypted", "SQS queues must be encrypted at rest with a KMS key.", _sqs_encrypted,
                 severity=Severity.MEDIUM, framework=fsbp("SQS.1"),
                 remediation="Set kmsMasterKeyId to the data key (the writing services need GenerateDataKey on it).",
                 tags=["checkov:CKV_AWS_27", "checkov:CKV2_AWS_73", "cdk-nag:AwsSolutions-SQS2",
                       "sqs", "encryption"],
                 config_schema=PolicyConfigSchema(properties={
                     "allowSqsManagedSse": {"type": "boolean", "default": False}}),
        autofix=Autofix("report",
            "SQS-managed SSE would be behaviour-neutral but does not satisfy this rule where a customer key "
            "is required (prod), so it only hid one finding behind another; choosing the key (and granting "
            "producers GenerateDataKey) is the team's decision. The former sqs-queue-managed-encryption-"
            "remediation is removed."),
        types=('aws:sqs/queue:Queue',)),
    stack_policy("sqs-redrive-policy", "Every SQS queue that is not itself a dead-letter queue must have one.",
                 _redrive, severity=Severity.MEDIUM,
                 remediation="Create a DLQ and set redrivePolicy={deadLetterTargetArn: dlq.arn, maxReceiveCount: N}.",
                 tags=["cdk-nag:AwsSolutions-SQS3",
                       "sqs", "resilience"],
        types=('aws:sqs/queue:Queue',)),
]
