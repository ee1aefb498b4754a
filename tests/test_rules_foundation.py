"""The foundation rules, each three ways: violating, passing, and passing as a new stack's preview shows it."""
from __future__ import annotations

import json

import pytest

from policy_harness import UNKNOWN, check, not_applicable, rec, skipped, violations

TAGS = {"Project": "p", "Environment": "dev", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}


# --- required-tags ---------------------------------------------------------------------------
def test_required_tags_violation_names_missing_keys():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": {"Project": "p"}})])
    [v] = violations(r, "required-tags")
    assert "Environment, ManagedBy, Owner, CostCenter" in v.message and v.level == "mandatory"


def test_required_tags_pass_and_ignore_untaggable_types():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": TAGS}),
               rec("aws:iam/rolePolicy:RolePolicy", "rp", {"policy": "{}"}),
               rec("awsx:ec2:Vpc", "vpc", {})])
    assert violations(r, "required-tags") == []


def test_required_tags_accept_provider_default_tags_in_tags_all():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tagsAll": TAGS})])
    assert violations(r, "required-tags") == []


def test_required_tags_preview_with_unknown_other_props_still_decides():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": TAGS, "kmsMasterKeyId": UNKNOWN}),
               rec("aws:sqs/queue:Queue", "bad", {"tags": {"Project": "p"}, "kmsMasterKeyId": UNKNOWN})])
    assert [v.urn.split("::")[-1] for v in violations(r, "required-tags")] == ["bad"]


def test_required_tags_unknown_tags_object_is_reported_as_undecidable():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": UNKNOWN})])
    assert violations(r, "required-tags") == [] and skipped(r, "required-tags")


def test_required_tags_are_configurable():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": {"Team": "x"}})],
              config={"required-tags": {"requiredTags": ["Team"]}})
    assert violations(r, "required-tags") == []


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


# --- kms-key-rotation-enabled ----------------------------------------------------------------
def test_kms_rotation_violation_pass_and_preview():
    r = check([rec("aws:kms/key:Key", "off", {"enableKeyRotation": False}),
               rec("aws:kms/key:Key", "on", {"enableKeyRotation": True, "policy": UNKNOWN}),
               rec("aws:kms/key:Key", "asym", {"customerMasterKeySpec": "RSA_2048"})])
    assert [v.urn.split("::")[-1] for v in violations(r, "kms-key-rotation-enabled")] == ["off"]
    assert not_applicable(r, "kms-key-rotation-enabled")[0]["urn"].endswith("asym")


# --- iam-no-full-admin -----------------------------------------------------------------------
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SCOPED = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                  "Resource": "arn:aws:s3:::b/*"}]}


def test_iam_full_admin_in_every_policy_style():
    r = check([
        rec("aws:iam/policy:Policy", "json-string", {"policy": json.dumps(ADMIN)}),
        rec("aws:iam/rolePolicy:RolePolicy", "object", {"policy": ADMIN}),
        rec("aws:iam/role:Role", "inline", {"inlinePolicies": [{"name": "x", "policy": json.dumps(ADMIN)}]}),
        rec("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach",
            {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess", "role": "r"}),
        rec("aws:iam/policy:Policy", "notaction", {"policy": {"Statement": [
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}}),
    ])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "iam-no-full-admin")) == [
        "attach", "inline", "json-string", "notaction", "object"]


def test_iam_scoped_and_deny_statements_pass():
    deny = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    r = check([rec("aws:iam/policy:Policy", "scoped", {"policy": json.dumps(SCOPED)}),
               rec("aws:iam/policy:Policy", "deny", {"policy": deny})])
    assert violations(r, "iam-no-full-admin") == []


def test_iam_policy_unknown_in_preview_is_undecidable():
    r = check([rec("aws:iam/rolePolicy:RolePolicy", "p", {"policy": UNKNOWN, "role": UNKNOWN})])
    assert violations(r, "iam-no-full-admin") == [] and skipped(r, "iam-no-full-admin")


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


@pytest.mark.parametrize("level", ["advisory", "mandatory"])
def test_enforcement_level_comes_from_policy_config(level):
    r = check([rec("aws:kms/key:Key", "off", {"enableKeyRotation": False})], level=level)
    assert {v.level for v in violations(r, "kms-key-rotation-enabled")} == {level}
