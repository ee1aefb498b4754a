"""Every queue or topic something consumes has a producer (issue 24): the flow check's "a producer" flows, and
the program's domain-events rule that feeds the topic workflow's notifications queue is subscribed to. Reintroducing
the defect (a queue nobody sends to) turns the named flow red; the config refuses a subscribed topic with nothing
routed to it."""
from __future__ import annotations

import copy
import json

import pytest

from components.config import load_settings
from components.config.schema import ConfigError
from conftest import primary_plan, stack_plan
from plan.flows.catalogue import build_flows

NOTIFICATIONS = "queue ai-platform-prod-notifications (consumed by workflow)"
DOMAIN_TOPIC = "topic ai-platform-prod-domain-events (consumed by sqs subscriber)"


def producer_flow(table, target):
    (f,) = [f for f in table if f.source == "a producer" and f.target == target]
    return f


def mutated(mutate):
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    mutate(plan)
    return build_flows(plan)


def test_every_consumed_queue_and_subscribed_topic_has_a_producer_in_both_stacks():
    for stack in ("dev", "prod"):
        table = build_flows(stack_plan(stack, preview=False))
        rows = [f for f in table if f.source == "a producer"]
        # the three queues services consume and the two subscribed topics, in each region the stack builds
        assert len(rows) >= 5, [f.target for f in rows]
        assert [f.to_json() for f in rows if not f.ok] == []


def test_notifications_are_fed_by_the_domain_events_rule_through_the_topic():
    f = producer_flow(build_flows(stack_plan("prod", preview=False)), NOTIFICATIONS)
    assert f.verdict.allowed is True
    assert "rule ai-platform-prod-domain-events -> topic ai-platform-prod-domain-events" in f.verdict.reason
    assert "events:PutEvents (ai-platform.documents, DocumentUploaded)" in f.verdict.reason


def test_a_queue_nobody_sends_to_is_red():
    """The defect of issue 24: notifications fed only by a topic nothing publishes to."""
    def drop_rule(plan):
        plan.resources[:] = [r for r in plan.resources if r.name not in ("rule-domain-events",
                                                                         "rule-domain-events-target")]
    table = mutated(drop_rule)
    f = producer_flow(table, NOTIFICATIONS)
    assert f.verdict.allowed is False
    assert "nothing sends to the queue" in f.verdict.reason and "nothing publishes to the topic" in f.verdict.reason
    assert producer_flow(table, DOMAIN_TOPIC).verdict.allowed is False


def test_a_producer_whose_grant_is_gone_does_not_count():
    """The path must be allowed end to end: without document-extraction's PutEvents grant nothing publishes
    DocumentUploaded, so neither its own queue nor the notifications queue has a producer."""
    def no_publisher(plan):
        for r in plan.resources:
            if r.type in ("aws:iam/rolePolicy:RolePolicy",) and r.name.startswith("document-extraction-task"):
                doc = json.loads(r.inputs["policy"])
                doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "PublishOwnEvents"]
                r.inputs["policy"] = json.dumps(doc)
    table = mutated(no_publisher)
    assert producer_flow(table, NOTIFICATIONS).verdict.allowed is False
    assert producer_flow(table, "queue ai-platform-prod-document-processing (consumed by document-extraction)"
                         ).verdict.allowed is False


def test_the_topic_policy_admits_only_the_rule_that_feeds_it():
    plan = primary_plan("prod", preview=False)
    rule = plan.named("rule-domain-events")
    assert json.loads(rule.props["eventPattern"]) == {"source": ["ai-platform.documents"],
                                                      "detail-type": ["DocumentUploaded"]}
    assert plan.named("rule-domain-events-target").props["arn"] == plan.named(
        "topic-domain-events", "aws:sns/topic:Topic").outputs["arn"]
    [st] = [s for s in json.loads(plan.named("topic-domain-events-policy").props["policy"])["Statement"]
            if s["Sid"] == "EventBridgePublish"]
    assert st["Condition"]["ArnEquals"] == {"aws:SourceArn": rule.outputs["arn"]}


@pytest.mark.parametrize("events,fragment", [
    ({"domainEventTypes": []}, "at least one event type"),
    ({"domainEventTypes": ["NoSuchEvent"]}, "a detail-type of a bus rule"),
])
def test_config_refuses_a_subscribed_topic_nothing_is_routed_to(events, fragment):
    with pytest.raises(ConfigError) as e:
        load_settings({"platform": {"environment": "dev", "owner": "o", "costCenter": "c"}, "events": events})
    assert "events.domainEventTypes" in str(e.value) and fragment in str(e.value)
