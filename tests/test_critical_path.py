"""Critical path of a first `pulumi up`: the longest dependency chain, with create times per type."""
from __future__ import annotations

import json
from itertools import pairwise

import pytest

from conftest import stack_plan
from plan import critical_path as cp
from plan.records import records_plan

TIMES = cp.load_times()


def secs(token, **props):
    from plan.engine import Resource
    r = Resource(urn=f"urn:x::{token}::n", type=token, name="n", parent="", provider="", custom=True,
                 remote=token.startswith("awsx:"), options={}, inputs=props, dependencies=[], propertyDependencies={})
    return cp.create_time(r)


def test_longest_chain_through_vpc_database_and_replica():
    plan = records_plan([
        {"type": "awsx:ec2:Vpc", "name": "vpc", "props": {"natGateways": {"strategy": "Single"}}},
        {"type": "aws:rds/subnetGroup:SubnetGroup", "name": "subnets", "dependencies": ["vpc"]},
        {"type": "aws:rds/instance:Instance", "name": "db", "props": {"multiAz": True}, "dependencies": ["subnets"]},
        {"type": "aws:rds/instance:Instance", "name": "replica", "props": {"replicateSourceDb": "x"},
         "dependencies": ["db"]},
        {"type": "aws:kms/key:Key", "name": "key"},
        {"type": "aws:s3/bucket:Bucket", "name": "bucket", "dependencies": ["key"]},
    ])
    path = cp.critical_path(plan)
    assert [s.name for s in path.steps] == ["vpc", "subnets", "db", "replica"]
    assert path.total == 300 + 5 + 1200 + 1200
    for a, b in pairwise(path.steps):
        assert b.start == a.finish
    assert path.steps[0].assumption is False and path.steps[1].assumption is True


def test_a_component_finishes_when_its_children_do():
    plan = records_plan([
        {"type": "ai-platform:tier:Data", "name": "data"},
        {"type": "aws:elasticache/replicationGroup:ReplicationGroup", "name": "redis", "parent": "data"},
        {"type": "aws:kms/key:Key", "name": "key", "parent": "data"},
        {"type": "aws:ecs/service:Service", "name": "svc", "dependencies": ["data"]},
    ])
    path = cp.critical_path(plan)
    assert [s.name for s in path.steps] == ["redis", "svc"]
    assert path.total == 900 + 30
    assert path.steps[1].start == 900


def test_parallel_branches_do_not_add_up():
    plan = records_plan([
        {"type": "aws:eks/cluster:Cluster", "name": "eks"},
        {"type": "aws:cloudfront/distribution:Distribution", "name": "cdn"},
        {"type": "aws:eks/nodeGroup:NodeGroup", "name": "nodes", "dependencies": ["eks"]},
    ])
    path = cp.critical_path(plan)
    assert path.total == 840 + 420 and [s.name for s in path.steps] == ["eks", "nodes"]


@pytest.mark.parametrize("token,props,expected", [
    ("aws:rds/instance:Instance", {}, 600),
    ("aws:rds/instance:Instance", {"multiAz": True}, 1200),
    ("awsx:ec2:Vpc", {"natGateways": {"strategy": "None"}}, 30),
    ("awsx:ec2:Vpc", {"natGateways": {"strategy": "OnePerAz"}}, 300),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", {"vpcEndpointType": "Gateway"}, 10),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", {"vpcEndpointType": "Interface"}, 120),
    ("aws:foo/unknown:Thing", {}, 5),
])
def test_create_time_variants_follow_inputs(token, props, expected):
    assert secs(token, **props)[0] == expected


def test_unknown_type_uses_the_default_and_is_marked_assumption():
    seconds, source, assumption = secs("aws:foo/unknown:Thing")
    assert assumption and "assumption" in source


def test_every_create_time_has_a_source_and_sourced_rows_cite_aws_facts():
    for token, entry in TIMES.items():
        if token == "_about":
            continue
        assert entry["seconds"] >= 0 and entry["source"], token
        if not entry.get("assumption") and token != "_component":
            assert "aws-facts.md" in entry["source"], token
        for v in entry.get("variants", []):
            assert v["source"] and v["seconds"] >= 0 and ("equals" in v or "present" in v), token


def test_a_cycle_does_not_hang():
    plan = records_plan([{"type": "aws:kms/key:Key", "name": "a", "dependencies": ["b"]},
                         {"type": "aws:kms/key:Key", "name": "b", "dependencies": ["a"]}])
    assert cp.critical_path(plan).total > 0


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_critical_path_is_a_consistent_chain(stack):
    path = cp.critical_path(stack_plan(stack))
    assert path.total > 0 and path.steps
    assert path.steps[-1].finish == pytest.approx(path.total)
    for a, b in pairwise(path.steps):
        assert b.start == pytest.approx(a.finish)
    doc = json.loads(json.dumps(path.to_json()))
    assert doc["totalMinutes"] == pytest.approx(path.total / 60, abs=0.05)
    assert "critical path of a first `pulumi up`" in cp.text(path)
