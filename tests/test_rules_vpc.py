"""VPC rules (policies/rules/vpc.py) and EFS/ACM/Redshift/OpenSearch rules (policies/rules/storage.py):
violating, passing, passing under preview unknowns."""
from __future__ import annotations

import functools

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

NACL, RULE = "aws:ec2/networkAcl:NetworkAcl", "aws:ec2/networkAclRule:NetworkAclRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"
ES, OS = "aws:elasticsearch/domain:Domain", "aws:opensearch/domain:Domain"
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
    ("efs-encrypted", "efs-plain", EFS, {}, "violation"),
    ("efs-encrypted", "efs-aws-key", EFS, {"encrypted": True}, "violation"),
    ("efs-encrypted", "efs-cmk", EFS, {"encrypted": True, "kmsKeyId": "arn:k"}, "pass"),
    ("efs-encrypted", "efs-cmk-preview", EFS, {"encrypted": True, "kmsKeyId": UNKNOWN}, "pass"),
    ("acm-certificate-secure", "cert-no-ct", CERT, {"domainName": "a.example.com", "validationMethod": "DNS",
                                                    "options": {"certificateTransparencyLoggingPreference": "DISABLED"}},
     "violation"),
    ("acm-certificate-secure", "cert-imported", CERT, {"privateKey": "k", "certificateBody": "b"}, "violation"),
    ("acm-certificate-secure", "cert-imported-preview", CERT, {"privateKey": UNKNOWN, "certificateBody": UNKNOWN},
     "violation"),
    ("acm-certificate-secure", "cert-ok", CERT, {"domainName": "a.example.com", "validationMethod": "DNS"}, "pass"),
    ("acm-certificate-secure", "cert-preview", CERT, {"domainName": "a.example.com", "validationMethod": "DNS",
                                                      "subjectAlternativeNames": [UNKNOWN]}, "pass"),
    # pulumi-aws 7: `encrypted` is a string defaulting to "true" (issue 13: the default was flagged, "false" passed)
    ("redshift-cluster-configuration", "rs-plain", RS, {"nodeType": "ra3.xlplus", "publiclyAccessible": False},
     "pass"),
    ("redshift-cluster-configuration", "rs-string-false", RS, {"nodeType": "ra3.xlplus", "encrypted": "false"},
     "violation"),
    ("redshift-cluster-configuration", "rs-string-true", RS, {"nodeType": "ra3.xlplus", "encrypted": "true"}, "pass"),
    ("redshift-cluster-configuration", "rs-enc", RS, {"nodeType": "ra3.xlplus", "encrypted": True,
                                                      "publiclyAccessible": False}, "pass"),
    ("redshift-cluster-configuration", "rs-preview", RS, {"nodeType": "ra3.xlplus", "encrypted": True,
                                                          "kmsKeyId": UNKNOWN, "publiclyAccessible": False}, "pass"),
    ("redshift-cluster-maintenance-settings", "rs-nosnap", RS, {"automatedSnapshotRetentionPeriod": 0,
                                                                "encrypted": True}, "violation"),
    ("redshift-cluster-maintenance-settings", "rs-enc", RS, {}, "pass"),
    ("redshift-cluster-maintenance-settings", "rs-preview", RS, {}, "pass"),
    ("redshift-cluster-public-access", "rs-public", RS, {"publiclyAccessible": True, "encrypted": True}, "violation"),
    ("redshift-cluster-public-access", "rs-unset", RS, {"encrypted": True}, "violation"),
    ("redshift-cluster-public-access", "rs-enc", RS, {}, "pass"),
    ("redshift-cluster-public-access", "rs-preview", RS, {}, "pass"),
    ("elasticsearch-encrypted-at-rest", "es-plain", ES, {"vpcOptions": {"subnetIds": ["s"]}}, "violation"),
    ("elasticsearch-encrypted-at-rest", "os-enc", OS, {"encryptAtRest": {"enabled": True},
                                                       "vpcOptions": {"subnetIds": ["s"]}}, "pass"),
    ("elasticsearch-encrypted-at-rest", "os-preview", OS, {"encryptAtRest": {"enabled": True, "kmsKeyId": UNKNOWN},
                                                           "vpcOptions": {"subnetIds": UNKNOWN}}, "pass"),
    ("elasticsearch-in-vpc-only", "os-public", OS, {"encryptAtRest": {"enabled": True}}, "violation"),
    ("elasticsearch-in-vpc-only", "os-enc", OS, {}, "pass"),
    ("elasticsearch-in-vpc-only", "os-preview", OS, {}, "pass"),
]


@functools.lru_cache(maxsize=None)
def _result():
    seen, records = set(), []
    for _, n, t, p, _ in CASES:
        if n not in seen:
            seen.add(n)
            records.append(rec(t, n, p))
    return check(records)


def _names(findings):
    return {f.urn.split("::")[-1] for f in findings}


@pytest.mark.parametrize("policy,name,rtype,props,expected", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_case(policy, name, rtype, props, expected):
    r = _result()
    assert (name in _names(violations(r, policy))) == (expected == "violation")
    assert (name in _names(skipped(r, policy))) == (expected == "skipped")


def test_wildcard_certificates_only_when_disallowed():
    cert = rec(CERT, "wild", {"domainName": "*.example.com", "validationMethod": "DNS"})
    assert violations(check([cert]), "acm-certificate-secure") == []
    r = check([cert], config={"acm-certificate-secure": {"allowWildcard": False}})
    assert _names(violations(r, "acm-certificate-secure")) == {"wild"}


VPC, DSG = "aws:ec2/vpc:Vpc", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


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
    assert _names(violations(r, "default-security-group-restricts-all")) == {"open-default", "into-default",
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
    assert _names(violations(check(records), "vpc-endpoints-configured")) == {"without"}
    r = check(records, config={"vpc-endpoints-configured": {"requiredServices": ["s3", "dynamodb"]}})
    assert _names(violations(r, "vpc-endpoints-configured")) == {"with-s3", "without"}


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
    assert _names(violations(r, "security-group-ingress-cidrs-allowed")) == {"sg-office", "legacy-partner", "modern-v6"}
    assert not skipped(r, "security-group-ingress-cidrs-allowed")
    r = check(records, config={"security-group-ingress-cidrs-allowed": {"allowedCidrs": [office, "198.51.100.0/24"]}})
    assert _names(violations(r, "security-group-ingress-cidrs-allowed")) == {"modern-v6"}


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
