"""Events tier wiring on the registered inputs: bus rule -> queue with the queue policy allowing exactly
that rule, a DLQ per queue, topic -> queue fan-out, KMS everywhere, dev/prod differences by value."""
from __future__ import annotations

import functools
import json

import pytest

from components.config import load_settings
from components.config.schema import ConfigError
from conftest import primary_plan, program_with

EVENTS = "ai-platform:tier:Events"
QUEUE = "aws:sqs/queue:Queue"
BASE = {"platform": {"environment": "dev", "owner": "o", "costCenter": "c"}}


def events_resources(plan):
    [tier] = [r for r in plan.resources if r.type == EVENTS]
    return [r for r in plan.resources if r.parent == tier.urn]


def arn(plan, name, token=None):
    return plan.named(name, token).outputs["arn"]


def statements(policy_resource) -> dict:
    return {s["Sid"]: s for s in json.loads(policy_resource.props["policy"])["Statement"]}


def test_rule_delivers_to_its_queue_and_the_queue_policy_allows_exactly_that_rule():
    plan = primary_plan("dev", preview=False)
    rule = plan.named("rule-document-uploaded")
    assert json.loads(rule.props["eventPattern"]) == {"source": ["ai-platform.documents"],
                                                      "detail-type": ["DocumentUploaded"]}
    assert rule.props["eventBusName"] == plan.named("bus").outputs["name"]
    target = plan.named("rule-document-uploaded-target").props
    assert target["arn"] == arn(plan, "queue-document-processing", QUEUE)
    assert target["deadLetterConfig"]["arn"] == arn(plan, "queue-document-processing-dlq", QUEUE)
    policy = plan.named("queue-document-processing-policy")
    st = statements(policy)
    allow = st["EventBridgeRules"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Resource"] == arn(plan, "queue-document-processing", QUEUE)
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": [rule.outputs["arn"]]}}
    assert st["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert rule.urn in policy.dependencies  # the document names the rule by derived ARN; the edge is explicit
    assert policy.props["queueUrl"] == plan.named("queue-document-processing", QUEUE).outputs["url"]
    # the other flow's rule is not allowed on this queue
    assert arn(plan, "rule-inference-requested") not in json.dumps(st)
    # failed deliveries: the DLQ accepts the same rule
    dlq_st = statements(plan.named("queue-document-processing-dlq-policy"))
    assert dlq_st["EventBridgeRulesDeadLetters"]["Condition"] == {"ArnEquals": {"aws:SourceArn": [rule.outputs["arn"]]}}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_queue_has_its_own_dlq_and_kms(stack):
    plan = primary_plan(stack, preview=False)
    settings = load_settings({"platform": {"environment": stack, "owner": "o", "costCenter": "c"},
                              "events": {"alertEmails": ["ops@example.com"]}}, stack=stack, region="us-east-1").events
    data_key = arn(plan, "data-key")
    for name, q in settings.queues.items():
        queue, dlq = plan.named(f"queue-{name}", QUEUE), plan.named(f"queue-{name}-dlq", QUEUE)
        redrive = json.loads(queue.props["redrivePolicy"])
        assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": q.max_receive_count}
        assert dlq.urn in queue.propertyDependencies["redrivePolicy"]
        assert dlq.props["messageRetentionSeconds"] == 14 * 24 * 3600
        assert "redrivePolicy" not in dlq.props
        for r in (queue, dlq):
            assert r.props["kmsMasterKeyId"] == data_key
            assert r.options["protect"] is (stack == "prod")
        assert "DenyInsecureTransport" in statements(plan.named(f"queue-{name}-dlq-policy"))


def test_domain_events_fan_out_to_queue_with_raw_delivery():
    plan = primary_plan("dev", preview=False)
    topic = plan.named("topic-domain-events")
    sub = plan.named("sub-domain-events-notifications").props
    assert sub["protocol"] == "sqs" and sub["rawMessageDelivery"] is True
    assert sub["topic"] == topic.outputs["arn"] and sub["endpoint"] == arn(plan, "queue-notifications", QUEUE)
    allow = statements(plan.named("queue-notifications-policy"))["DomainEventsTopic"]
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": [topic.outputs["arn"]]}}


def test_topics_encrypted_and_alerts_accept_cloudwatch_alarms():
    plan = primary_plan("dev", preview=False)
    data_key = arn(plan, "data-key")
    for name in ("topic-alerts", "topic-domain-events"):
        assert plan.named(name).props["kmsMasterKeyId"] == data_key
    st = statements(plan.named("topic-alerts-policy"))
    cw = st["CloudWatchAlarmsPublish"]
    assert cw["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and cw["Action"] == "sns:Publish"
    assert cw["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"
    assert st["DenyInsecureTransport"]["Effect"] == "Deny"


def test_bus_archive_retention_and_stream_by_environment():
    from conftest import (
        EVERYTHING_ON_EVENTS,
        PROD_STANDBY_ALTERNATIVES,
        everything_on,
        plan_for,
        prod_standby_alternatives,
    )
    assert EVERYTHING_ON_EVENTS == {"analyticsStream": True}
    for stack, retention, mode, shards, hours in (("dev", 7, "ON_DEMAND", None, 24), ("prod", 90, "PROVISIONED", 2, 168)):
        plan = primary_plan(stack, preview=False)
        archive = plan.named("bus-archive").props
        assert archive["retentionDays"] == retention and archive["eventSourceArn"] == arn(plan, "bus")
        # issue 32: nothing produces to the stream or consumes it, so it is opt-in (events.analyticsStream)
        assert plan.of_type("aws:kinesis/stream:Stream") == []
        # the stream switched on: dev's in conftest.everything_on (update mode, shared with the data and delivery
        # tiers' tests), prod's in conftest.PROD_STANDBY_ALTERNATIVES (update mode, shared with DR and data tier tests
        # that do not read the stream; everything_on's prod plan is a preview: no key ARN known)
        if stack == "dev":
            plan = plan_for(everything_on("dev"), stack="dev", preview=False)
        else:
            assert PROD_STANDBY_ALTERNATIVES["ai-platform:events"] == EVERYTHING_ON_EVENTS
            plan = prod_standby_alternatives()
        stream = plan.named("analytics-stream").props
        assert stream["streamModeDetails"] == {"streamMode": mode} and stream.get("shardCount") == shards
        assert stream["encryptionType"] == "KMS" and stream["kmsKeyId"] == arn(plan, "data-key")
        assert stream["retentionPeriod"] == hours


def test_events_resources_are_tagged():
    from policies.rules.tags import taggable
    for r in events_resources(primary_plan("dev", preview=False)):
        if taggable(r.type):
            assert {"Project", "Environment", "ManagedBy", "Owner", "CostCenter"} <= set(r.props.get("tags", {})), r.name


# --- config --------------------------------------------------------------------------------------
def test_rule_must_target_a_configured_queue():
    raw = {**BASE, "events": {"rules": {"x": {"queue": "nope", "sources": ["a"]}}}}
    with pytest.raises(ConfigError, match=r"events\.rules\.x\.queue"):
        load_settings(raw, stack="dev", region="us-east-1")


@pytest.mark.parametrize("sub", [{"topic": "alerts", "protocol": "email", "endpoint": "https://x"},
                                 {"topic": "alerts", "protocol": "https", "endpoint": "ops@example.com"},
                                 {"topic": "alerts", "protocol": "sms", "endpoint": "+1555"}])
def test_subscription_protocol_and_endpoint_are_validated(sub):
    with pytest.raises(ConfigError):
        load_settings({**BASE, "events": {"subscriptions": [sub]}}, stack="dev", region="us-east-1")


def _events_only_program():
    from components.events import EventsTier, EventsTierArgs
    from components.platform import platform_for
    settings = load_settings()
    EventsTier("events", EventsTierArgs(platform=platform_for(settings), settings=settings.events,
                                        data_key_arn="arn:aws:kms:us-east-1:123456789012:key/k"))


@functools.cache
def custom_plan():
    config = {"aws:region": "us-east-1", "ai-platform:platform": BASE["platform"],
              "ai-platform:events": {
                  "queues": {"scoring": {"maxReceiveCount": 2}},
                  "rules": {"a": {"queue": "scoring", "sources": ["s.a"]}, "b": {"queue": "scoring", "sources": ["s.b"]}},
                  "domainEventQueues": [],
                  "subscriptions": [{"topic": "alerts", "protocol": "email", "endpoint": "ops@example.com"}]},
              # the default services consume the default queues (their contracts): off with those queues gone
              "ai-platform:application": {"services": {s: {"enabled": False} for s in (
                  "workflow", "document-extraction", "conversational")}}}
    return program_with(config, preview=False, program=_events_only_program)


def test_queues_rules_and_subscriptions_come_from_config():
    plan = custom_plan()
    queues = sorted(r.name for r in plan.of_type(QUEUE))
    assert queues == ["queue-scoring", "queue-scoring-dlq"]
    assert json.loads(plan.named("queue-scoring").props["redrivePolicy"])["maxReceiveCount"] == 2
    allow = statements(plan.named("queue-scoring-policy"))["EventBridgeRules"]
    assert sorted(allow["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted([arn(plan, "rule-a"), arn(plan, "rule-b")])
    assert "DomainEventsTopic" not in statements(plan.named("queue-scoring-policy"))
    [sub] = [r for r in plan.of_type("aws:sns/topicSubscription:TopicSubscription")]
    assert sub.props["protocol"] == "email" and sub.props["endpoint"] == "ops@example.com"
    assert sub.props["topic"] == arn(plan, "topic-alerts")
