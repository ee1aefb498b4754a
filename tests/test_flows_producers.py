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


def test_the_role_filter_never_drops_a_role_that_may_send():
    """Checker.roles_that_may (which roles the producer check decides at all) keeps every role whose grant may
    be allowed, through its identity policy or through a resource policy naming it: checked exhaustively on
    prod's queues, topics and buses against the full decision, with one topic policy that names a role that has
    no identity grant (the other side: a filter that only read identity policies would drop it)."""
    from plan.flows.model import Checker, Model, Role
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    policy = next(r for r in plan.resources if r.name == "topic-domain-events-policy")
    topic_arn = primary_plan("prod", preview=False).named("topic-domain-events", "aws:sns/topic:Topic").outputs["arn"]
    search_role = Model(plan).role_named("search-task")
    doc = json.loads(policy.inputs["policy"])
    doc["Statement"].append({"Sid": "SearchPublishes", "Effect": "Allow", "Principal": {"AWS": search_role.arn},
                             "Action": "sns:Publish", "Resource": topic_arn})
    policy.inputs["policy"] = json.dumps(doc)
    m = Model(plan)
    ck = Checker(m)
    roles = [r for r in m.roles.values() if isinstance(r, Role)]
    targets = m.of_type("aws:sqs/queue:Queue", "aws:sns/topic:Topic", "aws:cloudwatch/eventBus:EventBus")
    dropped = 0
    for target in targets:
        for action in ("sqs:SendMessage", "sns:Publish", "events:PutEvents"):
            kept = {r.urn for r in ck.roles_that_may(roles, action, m.arn(target))}
            for role in roles:
                if role.urn not in kept:
                    dropped += 1
                    assert ck.role_can(role, action, m.arn(target)).allowed is not True, (role.name, action, target.name)
    assert dropped > 1000   # the filter filters
    named = m.role_named("search-task")
    assert named.urn in {r.urn for r in ck.roles_that_may(roles, "sns:Publish", topic_arn)}
    assert ck.role_can(named, "sns:Publish", topic_arn).allowed is True
    assert not ck.identity_may_allow(named, "sns:Publish")
