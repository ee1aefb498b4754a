"""Tests for policies/rules/vpc.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import functools

import pytest

from policy_harness import (
    UNKNOWN,
    check,
    names,
    rec,
    skipped,
    violations,
)

SG = "aws:ec2/securityGroup:SecurityGroup"

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def names_compute(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- load balancer attributes ------------------------------------------------------------------------
GOOD_LB = {"loadBalancerType": "application", "dropInvalidHeaderFields": True, "enableDeletionProtection": True,
           "accessLogs": {"bucket": "logs", "prefix": "alb", "enabled": True}, "subnets": ["s1", "s2"]}


# --- public-ingress-only-to-load-balancers -----------------------------------------------------------
def _world_rule(name, sg):
    return rec(INGRESS, name, {"securityGroupId": UNKNOWN, "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp",
                               "fromPort": 443, "toPort": 443}, prop_deps={"securityGroupId": [sg]})


# --- issue 13 defect classes ------------------------------------------------------------------------
LB, LISTENER = "aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener"

# --- issue 13 defect classes ------------------------------------------------------------------------
LB, LISTENER = "aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener"

SGT = "aws:ec2/securityGroup:SecurityGroup"


def _open_sg(name):
    return rec(SGT, name, {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443,
                                        "cidrBlocks": ["0.0.0.0/0"]}]})


_names = names

SG_iam_extra, SGR = "aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

SG_iam_extra, SGR = "aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

INLINE_22 = {"fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": ["10.0.0.0/8"]}

NACL, RULE = "aws:ec2/networkAcl:NetworkAcl", "aws:ec2/networkAclRule:NetworkAclRule"

NACL, RULE = "aws:ec2/networkAcl:NetworkAcl", "aws:ec2/networkAclRule:NetworkAclRule"

SSH_WORLD = {"ruleNo": 100, "action": "allow", "protocol": "tcp", "fromPort": 0, "toPort": 1024, "cidrBlock": "0.0.0.0/0"}

HTTPS_WORLD = {"ruleNo": 100, "action": "allow", "protocol": "tcp", "fromPort": 443, "toPort": 443,
               "cidrBlock": "0.0.0.0/0"}

CASES = [
    ("nacl-no-public-admin-ports", "nacl-ssh", NACL, {"vpcId": "v", "ingress": [SSH_WORLD]}, "violation"),
    ("nacl-no-public-admin-ports", "nacl-all", "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
     {"ingress": [dict(SSH_WORLD, protocol="-1", fromPort=0, toPort=0)]}, "violation"),
    ("nacl-no-public-admin-ports", "rule-rdp", RULE, {"ruleNumber": 10, "egress": False, "ruleAction": "allow",
                                                      "protocol": "6", "fromPort": 3389, "toPort": 3389,
                                                      "ipv6CidrBlock": "::/0"}, "violation"),
    ("nacl-no-public-admin-ports", "nacl-https", NACL, {"vpcId": "v", "ingress": [HTTPS_WORLD]}, "pass"),
    ("nacl-no-public-admin-ports", "rule-deny-ssh", RULE, {"ruleNumber": 10, "egress": False, "ruleAction": "deny",
                                                           "protocol": "tcp", "fromPort": 22, "toPort": 22,
                                                           "cidrBlock": "0.0.0.0/0"}, "pass"),
    ("nacl-no-public-admin-ports", "nacl-preview", NACL, {"vpcId": UNKNOWN, "subnetIds": UNKNOWN,
                                                          "ingress": [HTTPS_WORLD]}, "pass"),
    ("subnet-no-auto-public-ip", "subnet-public", "aws:ec2/subnet:Subnet", {"vpcId": "v", "mapPublicIpOnLaunch": True},
     "violation"),
    ("subnet-no-auto-public-ip", "subnet-private", "aws:ec2/subnet:Subnet", {"vpcId": "v"}, "pass"),
    ("subnet-no-auto-public-ip", "subnet-preview", "aws:ec2/subnet:Subnet", {"vpcId": UNKNOWN,
                                                                             "mapPublicIpOnLaunch": False}, "pass"),
    ("security-group-description", "sg-default-desc", SG, {"vpcId": "v"}, "violation"),
    ("security-group-description", "sg-rule-nodesc", SG, {"description": "web", "ingress": [
        {"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": ["10.0.0.0/8"]}]}, "violation"),
    ("security-group-description", "rule-nodesc", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"fromPort": 443, "toPort": 443, "ipProtocol": "tcp", "cidrIpv4": "10.0.0.0/8"}, "violation"),
    ("security-group-description", "sg-described", SG, {"description": "web", "vpcId": "v"}, "pass"),
    ("security-group-description", "rule-described-preview", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
     {"description": "to db", "securityGroupId": UNKNOWN, "referencedSecurityGroupId": UNKNOWN}, "pass"),
]


@functools.cache
def _result():
    seen, records = set(), []
    for _, n, t, p, _ in CASES:
        if n not in seen:
            seen.add(n)
            records.append(rec(t, n, p))
    return check(records)


def _names_vpc(findings):
    return {f.urn.split("::")[-1] for f in findings}


VPC, DSG = "aws:ec2/vpc:Vpc", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"

VPC, DSG = "aws:ec2/vpc:Vpc", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


def test_public_ingress_violation_for_group_without_load_balancer():
    r = check([rec(SG, "lb-sg", {}), rec(SG, "app-sg", {}), _world_rule("lb-443", "lb-sg"),
               _world_rule("app-443", "app-sg"),
               rec(SG, "inline-sg", {"ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80,
                                                  "cidrBlocks": ["0.0.0.0/0"]}]}),
               rec(LB, "alb", GOOD_LB, prop_deps={"securityGroups": ["lb-sg"]})])
    assert names_compute(r, "public-ingress-only-to-load-balancers") == ["app-sg", "inline-sg"]


def test_public_ingress_pass_when_load_balancer_uses_group():
    r = check([rec(SG, "lb-sg", {}), _world_rule("lb-443", "lb-sg"),
               rec(SG, "alb-sg", {"ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80,
                                               "cidrBlocks": ["0.0.0.0/0"]}]}),
               rec(LB, "alb", GOOD_LB, prop_deps={"securityGroups": ["lb-sg"]}),
               rec("aws:alb/loadBalancer:LoadBalancer", "old-alb", GOOD_LB, prop_deps={"securityGroups": ["alb-sg"]})])
    assert violations(r, "public-ingress-only-to-load-balancers") == []


def test_public_ingress_preview_ids_unknown_correlates_by_urn():
    r = check([rec(SG, "lb-sg", {"vpcId": UNKNOWN}), _world_rule("lb-443", "lb-sg"),
               rec(LB, "alb", {**GOOD_LB, "securityGroups": [UNKNOWN], "subnets": UNKNOWN},
                   prop_deps={"securityGroups": ["lb-sg"]})])
    assert violations(r, "public-ingress-only-to-load-balancers") == []
    assert not skipped(r, "public-ingress-only-to-load-balancers")


def test_open_group_shared_by_a_load_balancer_and_an_instance_is_reported():
    """Before: an open group passed as soon as any load balancer used it."""
    r = check([_open_sg("sg-shared"), _open_sg("sg-lb-only"),
               rec(LB, "lb", {"securityGroups": [UNKNOWN, UNKNOWN]},
                   prop_deps={"securityGroups": ["sg-shared", "sg-lb-only"]}),
               rec("aws:ec2/instance:Instance", "vm", {"vpcSecurityGroupIds": [UNKNOWN]},
                   prop_deps={"vpcSecurityGroupIds": ["sg-shared"]})])
    found = violations(r, "public-ingress-only-to-load-balancers")
    assert names_compute(r, "public-ingress-only-to-load-balancers") == ["sg-shared"] and "vm" in found[0].message


# --- no-public-ingress -----------------------------------------------------------------------
def test_public_ingress_violations_in_every_rule_style():
    r = check([
        rec("aws:ec2/securityGroup:SecurityGroup", "inline", {"ingress": [
            {"fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}]}),
        rec("aws:ec2/securityGroupRule:SecurityGroupRule", "legacy", {
            "type": "ingress", "fromPort": 0, "toPort": 65535, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}),
        rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "modern", {
            "fromPort": 5432, "toPort": 5432, "ipProtocol": "tcp", "cidrIpv6": "::/0"}),
    ])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "no-public-ingress")) == ["inline", "legacy", "modern"]


def test_public_ingress_allows_https_from_world_and_anything_from_a_group():
    r = check([
        rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https", {
            "fromPort": 443, "toPort": 443, "ipProtocol": "tcp", "cidrIpv4": "0.0.0.0/0"}),
        rec("aws:ec2/securityGroupRule:SecurityGroupRule", "egress", {
            "type": "egress", "fromPort": 0, "toPort": 0, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}),
        rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "from-sg", {
            "fromPort": 5432, "toPort": 5432, "ipProtocol": "tcp", "referencedSecurityGroupId": UNKNOWN}),
    ])
    assert violations(r, "no-public-ingress") == [] and skipped(r, "no-public-ingress") == []


def test_public_ingress_port_range_covering_443_is_not_allowed():
    r = check([rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "range", {
        "fromPort": 1, "toPort": 1000, "ipProtocol": "tcp", "cidrIpv4": "0.0.0.0/0"})])
    assert violations(r, "no-public-ingress")


def test_public_ingress_unknown_cidr_is_undecidable_not_passing():
    r = check([rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "x", {
        "fromPort": 22, "toPort": 22, "ipProtocol": "tcp", "cidrIpv4": UNKNOWN})])
    assert skipped(r, "no-public-ingress")


# --- vpc-flow-logs-enabled (stack policy, correlated through dependencies) --------------------
def test_flow_logs_missing_is_reported_for_awsx_and_plain_vpcs():
    r = check([rec("awsx:ec2:Vpc", "vpc", {}), rec("aws:ec2/vpc:Vpc", "plain", {"cidrBlock": "10.0.0.0/16"})])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "vpc-flow-logs-enabled")) == ["plain", "vpc"]


def test_flow_logs_pass_when_correlated_by_dependency_even_with_unknown_ids():
    r = check([
        rec("awsx:ec2:Vpc", "vpc", {}),
        rec("aws:ec2/vpc:Vpc", "vpc-child", {"cidrBlock": "10.0.0.0/16"}, parent="vpc"),
        rec("aws:ec2/flowLog:FlowLog", "fl", {"vpcId": UNKNOWN, "trafficType": "ALL"}, prop_deps={"vpcId": ["vpc"]}),
        rec("aws:ec2/vpc:Vpc", "other", {}),
        rec("aws:ec2/flowLog:FlowLog", "fl2", {"vpcId": UNKNOWN}, prop_deps={"vpcId": ["other"]}),
    ])
    assert violations(r, "vpc-flow-logs-enabled") == [] and skipped(r, "vpc-flow-logs-enabled") == []


def test_flow_log_for_another_vpc_does_not_count():
    r = check([rec("aws:ec2/vpc:Vpc", "a", {}), rec("aws:ec2/vpc:Vpc", "b", {}),
               rec("aws:ec2/flowLog:FlowLog", "fl", {"vpcId": UNKNOWN}, prop_deps={"vpcId": ["a"]})])
    assert [v.urn.split("::")[-1] for v in violations(r, "vpc-flow-logs-enabled")] == ["b"]


def test_security_group_rule_management_conflicts():
    r = check([
        rec(SG_iam_extra, "mixed", {"description": "d", "ingress": [INLINE_22]}),
        rec(SGR, "mixed-443", {"fromPort": 443, "toPort": 443, "ipProtocol": "tcp", "securityGroupId": UNKNOWN,
                               "description": "d"}, prop_deps={"securityGroupId": ["mixed"]}),
        # a deployed group's state lists its separate rules inline: read-back, not a conflict
        rec(SG_iam_extra, "readback", {"description": "d", "ingress": [{"fromPort": 443, "toPort": 443, "protocol": "tcp"}]}),
        rec(SGR, "readback-443", {"fromPort": 443, "toPort": 443, "ipProtocol": "tcp", "securityGroupId": UNKNOWN,
                                  "description": "d"}, prop_deps={"securityGroupId": ["readback"]}),
        # separate ingress rule and inline egress: different directions, no conflict (preview: ids unknown)
        rec(SG_iam_extra, "separate", {"description": "d", "egress": [{"fromPort": 0, "toPort": 0, "protocol": "-1",
                                                             "cidrBlocks": ["0.0.0.0/0"]}], "vpcId": UNKNOWN}),
        rec("aws:ec2/securityGroupRule:SecurityGroupRule", "separate-legacy",
            {"type": "ingress", "fromPort": 443, "toPort": 443, "protocol": "tcp", "securityGroupId": UNKNOWN,
             "sourceSecurityGroupId": UNKNOWN, "description": "d"}, prop_deps={"securityGroupId": ["separate"]}),
    ])
    assert _names(violations(r, "security-group-no-rule-management-conflicts")) == {"mixed-443"}
    assert not skipped(r, "security-group-no-rule-management-conflicts")


@pytest.mark.parametrize("policy,name,rtype,props,expected", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_case(policy, name, rtype, props, expected):
    r = _result()
    assert (name in _names_vpc(violations(r, policy))) == (expected == "violation")
    assert (name in _names_vpc(skipped(r, policy))) == (expected == "skipped")


def test_default_security_group_restricts_all():
    r = check([
        rec(VPC, "adopted", {"cidrBlock": "10.0.0.0/16"}),
        rec(DSG, "adopted-default", {"vpcId": UNKNOWN, "ingress": [], "egress": []}, prop_deps={"vpcId": ["adopted"]}),
        rec(VPC, "open", {"cidrBlock": "10.1.0.0/16"}),
        rec(DSG, "open-default", {"vpcId": UNKNOWN, "egress": [{"fromPort": 0, "toPort": 0, "protocol": "-1",
                                                               "cidrBlocks": ["0.0.0.0/0"]}]},
            prop_deps={"vpcId": ["open"]}),
        rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "into-default",
            {"securityGroupId": UNKNOWN, "ipProtocol": "-1", "referencedSecurityGroupId": UNKNOWN, "description": "x"},
            prop_deps={"securityGroupId": ["adopted-default"]}),
        rec(VPC, "not-adopted", {"cidrBlock": "10.2.0.0/16"}),
        # preview: awsx VPC component stands for its child VPC, ids unknown, join by URN
        rec("awsx:ec2:Vpc", "awsx-vpc", {"cidrBlock": "10.3.0.0/16"}),
        rec(DSG, "awsx-default", {"vpcId": UNKNOWN, "ingress": [], "egress": []}, prop_deps={"vpcId": ["awsx-vpc"]}),
    ])
    assert _names_vpc(violations(r, "default-security-group-restricts-all")) == {"open-default", "into-default",
                                                                             "not-adopted"}
    r = check([rec(VPC, "not-adopted", {"cidrBlock": "10.2.0.0/16"})],
              config={"default-security-group-restricts-all": {"requireAdoption": False}})
    assert violations(r, "default-security-group-restricts-all") == []


def test_vpc_endpoints_configured():
    ep = "aws:ec2/vpcEndpoint:VpcEndpoint"
    records = [
        rec(VPC, "with-s3", {"cidrBlock": "10.0.0.0/16"}),
        rec(ep, "s3", {"vpcId": UNKNOWN, "serviceName": "com.amazonaws.us-east-1.s3", "routeTableIds": UNKNOWN},
            prop_deps={"vpcId": ["with-s3"]}),
        rec(VPC, "without", {"cidrBlock": "10.1.0.0/16"}),
    ]
    assert _names_vpc(violations(check(records), "vpc-endpoints-configured")) == {"without"}
    r = check(records, config={"vpc-endpoints-configured": {"requiredServices": ["s3", "dynamodb"]}})
    assert _names_vpc(violations(r, "vpc-endpoints-configured")) == {"with-s3", "without"}


def test_ingress_cidrs_allowed_in_every_rule_style():
    office = "203.0.113.0/24"
    records = [
        rec(SG, "sg-office", {"description": "d", "ingress": [{"fromPort": 22, "toPort": 22, "protocol": "tcp",
                                                               "cidrBlocks": [office], "description": "d"}]}),
        rec("aws:ec2/securityGroupRule:SecurityGroupRule", "legacy-partner",
            {"type": "ingress", "fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": ["198.51.100.7/32"],
             "securityGroupId": UNKNOWN, "description": "d"}),
        rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "modern-v6",
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv6": "2001:db8::/32", "description": "d"}),
        rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "private",
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "10.10.0.0/16", "description": "d",
             "securityGroupId": UNKNOWN}),
        rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "from-sg-preview",
            {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "referencedSecurityGroupId": UNKNOWN,
             "securityGroupId": UNKNOWN, "description": "d"}),
        rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "world",
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0", "description": "d"}),
    ]
    r = check(records)
    assert _names_vpc(violations(r, "security-group-ingress-cidrs-allowed")) == {"sg-office", "legacy-partner", "modern-v6"}
    assert not skipped(r, "security-group-ingress-cidrs-allowed")
    r = check(records, config={"security-group-ingress-cidrs-allowed": {"allowedCidrs": [office, "198.51.100.0/24"]}})
    assert _names_vpc(violations(r, "security-group-ingress-cidrs-allowed")) == {"modern-v6"}


# --- issue 13 -------------------------------------------------------------------------------------------
def test_vpc_endpoints_compare_the_whole_service_name():
    """Before: only the last dot-segment was compared, so com.amazonaws.<region>.ecr.api satisfied 'api'-ending
    services alike and 'ecr.api' itself never matched."""
    vpc = rec("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})

    def ep(name, service):
        return rec("aws:ec2/vpcEndpoint:VpcEndpoint", name, {"vpcId": UNKNOWN, "serviceName": service},
                   prop_deps={"vpcId": ["vpc"]})
    cfg = {"vpc-endpoints-configured": {"requiredServices": ["s3", "ecr.api", "execute-api"]}}
    r = check([vpc, ep("e1", "com.amazonaws.us-east-1.s3"), ep("e2", "com.amazonaws.us-east-1.ecr.api")], config=cfg)
    [v] = violations(r, "vpc-endpoints-configured")
    assert "execute-api" in v.message and "ecr.api" not in v.message


def test_nacl_rule_numbers_print_as_ints():
    r = check([rec(NACL, "nacl-int", {"ingress": [SSH_WORLD]})])
    [v] = violations(r, "nacl-no-public-admin-ports")
    assert "rule 100 " in v.message and "100.0" not in v.message


def test_public_ingress_ports_print_as_ints():
    """Before: ports arrived through the protobuf Struct as floats and printed as 22.0-22.0."""
    r = check([rec("aws:ec2/securityGroup:SecurityGroup", "ssh-world", {"ingress": [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]})])
    [v] = violations(r, "no-public-ingress")
    assert "tcp 22-22" in v.message and "TCP 80, 443 " in v.message and "22.0" not in v.message


# --- default-network-acl-restricted (issue 32) -------------------------------------------------------
DNACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
OPEN_ENTRY = {"ruleNo": 100, "action": "allow", "protocol": "-1", "cidrBlock": "0.0.0.0/0", "fromPort": 0, "toPort": 0}
VPC_ENTRY = {"ruleNo": 100, "action": "allow", "protocol": "-1", "cidrBlock": "10.0.0.0/16", "fromPort": 0, "toPort": 0}
RETURN_ENTRY = {"ruleNo": 200, "action": "allow", "protocol": "tcp", "cidrBlock": "0.0.0.0/0", "fromPort": 1024,
                "toPort": 3388}


def test_default_network_acl_restricted_both_sides():
    r = check([
        # adopted, restricted: tied by depends_on (a looked-up id carries no dependency in a preview)
        rec("awsx:ec2:Vpc", "good-vpc", {"cidrBlock": "10.0.0.0/16"}),
        rec(DNACL, "good-acl", {"defaultNetworkAclId": UNKNOWN, "ingress": [VPC_ENTRY, RETURN_ENTRY],
                                "egress": [OPEN_ENTRY]}, deps=["good-vpc"]),
        # adopted but left as AWS made it
        rec(VPC, "open-vpc", {"cidrBlock": "10.1.0.0/16"}),
        rec(DNACL, "open-acl", {"defaultNetworkAclId": UNKNOWN, "ingress": [OPEN_ENTRY], "egress": [OPEN_ENTRY]},
            deps=["open-vpc"]),
        rec(DNACL, "open-v6-acl", {"defaultNetworkAclId": "acl-1", "ingress": [
            {**OPEN_ENTRY, "cidrBlock": None, "ipv6CidrBlock": "::/0", "protocol": "all"}]}),
        # not adopted at all
        rec(VPC, "bare-vpc", {"cidrBlock": "10.2.0.0/16"}),
    ])
    assert _names_vpc(violations(r, "default-network-acl-restricted")) == {"open-acl", "open-v6-acl", "bare-vpc"}
    # the admin-ports rule sees adopted ACLs too: the ephemeral range is split around 3389
    assert violations(r, "nacl-no-public-admin-ports") and not any(
        v.urn.endswith("good-acl") for v in violations(r, "nacl-no-public-admin-ports"))
