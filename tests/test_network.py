"""Network tier: the inputs actually registered for dev and prod."""
from __future__ import annotations

import json

import pytest

from conftest import primary_plan as stack_plan
from plan.engine import UNKNOWN

VPC = "awsx:ec2:Vpc"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def test_vpc_layout_differs_by_values_only():
    dev, prod = stack_plan("dev", False).named("vpc", VPC), stack_plan("prod", False).named("vpc", VPC)
    assert (dev.props["numberOfAvailabilityZones"], dev.props["natGateways"]["strategy"]) == (2, "Single")
    assert (prod.props["numberOfAvailabilityZones"], prod.props["natGateways"]["strategy"]) == (3, "OnePerAz")
    for vpc in (dev, prod):
        assert [s["type"] for s in vpc.props["subnetSpecs"]] == ["Public", "Private", "Isolated"]
        assert vpc.props["enableDnsHostnames"] is True and vpc.props["subnetStrategy"] == "Auto"
        # awsx copies these onto its children (subnets, route tables, NAT, EIPs), which policies see in a real preview
        assert {"Project", "Environment", "ManagedBy", "Owner", "CostCenter"} <= set(vpc.props["tags"])


@pytest.mark.parametrize("stack, retention", [("dev", 30), ("prod", 365)])
def test_flow_logs_to_kms_encrypted_log_group_with_retention(stack, retention):
    plan = stack_plan(stack, False)
    group = plan.named("flow-logs", "aws:cloudwatch/logGroup:LogGroup")
    assert group.props["retentionInDays"] == retention
    assert group.propertyDependencies["kmsKeyId"] == [plan.named("logs-key").urn]
    flow = plan.named("flow-log", "aws:ec2/flowLog:FlowLog")
    assert flow.props["trafficType"] == "ALL" and flow.props["logDestinationType"] == "cloud-watch-logs"
    assert flow.propertyDependencies["vpcId"] == [plan.named("vpc", VPC).urn]
    assert flow.propertyDependencies["logDestination"] == [group.urn]
    # delivery starts at create: the role's policy (not only the role) exists first
    assert plan.named("flow-logs-delivery", "aws:iam/rolePolicy:RolePolicy").urn in flow.options["dependsOn"]
    assert flow.props["maxAggregationInterval"] in (60, 600)
    doc = json.loads(plan.named("flow-logs-delivery", "aws:iam/rolePolicy:RolePolicy").props["policy"])
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    group_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{group.props['name']}"
    assert sorted(by_sid["DeliverFlowLogs"]["Resource"]) == [group_arn, group_arn + ":*"]
    # DescribeLogGroups has no resource-level permissions: only "*" matches its requests (tests/test_flows_lint.py)
    assert by_sid["FindLogGroup"] == {"Sid": "FindLogGroup", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"],
                                      "Resource": "*"}


def test_gateway_endpoints_on_private_and_isolated_route_tables():
    plan = stack_plan("prod", False)
    vpc_outputs = plan.named("vpc", VPC).outputs
    for svc in ("s3", "dynamodb"):
        ep = plan.named(f"endpoint-{svc}")
        assert ep.props["vpcEndpointType"] == "Gateway" and ep.props["serviceName"] == f"com.amazonaws.us-east-1.{svc}"
        # one route table per private and isolated subnet, looked up by their association (mock invoke)
        assert len(ep.props["routeTableIds"]) == len(vpc_outputs["privateSubnetIds"]) + len(vpc_outputs["isolatedSubnetIds"])


def test_interface_endpoints_only_where_configured():
    dev, prod = stack_plan("dev", False), stack_plan("prod", False)
    def interface(p):
        return sorted(r.props["serviceName"].split(".", 3)[-1] for r in p.of_type(
            "aws:ec2/vpcEndpoint:VpcEndpoint") if r.props["vpcEndpointType"] == "Interface")
    assert interface(dev) == []
    assert interface(prod) == ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts"]
    ep = prod.named("endpoint-ecr-api")
    assert ep.props["privateDnsEnabled"] is True and len(ep.props["subnetIds"]) == 3
    assert ep.propertyDependencies["securityGroupIds"] == [prod.named("endpoints-sg").urn]


def test_default_security_group_is_emptied():
    sg = stack_plan("dev", False).named("default-sg")
    # explicit empty lists: adopting the group removes every rule AWS put there
    assert sg.props["ingress"] == [] and sg.props["egress"] == []


def sg_urn(plan, key):
    return plan.named(f"{key}-sg", "aws:ec2/securityGroup:SecurityGroup").urn


def test_nothing_is_open_to_the_world_and_the_load_balancer_only_to_the_vpc_link_on_80_443():
    # issue 12: the load balancer is internal; its only client is the API's VPC link
    plan = stack_plan("prod", False)
    world = [r for r in plan.of_type(INGRESS) if r.props.get("cidrIpv4") == "0.0.0.0/0" or r.props.get("cidrIpv6")]
    assert world == []
    lb_in = [r for r in plan.of_type(INGRESS) if r.propertyDependencies["securityGroupId"] == [sg_urn(plan, "lb")]]
    assert sorted(r.props["fromPort"] for r in lb_in) == [80, 443]
    assert {r.propertyDependencies["referencedSecurityGroupId"][0] for r in lb_in} == {sg_urn(plan, "vpclink")}


def test_security_group_chain_lb_to_app_to_data():
    plan = stack_plan("prod", False)
    lb, app, data = sg_urn(plan, "lb"), sg_urn(plan, "app"), sg_urn(plan, "data")

    def edges(token):
        return {(r.propertyDependencies["securityGroupId"][0], r.propertyDependencies["referencedSecurityGroupId"][0],
                 r.props.get("fromPort"), r.props.get("toPort"))
                for r in plan.of_type(token) if r.propertyDependencies.get("referencedSecurityGroupId")}

    ingress, egress = edges(INGRESS), edges(EGRESS)
    assert (app, lb, 8000, 8009) in ingress and (lb, app, 8000, 8009) in egress
    for port in (5432, 6379, 27017):
        assert (data, app, port, port) in ingress and (app, data, port, port) in egress
    # nothing reaches the data group except the application group
    assert {src for (grp, src, *_rest) in ingress if grp == data} == {app}


def test_preview_leaves_vpc_dependent_values_unknown_but_correlated():
    plan = stack_plan("dev", True)
    flow = plan.named("flow-log", "aws:ec2/flowLog:FlowLog")
    assert flow.inputs["vpcId"] == UNKNOWN
    assert flow.propertyDependencies["vpcId"] == [plan.named("vpc", VPC).urn]


# --- issue 12 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ml_group_admits_its_own_members_and_the_lb_only_the_vpc_link(stack):
    plan = stack_plan(stack, False)
    sg = {k: plan.named(f"{k}-sg", "aws:ec2/securityGroup:SecurityGroup").id for k in ("ml", "lb", "vpclink")}
    ml_in = [r.props for r in plan.of_type(INGRESS) if r.props["securityGroupId"] == sg["ml"]]
    assert ml_in == [{**ml_in[0], "ipProtocol": "-1", "referencedSecurityGroupId": sg["ml"]}]
    assert all(r.props.get("cidrIpv4") != "0.0.0.0/0" for r in plan.of_type(INGRESS)), "nothing is open to the internet"
    lb_in = [r.props for r in plan.of_type(INGRESS) if r.props["securityGroupId"] == sg["lb"]]
    assert sorted(r["fromPort"] for r in lb_in) == [80, 443]
    assert all(r["referencedSecurityGroupId"] == sg["vpclink"] for r in lb_in)
    link_out = [r.props for r in plan.of_type(EGRESS) if r.props["securityGroupId"] == sg["vpclink"]]
    assert sorted(r["fromPort"] for r in link_out) == [80, 443]
    assert all(r["referencedSecurityGroupId"] == sg["lb"] for r in link_out)
