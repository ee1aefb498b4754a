"""Architecture picture: the model drawn from a plan, the Mermaid text, the Graphviz render."""
from __future__ import annotations

import html
import shutil

import pytest

from conftest import stack_plan
from plan import diagram
from plan.engine import PlanError
from plan.records import records_plan


def small_plan():
    return records_plan([
        {"type": "ai-platform:tier:Edge", "name": "edge"},
        {"type": "ai-platform:tier:Application", "name": "application"},
        {"type": "ai-platform:tier:Data", "name": "data"},
        {"type": "ai-platform:tier:Events", "name": "events"},
        {"type": "aws:cloudfront/distribution:Distribution", "name": "cdn", "parent": "edge"},
        {"type": "aws:wafv2/webAcl:WebAcl", "name": "waf", "parent": "edge"},
        {"type": "aws:lb/loadBalancer:LoadBalancer", "name": "alb", "parent": "application"},
        {"type": "aws:ecs/service:Service", "name": "svc-a", "parent": "application"},
        {"type": "aws:ecs/service:Service", "name": "svc-b", "parent": "application"},
        {"type": "aws:iam/rolePolicy:RolePolicy", "name": "policy", "parent": "application"},
        {"type": "aws:rds/instance:Instance", "name": "db", "parent": "data"},
        {"type": "aws:sqs/queue:Queue", "name": "queue", "parent": "events"},
        {"type": "aws:lambda/function:Function", "name": "consumer", "parent": "events"},
        {"type": "aws:s3/bucket:Bucket", "name": "dr-bucket", "parent": "data",
         "provider": {"type": "pulumi:providers:aws", "props": {"region": "us-west-2"}}},
        {"type": "aws:s3/bucket:Bucket", "name": "bucket", "parent": "data"},
    ])


def ids(model, kind):
    return [n.id for n in model.nodes() if n.kind == kind]


def test_model_groups_by_tier_and_region_and_counts_undrawn_resources():
    model, users = diagram.build(small_plan())
    assert list(model.groups) == ["Edge", "Application", "Data", "Events", "Data (us-west-2)"]
    (svc,) = [n for n in model.nodes() if n.kind == "ECS Fargate service"]
    assert svc.names == ["svc-a", "svc-b"] and svc.label.startswith("2 x ECS Fargate service")
    assert model.hidden == 1 and users is not None


def test_main_flows_edge_to_lb_to_services_to_data_events_and_dr():
    model, _ = diagram.build(small_plan())
    edges = {(a, b) for a, b, _, _ in model.edges}
    (cdn,), (alb,), (svc,), (db,) = (ids(model, k) for k in ("CloudFront", "Load balancer", "ECS Fargate service",
                                                               "RDS PostgreSQL"))
    (queue,), (fn,) = ids(model, "SQS queue"), ids(model, "Lambda function")
    assert {("users", cdn), (cdn, alb), (alb, svc), (svc, db), (svc, queue), (queue, fn)} <= edges
    (waf,) = ids(model, "WAF web ACL")
    assert (waf, cdn) in edges
    bucket, dr_bucket = ids(model, "S3 bucket")
    assert (bucket, dr_bucket) in edges and (db, dr_bucket) not in edges


def test_mermaid_text_has_subgraphs_nodes_and_edges(tmp_path):
    target = diagram.write(small_plan(), str(tmp_path / "arch.mmd"))
    text = target.read_text()
    assert text.startswith("flowchart TB")   # read top-down from the users
    assert 'subgraph g0["Edge"]' in text and 'subgraph g4["Data (us-west-2)"]' in text
    assert "-->|HTTPS|" in text and "-.->|protects|" in text
    assert "1 configuration resources" in text


def test_bad_extension_is_a_plan_error(tmp_path):
    with pytest.raises(PlanError, match=r"\.png, \.svg or \.mmd"):
        diagram.write(small_plan(), str(tmp_path / "arch.gif"))


def test_without_graphviz_png_fails_with_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    with pytest.raises(PlanError) as err:
        diagram.write(small_plan(), str(tmp_path / "arch.png"))
    assert "graphviz 'dot' not found" in str(err.value) and "\n" not in str(err.value)
    assert diagram.write(small_plan(), str(tmp_path / "arch.mmd")).exists()   # Mermaid still works


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed (apt-get install -y graphviz)")
@pytest.mark.parametrize("ext,magic", [("png", b"\x89PNG"), ("svg", b"<?xml")])
def test_render_writes_an_image(tmp_path, ext, magic):
    out = diagram.write(small_plan(), str(tmp_path / f"arch.{ext}"))
    data = out.read_bytes()
    assert data.startswith(magic) and len(data) > 1000
    if ext == "svg":
        text = html.unescape(data.decode())
        assert "Application" in text and "Data (us-west-2)" in text


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_mermaid_shows_its_tiers(stack):
    plan = stack_plan(stack)
    text = diagram.mermaid(plan)
    model, _ = diagram.build(plan)
    assert "Network" in model.groups and "Security" in model.groups
    assert all(f'["{g}"]' in text for g in model.groups)


def test_vpc_resources_sit_in_their_subnet_layer_and_real_dependencies_become_edges():
    plan = records_plan([
        {"type": "ai-platform:tier:Network", "name": "network"},
        {"type": "ai-platform:tier:Application", "name": "application"},
        {"type": "ai-platform:tier:Data", "name": "data"},
        {"type": "awsx:ec2:Vpc", "name": "vpc", "parent": "network",
         "props": {"cidrBlock": "10.0.0.0/16", "numberOfAvailabilityZones": 2, "natGateways": {"strategy": "Single"},
                   "subnetSpecs": [{"type": "Public", "cidrMask": 24}, {"type": "Private", "cidrMask": 20},
                                   {"type": "Isolated", "cidrMask": 24}]}},
        {"type": "aws:lb/loadBalancer:LoadBalancer", "name": "alb", "parent": "application"},
        {"type": "aws:lb/loadBalancer:LoadBalancer", "name": "internal", "parent": "application",
         "props": {"internal": True}},
        {"type": "aws:lambda/function:Function", "name": "fn-vpc", "parent": "application",
         "props": {"vpcConfig": {"subnetIds": ["a"]}}},
        {"type": "aws:lambda/function:Function", "name": "fn", "parent": "application"},
        {"type": "aws:rds/instance:Instance", "name": "db", "parent": "data"},
        {"type": "aws:rds/subnetGroup:SubnetGroup", "name": "db-subnets", "parent": "data"},
        {"type": "aws:ecr/repository:Repository", "name": "repo", "parent": "application"},
        {"type": "aws:lambda/permission:Permission", "name": "perm", "parent": "application",
         "dependencies": ["repo"]},
        {"type": "aws:s3/bucket:Bucket", "name": "bucket", "parent": "data", "dependencies": ["perm", "vpc"]},
    ])
    model, _ = diagram.build(plan)
    layer = {n.names[0]: n.layer for n in model.nodes()}
    assert layer["alb"] == "public" and layer["internal"] == "private" and layer["db"] == "isolated"
    assert layer["fn-vpc"] == "private" and layer["fn"] == "" and layer["bucket"] == ""
    assert model.vpc["layers"] == {"public": "public subnets (2 x /24)", "private": "private subnets (2 x /20)",
                                   "isolated": "isolated subnets (2 x /24)"} and model.vpc["nats"] == 1
    by_name = {n.names[0]: n.id for n in model.nodes()}
    edges = {(a, b) for a, b, _, _ in model.edges}
    assert (by_name["bucket"], by_name["repo"]) in edges       # through the undrawn permission
    assert not any("vpc" in b.lower() for _, b in edges)       # the VPC is the frame, not a node
