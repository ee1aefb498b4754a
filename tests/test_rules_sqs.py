"""Tests for policies/rules/sqs.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

QUEUE = "aws:sqs/queue:Queue"

KEY = "aws:kms/key:Key"

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/abc"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- sqs-encrypted --------------------------------------------------------------------------
def test_sqs_encrypted_violations():
    r = check([rec(QUEUE, "plain", {"name": "q"}), rec(QUEUE, "empty", {"kmsMasterKeyId": ""}),
               rec(QUEUE, "managed", {"sqsManagedSseEnabled": True})])
    assert names(r, "sqs-encrypted") == ["empty", "managed", "plain"]


def test_sqs_encrypted_passes_kms_and_optionally_managed_sse():
    r = check([rec(QUEUE, "kms", {"kmsMasterKeyId": KEY_ARN}), rec(QUEUE, "managed", {"sqsManagedSseEnabled": True})],
              config={"sqs-encrypted": {"allowSqsManagedSse": True}})
    assert violations(r, "sqs-encrypted") == []


def test_sqs_encrypted_preview_key_from_resource_passes():
    r = check([rec(KEY, "k", {}), rec(QUEUE, "q", {"kmsMasterKeyId": UNKNOWN}, prop_deps={"kmsMasterKeyId": ["k"]})])
    assert violations(r, "sqs-encrypted") == [] and not skipped(r, "sqs-encrypted")


# --- sqs-redrive-policy ---------------------------------------------------------------------
def test_redrive_violation_for_work_queue_without_dlq():
    r = check([rec(QUEUE, "work", {"kmsMasterKeyId": KEY_ARN}),
               rec(QUEUE, "other", {"redrivePolicy": ""})])
    assert names(r, "sqs-redrive-policy") == ["other", "work"]


def test_redrive_passes_and_exempts_every_kind_of_dlq():
    dlq_policy = '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":5}'
    r = check([
        rec(QUEUE, "dlq", {}), rec(QUEUE, "work", {"redrivePolicy": dlq_policy}, prop_deps={"redrivePolicy": ["dlq"]}),
        # DLQs of a Lambda function, an EventBridge target and an SNS subscription are not work queues
        rec(QUEUE, "fn-dlq", {}), rec("aws:lambda/function:Function", "fn", {"deadLetterConfig": {"targetArn": "x"}},
                                      prop_deps={"deadLetterConfig": ["fn-dlq"]}),
        rec(QUEUE, "target-dlq", {}), rec("aws:cloudwatch/eventTarget:EventTarget", "t", {"arn": "x"},
                                          prop_deps={"deadLetterConfig": ["target-dlq"], "arn": ["work"]}),
        rec(QUEUE, "sub-dlq", {}), rec("aws:sns/topicSubscription:TopicSubscription", "s", {"protocol": "sqs"},
                                       prop_deps={"redrivePolicy": ["sub-dlq"], "endpoint": ["work"]}),
    ])
    assert violations(r, "sqs-redrive-policy") == []


def test_redrive_target_queue_is_not_exempt_as_a_dlq():
    # being the *target* of an EventBridge rule (arn) does not make a queue a DLQ
    r = check([rec(QUEUE, "work", {}), rec("aws:cloudwatch/eventTarget:EventTarget", "t", {"arn": "x"},
                                           prop_deps={"arn": ["work"]})])
    assert names(r, "sqs-redrive-policy") == ["work"]


def test_redrive_preview_unknown_policy_from_dlq_passes():
    r = check([rec(QUEUE, "dlq", {"kmsMasterKeyId": UNKNOWN}),
               rec(QUEUE, "work", {"redrivePolicy": UNKNOWN, "kmsMasterKeyId": UNKNOWN},
                   prop_deps={"redrivePolicy": ["dlq"]})])
    assert violations(r, "sqs-redrive-policy") == [] and not skipped(r, "sqs-redrive-policy")


def test_queue_without_key_is_reported_not_half_fixed():
    """Before: a remediation set SQS-managed SSE while sqs-encrypted (mandatory, customer key) still blocked the
    same queue. Now nothing remediates and the one finding says what to do."""
    r = check([rec("aws:sqs/queue:Queue", "jobs", {"name": "jobs", "redrivePolicy": "{}"})], level="remediate")
    assert r.remediations == []
    assert [v.urn.split("::")[-1] for v in r.violations if v.policy == "sqs-encrypted"] == ["jobs"]


# --- sqs-tls-only-policy (issue 32: one DLQ lacked the statement every other queue has) ---------------
def _tls_doc(*extra, action="sqs:*", value="false"):
    import json
    return json.dumps({"Statement": [*extra, {"Effect": "Deny", "Principal": "*", "Action": action,
                                              "Resource": "arn:aws:sqs:us-east-1:1:q",
                                              "Condition": {"Bool": {"aws:SecureTransport": value}}}]})


def test_sqs_tls_only_policy_both_sides():
    policy = "aws:sqs/queuePolicy:QueuePolicy"
    r = check([
        rec(QUEUE, "guarded", {}), rec(policy, "guarded-policy", {"queueUrl": UNKNOWN, "policy": _tls_doc()},
                                       prop_deps={"queueUrl": ["guarded"]}),
        rec(QUEUE, "inline", {"policy": _tls_doc(action="*")}),
        # a policy that only allows a sender: the DLQ of issue 32
        rec(QUEUE, "senders-only", {}), rec(policy, "senders-policy", {"queueUrl": UNKNOWN, "policy": '{"Statement": '
                                             '[{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, '
                                             '"Action": "sqs:SendMessage", "Resource": "*"}]}'},
                                            prop_deps={"queueUrl": ["senders-only"]}),
        rec(QUEUE, "no-policy", {}),
        # a deny that does not bite (SecureTransport true) and one for another queue do not count
        rec(QUEUE, "wrong-value", {"policy": _tls_doc(value="true")}),
        rec(QUEUE, "borrowed", {}),
    ])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "sqs-tls-only-policy")) == [
        "borrowed", "no-policy", "senders-only", "wrong-value"]
