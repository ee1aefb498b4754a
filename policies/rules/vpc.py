"""VPC networking: security groups (public ingress only to load balancers, allowed CIDRs, descriptions,
rule-management conflicts), default security groups, network ACLs, subnets, flow logs, endpoints."""
from __future__ import annotations

import ipaddress
import re

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import nist
from ._lib import (
    AWSX_VPC,
    DEFAULT_SECURITY_GROUP,
    FLOW_LOG,
    SECURITY_GROUP,
    SG_EGRESS_RULE,
    SG_INGRESS_RULE,
    SG_RULE,
    VPC,
    cis,
    depends_on,
    flag,
    fsbp,
    get,
    items,
    num,
    resource_policy,
    stack_policy,
)
from ._shared import ALL_LOAD_BALANCERS, _deps

SG_TYPES = (SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")


def _public_ingress_only_lbs(resources, report, args):
    groups = {r.urn: r for r in resources if r.resource_type == SECURITY_GROUP}
    open_groups: dict[str, list[str]] = {}
    for r in resources:
        rules = world_open_rules(r.resource_type, r.props) if r.resource_type in (
            SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE) else []
        if not rules:
            continue
        targets = [r.urn] if r.resource_type == SECURITY_GROUP else [u for u in _deps(r, "securityGroupId")
                                                                      if u in groups]
        for urn in targets:
            open_groups.setdefault(urn, []).append(r.name)
    if not open_groups:
        return
    fronted: set = set()
    shared: dict = {}
    for r in resources:
        if r.resource_type in ALL_LOAD_BALANCERS:
            fronted |= _deps(r, "securityGroups")
        elif r.resource_type not in SG_TYPES:  # rules and groups referencing a group do not attach it
            for urn in {d.urn for ds in r.property_dependencies.values() for d in ds} & set(open_groups):
                shared.setdefault(urn, []).append(r.name)
    for urn, via in open_groups.items():
        if urn not in fronted:
            report(f"security group {groups[urn].name} is open to the internet ({', '.join(sorted(set(via)))}) "
                   f"but no load balancer uses it: only load balancers may face the internet.", urn)
        elif shared.get(urn):
            report(f"security group {groups[urn].name} is open to the internet ({', '.join(sorted(set(via)))}) "
                   f"and shared by a load balancer with {', '.join(sorted(shared[urn]))}: give the load balancer "
                   f"its own group.", urn)


def _proto(value) -> str:
    value = str(value if value is not None else "").lower()
    return {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}.get(value, value)


def _sg_rule_direction(r) -> str:
    if r.resource_type == SG_INGRESS_RULE:
        return "ingress"
    if r.resource_type == SG_EGRESS_RULE:
        return "egress"
    return str(get(r.props, "type", ""))


def _sg_rule_key(r) -> tuple:
    proto_key = "ipProtocol" if r.resource_type != SG_RULE else "protocol"
    protocol = _proto(get(r.props, proto_key))
    if protocol == "-1":
        return ("-1", None, None)
    return (protocol, get(r.props, "fromPort"), get(r.props, "toPort"))


def _inline_key(rule) -> tuple:
    protocol = _proto(get(rule, "protocol"))
    if protocol == "-1":
        return ("-1", None, None)
    return (protocol, get(rule, "fromPort"), get(rule, "toPort"))


def _sg_conflicts(resources, report, args):
    """awsguard security-group-no-rule-management-conflicts. A security group with inline rules owns every
    rule of that direction, so separate rule resources for it are deleted or re-added on each update.
    Inline rules that each match a separate rule are treated as the provider reading those rules back into
    the group's state (what a deployed stack's state shows), not as a conflict."""
    groups = {r.urn: r for r in resources if r.resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP)}
    rules = [r for r in resources if r.resource_type in (SG_RULE, SG_INGRESS_RULE, SG_EGRESS_RULE)]
    by_group: dict = {}
    for rule in rules:
        for dep in rule.property_dependencies.get("securityGroupId", []):
            if dep.urn in groups:
                by_group.setdefault((dep.urn, _sg_rule_direction(rule)), []).append(rule)
    for (urn, direction), separate in sorted(by_group.items(), key=lambda kv: kv[0]):
        inline = items(get(groups[urn].props, direction))
        if not inline:
            continue
        separate_keys = {_sg_rule_key(r) for r in separate}
        if all(_inline_key(rule) in separate_keys for rule in inline):
            continue
        names = ", ".join(r.name for r in separate)
        report(f"security group {groups[urn].name} has inline {direction} rules and separate {direction} rule "
               f"resources ({names}); manage its rules one way only.", separate[0].urn)


WORLD = ("0.0.0.0/0", "::/0")

DEFAULT_PUBLIC_PORTS = [80, 443]


def world_open_rules(resource_type: str, props) -> list[dict]:
    """Ingress rules of any style open to the internet, as {fromPort, toPort, protocol, cidr}."""
    rules = []
    if resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        for rule in items(get(props, "ingress")):
            cidrs = items(get(rule, "cidrBlocks")) + items(get(rule, "ipv6CidrBlocks"))
            for cidr in cidrs:
                if cidr in WORLD:
                    rules.append({"fromPort": num(get(rule, "fromPort")), "toPort": num(get(rule, "toPort")),
                                  "protocol": str(get(rule, "protocol", "")), "cidr": cidr})
    elif resource_type == SG_RULE and get(props, "type") == "ingress":
        for cidr in items(get(props, "cidrBlocks")) + items(get(props, "ipv6CidrBlocks")):
            if cidr in WORLD:
                rules.append({"fromPort": num(get(props, "fromPort")), "toPort": num(get(props, "toPort")),
                              "protocol": str(get(props, "protocol", "")), "cidr": cidr})
    elif resource_type == SG_INGRESS_RULE:
        for cidr in (get(props, "cidrIpv4"), get(props, "cidrIpv6")):
            if cidr in WORLD:
                rules.append({"fromPort": num(get(props, "fromPort")), "toPort": num(get(props, "toPort")),
                              "protocol": str(get(props, "ipProtocol", "")), "cidr": cidr})
    return rules


def _allowed(rule: dict, ports: list[int]) -> bool:
    return (rule["protocol"].lower() in ("tcp", "6") and rule["fromPort"] == rule["toPort"]
            and rule["fromPort"] in ports)


def _no_public_ingress(props, report, args):
    ports = [num(p) for p in (args.get_config() or {}).get("allowedPublicPorts", DEFAULT_PUBLIC_PORTS)]
    for rule in world_open_rules(args.resource_type, props):
        if not _allowed(rule, ports):
            report(f"ingress from {rule['cidr']} on {rule['protocol']} {rule['fromPort']}-{rule['toPort']}; only "
                   f"TCP {', '.join(map(str, ports))} may be open to the internet (load balancers).")


def _flow_logs(resources, report, args):
    vpcs = [r for r in resources if r.resource_type == VPC]
    covered_components = {a.urn for v in vpcs for a in [v.parent] if a is not None}
    # Under the mock runtime (and for remote components generally) the awsx VPC stands for its child.
    vpcs += [r for r in resources if r.resource_type == AWSX_VPC and r.urn not in covered_components]
    logs = [r for r in resources if r.resource_type == FLOW_LOG]
    for vpc in vpcs:
        if not any(depends_on(log, vpc, "vpcId") or depends_on(log, vpc) for log in logs):
            report(f"VPC {vpc.name} has no flow log attached (a FlowLog whose vpcId comes from it).", vpc.urn)


NACL = "aws:ec2/networkAcl:NetworkAcl"

DEFAULT_NACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"

NACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"

SUBNET = "aws:ec2/subnet:Subnet"

VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"

DEFAULT_ADMIN_PORTS = [22, 3389]

DEFAULT_ENDPOINT_SERVICES = ["s3"]

PULUMI_DEFAULT_DESCRIPTION = "Managed by Pulumi"


def _vpcs(resources) -> list:
    vpcs = [r for r in resources if r.resource_type == VPC]
    covered = {v.parent.urn for v in vpcs if v.parent is not None}
    return vpcs + [r for r in resources if r.resource_type == AWSX_VPC and r.urn not in covered]


def _default_sg(resources, report, args):
    """CIS 5.4: the default security group restricts all traffic. Every VPC adopts its default group with an
    aws.ec2.DefaultSecurityGroup (a VPC created without one keeps AWS's allow-all-within-group rules), and
    that group has no inline or separate rules."""
    groups = [r for r in resources if r.resource_type == DEFAULT_SECURITY_GROUP]
    for group in groups:
        for direction in ("ingress", "egress"):
            if items(get(group.props, direction)):
                report(f"default security group {group.name} has {direction} rules; it must restrict all traffic.",
                       group.urn)
    for rule in resources:
        if rule.resource_type not in (SG_RULE, SG_INGRESS_RULE, SG_EGRESS_RULE):
            continue
        if any(depends_on(rule, group, "securityGroupId") for group in groups):
            report(f"rule {rule.name} adds traffic to a default security group.", rule.urn)
    if not (args.get_config() or {}).get("requireAdoption", True):
        return
    for vpc in _vpcs(resources):
        if not any(depends_on(group, vpc, "vpcId") for group in groups):
            report(f"VPC {vpc.name} has no aws.ec2.DefaultSecurityGroup adopting its default group (which "
                   f"otherwise allows all traffic between its members and all egress).", vpc.urn)


def _ports(protocol, from_port, to_port) -> tuple:
    protocol = str(protocol if protocol is not None else "").lower()
    if protocol in ("-1", "all"):
        return (0, 65535)
    if protocol not in ("tcp", "6", "udp", "17"):
        return (1, 0)  # icmp etc: no port range
    return (int(from_port or 0), int(to_port or 0))


def _nacl_admin(props, report, args):
    admin = [num(p) for p in (args.get_config() or {}).get("adminPorts", DEFAULT_ADMIN_PORTS)]
    entries = []
    if args.resource_type == NACL_RULE:
        if flag(props, "egress", False) is True or get(props, "ruleAction") != "allow":
            return
        cidrs = [get(props, "cidrBlock"), get(props, "ipv6CidrBlock")]
        entries.append((get(props, "ruleNumber"), get(props, "protocol"), get(props, "fromPort"),
                        get(props, "toPort"), cidrs))
    else:
        for rule in items(get(props, "ingress")):
            if get(rule, "action") != "allow":
                continue
            entries.append((get(rule, "ruleNo"), get(rule, "protocol"), get(rule, "fromPort"), get(rule, "toPort"),
                            [get(rule, "cidrBlock"), get(rule, "ipv6CidrBlock")]))
    for number, protocol, from_port, to_port, cidrs in entries:
        world = [c for c in cidrs if c in WORLD]
        low, high = _ports(protocol, from_port, to_port)
        opened = [p for p in admin if low <= p <= high]
        if world and opened:
            report(f"rule {num(number)} allows {world[0]} to admin port(s) {', '.join(map(str, opened))}.")


def _default_nacl(resources, report, args):
    """A default network ACL left as it is allows all traffic from anywhere in and out (CIS 5.1 is about the
    admin ports it opens; FSBP EC2.21): every VPC adopts its default ACL (aws.ec2.DefaultNetworkAcl, tied to the
    VPC by a dependency) and no adopted ACL allows every protocol from 0.0.0.0/0 or ::/0."""
    acls = [r for r in resources if r.resource_type == DEFAULT_NACL]
    for acl in acls:
        for entry in items(get(acl.props, "ingress")):
            if get(entry, "action") != "allow" or str(get(entry, "protocol", "")).lower() not in ("-1", "all"):
                continue
            world = [c for c in (get(entry, "cidrBlock"), get(entry, "ipv6CidrBlock")) if c in WORLD]
            if world:
                report(f"default network ACL {acl.name}: rule {num(get(entry, 'ruleNo'))} allows all traffic from "
                       f"{world[0]} (the default left as it is).", acl.urn)
    for vpc in _vpcs(resources):
        if not any(depends_on(acl, vpc) for acl in acls):
            report(f"VPC {vpc.name} has no aws.ec2.DefaultNetworkAcl adopting its default network ACL, which allows "
                   f"all traffic from anywhere to every subnet associated with it.", vpc.urn)


SERVICE_NAME = re.compile(r"^(?:com\.amazonaws|aws\.api|aws\.sagemaker)\.[a-z]{2}(?:-[a-z]+)+-\d+\.(.+)$")


def service_suffix(name: str) -> str:
    """com.amazonaws.us-east-1.ecr.api -> ecr.api (the whole service part, not its last dot-segment: 'api'
    would match ecr.api, execute-api ... and sagemaker.api alike)."""
    m = SERVICE_NAME.match(name)
    return m.group(1) if m else name


def _endpoints(resources, report, args):
    wanted = list((args.get_config() or {}).get("requiredServices", DEFAULT_ENDPOINT_SERVICES))
    endpoints = [r for r in resources if r.resource_type == VPC_ENDPOINT]
    for vpc in _vpcs(resources):
        mine = [e for e in endpoints if depends_on(e, vpc, "vpcId")]
        services = {service_suffix(str(get(e.props, "serviceName", ""))) for e in mine}
        missing = [s for s in wanted if s not in services]
        if missing:
            report(f"VPC {vpc.name} has no endpoint for {', '.join(missing)}: that traffic leaves through the NAT "
                   f"gateway (cost) and the internet path.", vpc.urn)


def _subnet_public_ip(props, report, args):
    if flag(props, "mapPublicIpOnLaunch") is True:
        report("mapPublicIpOnLaunch must not be true: every instance launched here gets a public IP.")


def _sg_description(props, report, args):
    if args.resource_type in (SECURITY_GROUP,):
        desc = get(props, "description", PULUMI_DEFAULT_DESCRIPTION)
        if not desc or desc == PULUMI_DEFAULT_DESCRIPTION:
            report("description is missing (Pulumi's default 'Managed by Pulumi' says nothing about its purpose).")
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(items(get(props, direction))):
                if not get(rule, "description"):
                    report(f"{direction}[{i}] has no description.")
    elif not get(props, "description"):
        report("the rule has no description.")


PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]


def _ingress_cidrs(resource_type, props) -> list[str]:
    if resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        return [c for rule in items(get(props, "ingress"))
                for c in items(get(rule, "cidrBlocks")) + items(get(rule, "ipv6CidrBlocks"))]
    if resource_type == SG_RULE:
        if get(props, "type") != "ingress":
            return []
        return items(get(props, "cidrBlocks")) + items(get(props, "ipv6CidrBlocks"))
    if resource_type == SG_INGRESS_RULE:
        return [c for c in (get(props, "cidrIpv4"), get(props, "cidrIpv6")) if c]
    return []


def _cidrs_allowed(props, report, args):
    """Ingress from addresses outside private ranges and the allowed list (the world itself is
    no-public-ingress's finding): a partner or office range must be listed to be trusted."""
    allowed = [ipaddress.ip_network(c, strict=False) for c in
               PRIVATE_RANGES + list((args.get_config() or {}).get("allowedCidrs", []))]
    for cidr in _ingress_cidrs(args.resource_type, props):
        if cidr in WORLD:
            continue
        try:
            net = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            report(f"ingress CIDR {cidr!r} is not a valid network.")
            continue
        if not any(net.version == a.version and net.subnet_of(a) for a in allowed):  # type: ignore[arg-type]  # same version checked first
            report(f"ingress from {cidr}, outside private ranges and allowedCidrs.")


POLICIES = [
    stack_policy(
        "public-ingress-only-to-load-balancers", "A security group open to the internet must belong to a load "
        "balancer.", _public_ingress_only_lbs, severity=Severity.CRITICAL, framework=fsbp("EC2.18"),
        remediation="Put the workload behind the ALB and allow only the ALB's security group as a source.",
        tags=["network", "exposure"],
        types=('aws:ec2/securityGroup:SecurityGroup', 'aws:ec2/securityGroupRule:SecurityGroupRule',
               'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'aws:lb/loadBalancer:LoadBalancer',
               'aws:alb/loadBalancer:LoadBalancer', 'awsx:lb:ApplicationLoadBalancer')),
    stack_policy(
        "security-group-no-rule-management-conflicts", "A security group's rules must be managed either inline or "
        "as separate rule resources, not both.", _sg_conflicts, severity=Severity.HIGH, framework=nist("CM-3"),
        remediation="Move the group's inline ingress/egress into SecurityGroupIngressRule/EgressRule resources "
                    "(or the reverse).",
        tags=["network", "drift", "awsguard:security-group-no-rule-management-conflicts"],
        types=('aws:ec2/securityGroupRule:SecurityGroupRule',
               'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
               'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule', 'aws:ec2/securityGroup:SecurityGroup',
               'aws:ec2/defaultSecurityGroup:DefaultSecurityGroup')),
    resource_policy(
        "no-public-ingress",
        "Security groups must not allow ingress from the internet except TCP 80/443 to load balancers.",
        (SECURITY_GROUP, DEFAULT_SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE), _no_public_ingress,
        severity=Severity.CRITICAL, framework=cis("5.2"),
        remediation="Restrict the source to a security group or a known CIDR; expose services through the ALB.",
        tags=["checkov:CKV_AWS_24", "checkov:CKV_AWS_25", "checkov:CKV_AWS_277",
              "network", "exposure"],
        config_schema=PolicyConfigSchema(properties={
            "allowedPublicPorts": {"type": "array", "items": {"type": "integer"}, "default": DEFAULT_PUBLIC_PORTS}})),
    stack_policy(
        "vpc-flow-logs-enabled", "Every VPC must have flow logs enabled.", _flow_logs,
        severity=Severity.MEDIUM, framework=cis("3.7"),
        remediation="Create an aws.ec2.FlowLog with vpcId=<vpc>.vpc_id (or vpc.id) delivering to CloudWatch Logs or S3.",
        tags=["checkov:CKV2_AWS_11", "cdk-nag:AwsSolutions-VPC7",
              "network", "logging"],
        types=('aws:ec2/vpc:Vpc', 'awsx:ec2:Vpc', 'aws:ec2/flowLog:FlowLog')),
    stack_policy(
        "default-security-group-restricts-all", "Every VPC's default security group must be adopted and restrict "
        "all inbound and outbound traffic.", _default_sg, severity=Severity.HIGH, framework=cis("5.4"),
        remediation="Add aws.ec2.DefaultSecurityGroup(vpc_id=..., ingress=[], egress=[]) per VPC and attach no rules "
                    "to it; give workloads their own groups.",
        tags=["network", "exposure", "checkov:CKV2_AWS_12"],
        config_schema=PolicyConfigSchema(properties={
            "requireAdoption": {"type": "boolean", "default": True,
                                "description": "flag VPCs whose default group is not adopted by the program"}}),
        types=('aws:ec2/defaultSecurityGroup:DefaultSecurityGroup', 'aws:ec2/vpc:Vpc', 'awsx:ec2:Vpc',
               'aws:ec2/securityGroupRule:SecurityGroupRule',
               'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
               'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule')),
    resource_policy(
        "nacl-no-public-admin-ports", "Network ACLs must not allow ingress from 0.0.0.0/0 or ::/0 to remote "
        "administration ports.", (NACL, DEFAULT_NACL, NACL_RULE), _nacl_admin, severity=Severity.HIGH,
        framework=cis("5.1"),
        remediation="Deny or narrow the source of SSH/RDP; use SSM Session Manager.",
        tags=["network", "exposure", "checkov:CKV_AWS_229", "checkov:CKV_AWS_230", "checkov:CKV_AWS_231",
              "checkov:CKV_AWS_232"],
        config_schema=PolicyConfigSchema(properties={
            "adminPorts": {"type": "array", "items": {"type": "integer"}, "default": DEFAULT_ADMIN_PORTS}})),
    stack_policy(
        "default-network-acl-restricted", "Every VPC's default network ACL must be adopted and must not allow all "
        "traffic from anywhere.", _default_nacl, severity=Severity.HIGH, framework=cis("5.1"),
        remediation="Add aws.ec2.DefaultNetworkAcl(default_network_acl_id=..., ingress=[...], egress=[...], "
                    "opts=ResourceOptions(depends_on=[vpc])) per VPC: traffic from inside the VPC, TCP return traffic "
                    "from outside, never 22/3389 from 0.0.0.0/0 (components/network.py).",
        tags=["network", "exposure", "fsbp:EC2.21", "checkov:CKV_AWS_352"],
        types=(DEFAULT_NACL, VPC, AWSX_VPC)),
    stack_policy(
        "vpc-endpoints-configured", "Each VPC has endpoints for the configured AWS services (S3 by default).",
        _endpoints, severity=Severity.LOW, framework=nist("SC-7"),
        remediation="Add aws.ec2.VpcEndpoint(vpc_id=..., service_name='com.amazonaws.<region>.s3', "
                    "vpc_endpoint_type='Gateway', route_table_ids=[...]).",
        tags=["network", "cost", "fsbp:EC2.10"],
        config_schema=PolicyConfigSchema(properties={
            "requiredServices": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_ENDPOINT_SERVICES,
                                 "description": "service part of the endpoint service name after the region: s3, dynamodb, ecr.api, ..."}}),
        types=('aws:ec2/vpc:Vpc', 'awsx:ec2:Vpc', 'aws:ec2/vpcEndpoint:VpcEndpoint')),
    resource_policy(
        "security-group-ingress-cidrs-allowed", "Security group ingress from specific addresses must come from "
        "private ranges or an allowed CIDR list.", (SECURITY_GROUP, DEFAULT_SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE),
        _cidrs_allowed, severity=Severity.HIGH, framework=nist("SC-7"),
        remediation="Reference a security group, use a private range, or add the partner/office CIDR to allowedCidrs.",
        tags=["network", "exposure"],
        config_schema=PolicyConfigSchema(properties={
            "allowedCidrs": {"type": "array", "items": {"type": "string"}, "default": [],
                             "description": "public CIDRs trusted for ingress (offices, partners)"}})),
    resource_policy(
        "subnet-no-auto-public-ip", "Subnets must not assign public IPs to instances automatically.", (SUBNET,),
        _subnet_public_ip, severity=Severity.MEDIUM, framework=fsbp("EC2.15"),
        remediation="Set mapPublicIpOnLaunch=False; give load balancers and NAT gateways their own addresses.",
        tags=["network", "exposure", "checkov:CKV_AWS_130"]),
    resource_policy(
        "security-group-description", "Security groups and their rules must describe their purpose.",
        (SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE, SG_EGRESS_RULE), _sg_description, severity=Severity.LOW,
        framework=nist("CM-6"),
        remediation="Pass description=... on the group and on every rule.",
        tags=["compliance-policies:aws-ec2-securitygroup-missing-description",
              "compliance-policies:aws-ec2-securitygroup-missing-ingress-rule-description",
              "compliance-policies:aws-ec2-securitygroup-missing-egress-rule-description",
              "network", "documentation", "cdk-nag:AwsSolutions-EC27", "checkov:CKV_AWS_23"]),
]
