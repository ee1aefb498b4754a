"""The flow check over the DR region (issue 15): DR services reach the DR region's queues, bus and replica and
never the primary region's; the DR bus rules and the DR domain-events topic deliver to the DR queues; the
replication roles reach the DR buckets and keys; the replica its DR key. Both sides: each intended flow turns red
when the grant behind it is removed, each forbidden flow when a grant is widened to the primary's resource."""
from __future__ import annotations

import copy
import functools
import json

import pytest
from test_dr_tier import prod_with

from conftest import stack_plan
from plan.flows.catalogue import build_flows
from plan.flows.model import Model

DR = " (DR us-west-2)"
# Catalogue contracts (components/catalog.py): who consumes which queue, who publishes what.
CONSUMERS = {"conversational": "inference-requests", "document-extraction": "document-processing",
             "workflow": "notifications"}
PUBLISHERS = {"document-extraction": "DocumentUploaded", "workflow": "InferenceRequested"}


@functools.cache
def flows(mode: str = "pilot-light"):
    # warm-standby as after the first release (its standby tasks running), the plan its other tests read
    plan = stack_plan("prod", preview=False) if mode == "pilot-light" else prod_with(mode, False, released=True)
    return build_flows(plan)


def one(table, source, target):
    hits = [f for f in table if f.source == source and f.target == target]
    assert len(hits) == 1, (source, target, [(f.source, f.target) for f in table if f.source == source])
    return hits[0]


def mutated(mutate):
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    mutate(plan, Model(plan))
    return build_flows(plan)


def dr_task_policy(plan, m, service):
    """The DR instance of `service`'s task policy (the primary's has the same logical name)."""
    [pol] = [r for r in plan.resources if r.name == f"{service}-task-policy" and m.region_of(r) == "us-west-2"]
    return pol


# ------------------------------------------------------------------ the table is clean in both standing modes
@pytest.mark.parametrize("mode", ["pilot-light", "warm-standby"])
def test_no_flow_is_other_than_intended_in_either_standing_mode(mode):
    table = flows(mode)
    bad = [(f.source, f.target, f.verdict.reason) for f in table if not f.ok]
    assert bad == []
    assert sum(1 for f in table if f.group == "dr" and f.expected == "deny") >= 9 + 5   # DB x 9 services, queues, bus


@pytest.mark.parametrize("mode", ["pilot-light", "warm-standby"])
def test_dr_services_consume_dr_queues_and_publish_to_the_dr_bus(mode):
    table = flows(mode)
    for svc, queue in CONSUMERS.items():
        f = one(table, svc + DR, f"queue ai-platform-prod-{queue}")
        assert f.ok and f.verdict.allowed is True, f.verdict.reason
        assert f.expected == "allow" and f.group == "service"
    for svc, detail in PUBLISHERS.items():
        f = one(table, svc + DR, f"event bus ai-platform-prod-platform ({detail})")
        assert f.verdict.allowed is True, f.verdict.reason


def test_dr_services_are_forbidden_the_primary_regions_queues_bus_and_database():
    table = flows()
    for svc, queue in CONSUMERS.items():
        f = one(table, svc + DR, f"primary-region queue ai-platform-prod-{queue}")
        assert f.expected == "deny" and f.verdict.allowed is False and f.ok
    for svc, detail in PUBLISHERS.items():
        f = one(table, svc + DR, f"primary-region event bus ai-platform-prod-platform ({detail})")
        assert f.expected == "deny" and f.verdict.allowed is False and f.ok
    f = one(table, "search" + DR, "primary-region database ai-platform-prod-postgres")
    assert f.expected == "deny" and f.verdict.allowed is False


def test_the_dr_bus_rules_and_topic_deliver_to_the_dr_queues():
    table = flows()
    for rule, queue in (("document-uploaded", "document-processing"), ("inference-requested", "inference-requests")):
        for target in (f"queue ai-platform-prod-{queue}", f"dead-letter queue ai-platform-prod-{queue}-dlq"):
            f = one(table, f"EventBridge rule ai-platform-prod-{rule}{DR}", target)
            assert f.verdict.allowed is True, f.verdict.reason
    f = one(table, f"topic ai-platform-prod-domain-events{DR}", "queue ai-platform-prod-notifications")
    assert f.verdict.allowed is True
    # the DR region's alarms (replica lag, DR ALB) notify the DR events tier's alerts topic, which has subscribers
    [alarms] = [f for f in table if f.group == "alerts" and f.target == f"topic ai-platform-prod-alerts{DR}"]
    assert alarms.verdict.allowed is True
    assert one(table, f"topic ai-platform-prod-alerts{DR}", "a subscriber").verdict.allowed is True


def test_replication_roles_reach_the_dr_buckets_and_keys_and_the_replica_its_dr_key():
    table = flows()
    buckets = [f for f in table if f.source.startswith("replication role") and f.target.startswith("DR bucket")]
    keys = [f for f in table if f.source.startswith("replication role") and f.target.startswith("DR key")]
    # the three data buckets (KMS: a DR key each) and the site (SSE-S3 like its source: no key flow)
    assert sorted(f.target.split("-dr-")[1].split("-123456789012")[0] for f in buckets) == [
        "data-lake", "documents", "ml-artifacts", "site"]
    assert len(keys) == 3
    assert all(f.verdict.allowed is True for f in buckets + keys)
    f = one(table, "replica postgres-dr (us-west-2)", "DR key dr-key")
    assert f.verdict.allowed is True and f.group == "dr"


# ------------------------------------------------------------------ both sides: a broken grant turns a flow red
def test_dr_consumer_grant_removed_denies_the_dr_queue():
    def drop(plan, m):
        pol = dr_task_policy(plan, m, "conversational")
        doc = json.loads(pol.inputs["policy"])
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "ConsumeOwnQueues"]
        pol.inputs["policy"] = json.dumps(doc)
    f = one(mutated(drop), "conversational" + DR, "queue ai-platform-prod-inference-requests")
    assert f.verdict.allowed is False and "sqs:ReceiveMessage" in f.verdict.reason


def test_dr_queue_policy_without_the_dr_rule_denies_delivery():
    def drop(plan, m):
        [q] = [r for r in plan.resources if r.type == "aws:sqs/queue:Queue" and m.region_of(r) == "us-west-2"
               and m.get(r, "name") == "ai-platform-prod-document-processing"]
        [pol] = [r for r in plan.resources if r.type == "aws:sqs/queuePolicy:QueuePolicy" and m.ref(r, "queueUrl") is q]
        doc = json.loads(pol.inputs["policy"])
        doc["Statement"] = [s for s in doc["Statement"] if "events.amazonaws.com" not in json.dumps(s)]
        pol.inputs["policy"] = json.dumps(doc)
    table = mutated(drop)
    f = one(table, f"EventBridge rule ai-platform-prod-document-uploaded{DR}", "queue ai-platform-prod-document-processing")
    assert f.verdict.allowed is False
    # the primary's namesake is untouched
    assert one(table, "EventBridge rule ai-platform-prod-document-uploaded",
               "queue ai-platform-prod-document-processing").verdict.allowed is True


def test_a_dr_grant_widened_to_the_primary_queue_or_bus_turns_the_forbidden_flows_red():
    def widen(plan, m):
        pol = dr_task_policy(plan, m, "workflow")
        doc = json.loads(pol.inputs["policy"])
        doc["Statement"].append({"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "events:PutEvents"],
                                 "Resource": ["arn:aws:sqs:us-east-1:123456789012:ai-platform-prod-notifications",
                                              "arn:aws:events:us-east-1:123456789012:event-bus/ai-platform-prod-platform"]})
        pol.inputs["policy"] = json.dumps(doc)
    table = mutated(widen)
    q = one(table, "workflow" + DR, "primary-region queue ai-platform-prod-notifications")
    bus = one(table, "workflow" + DR, "primary-region event bus ai-platform-prod-platform (InferenceRequested)")
    assert q.verdict.allowed is True and not q.ok
    assert bus.verdict.allowed is True and not bus.ok


# ------------------------------------------------------------------ two-way S3 replication (issue 26)
def _back_policy(plan):
    [pol] = [r for r in plan.resources if r.name == "s3-replication-back-policy"]
    return pol


def test_the_dr_replicas_replicate_back_with_their_own_role_and_never_into_their_sources():
    table = flows()
    back = [f for f in table if f.source == "replication role s3-replication-back-role"]
    buckets = sorted(f.target for f in back if f.target.startswith("primary bucket"))
    assert [b.split("ai-platform-prod-")[1].split("-123456789012")[0] for b in buckets] == [
        "data-lake", "documents", "ml-artifacts", "site"]
    assert len([f for f in back if f.target.startswith("primary key")]) == 3     # the data key, via s3.us-east-1
    denied = [f for f in table if f.target.startswith("its source bucket")]
    assert len(denied) == 8 and all(f.expected == "deny" for f in denied)        # both roles, every source
    assert all(f.ok for f in back + denied)

    # both sides: the back role without its write grant cannot bring objects back ...
    def drop(plan, m):
        pol = _back_policy(plan)
        doc = json.loads(pol.inputs["policy"])
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "WriteReplicas"]
        pol.inputs["policy"] = json.dumps(doc)
    red = [f for f in mutated(drop) if f.source == "replication role s3-replication-back-role"
           and f.target.startswith("primary bucket")]
    assert red and all(f.verdict.allowed is False and not f.ok for f in red)

    # ... and a role allowed to write into its own sources (one role for both directions) is flagged
    def widen(plan, m):
        pol = _back_policy(plan)
        doc = json.loads(pol.inputs["policy"])
        for s in doc["Statement"]:
            if s.get("Sid") == "WriteReplicas":
                s["Resource"] = "*"
        pol.inputs["policy"] = json.dumps(doc)
    red = [f for f in mutated(widen) if f.source == "replication role s3-replication-back-role"
           and f.target.startswith("its source bucket")]
    assert len(red) == 4 and all(not f.ok for f in red)
