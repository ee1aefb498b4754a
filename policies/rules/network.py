"""Network exposure: world-open ingress and VPC flow logs."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import (
    AWSX_VPC,
    DEFAULT_SECURITY_GROUP,
    FLOW_LOG,
    SECURITY_GROUP,
    SG_INGRESS_RULE,
    SG_RULE,
    VPC,
    cis,
    depends_on,
    get,
    items,
    num,
    resource_policy,
    stack_policy,
)

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
    ports = list((args.get_config() or {}).get("allowedPublicPorts", DEFAULT_PUBLIC_PORTS))
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


POLICIES = [
    resource_policy(
        "no-public-ingress",
        "Security groups must not allow ingress from the internet except TCP 80/443 to load balancers.",
        (SECURITY_GROUP, DEFAULT_SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE), _no_public_ingress,
        severity=Severity.CRITICAL, framework=cis("5.2"),
        remediation="Restrict the source to a security group or a known CIDR; expose services through the ALB.",
        tags=["network", "exposure"],
        config_schema=PolicyConfigSchema(properties={
            "allowedPublicPorts": {"type": "array", "items": {"type": "integer"}, "default": DEFAULT_PUBLIC_PORTS}})),
    stack_policy(
        "vpc-flow-logs-enabled", "Every VPC must have flow logs enabled.", _flow_logs,
        severity=Severity.MEDIUM, framework=cis("3.7"),
        remediation="Create an aws.ec2.FlowLog with vpcId=<vpc>.vpc_id (or vpc.id) delivering to CloudWatch Logs or S3.",
        tags=["network", "logging"],
        types=('aws:ec2/vpc:Vpc', 'awsx:ec2:Vpc', 'aws:ec2/flowLog:FlowLog')),
]
