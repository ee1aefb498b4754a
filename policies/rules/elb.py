"""Elastic Load Balancing (aws.lb/aws.alb and awsx ALBs): HTTPS listeners or redirects (a listener with
no protocol is HTTP), access logs, deletion protection, invalid header dropping."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import nist
from ._lib import LISTENERS, LOAD_BALANCERS, TARGET_GROUPS, flag, fsbp, get, items, resource_policy, rule, stack_policy
from ._shared import ALL_LOAD_BALANCERS, AWSX_ALB, present

# TLS 1.2+ policies (the TLS13 family adds TLS 1.3; FS policies are TLS 1.2 forward-secret only). Not every
# TLS13 policy: ELBSecurityPolicy-TLS13-1-0-2021-06 and -1-1- still accept TLS 1.0 / 1.1.
MODERN_SSL_PREFIXES = ("ELBSecurityPolicy-TLS13-1-2-", "ELBSecurityPolicy-TLS13-1-3-")

MODERN_SSL_POLICIES = ("ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
                       "ELBSecurityPolicy-FS-1-2-2019-08", "ELBSecurityPolicy-FS-1-2-Res-2019-08",
                       "ELBSecurityPolicy-FS-1-2-Res-2020-10")


def modern_ssl_policy(name) -> bool:
    return isinstance(name, str) and (name.startswith(MODERN_SSL_PREFIXES) or name in MODERN_SSL_POLICIES)


def _port(listener) -> str:
    port = get(listener, "port")
    return str(int(port)) if isinstance(port, float) and port.is_integer() else str(port)


def listener_problems(listener) -> list[str]:
    # No protocol means HTTP on an application load balancer (the API default); a gateway load balancer's
    # listener has neither protocol nor port.
    default = "HTTP" if get(listener, "port") is not None else ""
    protocol = str(get(listener, "protocol") or default).upper()
    if protocol == "HTTP":
        actions = items(get(listener, "defaultActions"))
        first = actions[0] if len(actions) == 1 else None
        if first is None or get(first, "type") != "redirect" or str(get(first, "redirect.protocol", "")).upper() != "HTTPS":
            return [f"HTTP listener on port {_port(listener)} must only redirect to HTTPS (a single default "
                    f"action of type redirect with protocol HTTPS)."]
    if protocol == "HTTPS":
        problems = []
        if not present(listener, "certificateArn"):
            problems.append(f"HTTPS listener on port {_port(listener)} has no certificateArn.")
        policy = get(listener, "sslPolicy")
        if not modern_ssl_policy(policy):
            problems.append(f"HTTPS listener sslPolicy {policy!r} allows TLS below 1.2 (the API default "
                            f"ELBSecurityPolicy-2016-08 does); use an ELBSecurityPolicy-TLS13-* policy.")
        return problems
    return []


def _https_or_redirect(props, report, args):
    if args.resource_type == AWSX_ALB:
        given = items(get(props, "listeners")) + ([get(props, "listener")] if get(props, "listener") else [])
        if not given:
            report("awsx ApplicationLoadBalancer without listeners creates a default HTTP:80 forward listener; "
                   "declare an HTTPS listener and an HTTP listener that redirects.")
        for listener in given:
            for problem in listener_problems(listener):
                report(problem)
        return
    for problem in listener_problems(props):
        report(problem)


def _is_application(props, resource_type) -> bool:
    return resource_type == AWSX_ALB or get(props, "loadBalancerType", "application") == "application"


def _drop_invalid_headers(props, report, args):
    if _is_application(props, args.resource_type) and flag(props, "dropInvalidHeaderFields") is not True:
        report("dropInvalidHeaderFields must be true (request smuggling via malformed headers).")


def _access_logs(props, report, args):
    # FSBP ELB.5 covers application (and classic) load balancers: a network load balancer logs only its TLS
    # listeners and a gateway load balancer has no access log, so neither is judged here.
    if not _is_application(props, args.resource_type):
        return
    if flag(props, "accessLogs.enabled") is not True or not present(get(props, "accessLogs") or {}, "bucket"):
        report("accessLogs must be enabled with a bucket.")


def _deletion_protection(props, report, args):
    if flag(props, "enableDeletionProtection") is not True:
        report("enableDeletionProtection must be true.")


POLICIES: list = [
    resource_policy(
        "alb-https-or-redirect", "Load balancer listeners: HTTP only redirects to HTTPS; HTTPS has a certificate "
        "and a TLS 1.2+ policy.", LISTENERS + (AWSX_ALB,), _https_or_redirect,
        severity=Severity.HIGH, framework=fsbp("ELB.1"),
        remediation="Add an HTTPS listener (ACM certificate, ELBSecurityPolicy-TLS13-1-2-2021-06) and make the HTTP "
                    "listener's only action a redirect to HTTPS.",
        tags=["checkov:CKV_AWS_2", "checkov:CKV2_AWS_20", "checkov:CKV_AWS_103",
              "compliance-policies:aws-alb-listener-disallow-unencrypted-traffic",
              "compliance-policies:aws-lb-listener-disallow-unencrypted-traffic",
              "compliance-policies:aws-alb-listener-configure-secure-tls",
              "compliance-policies:aws-lb-listener-configure-secure-tls",
              "elb", "encryption-in-transit", "awsguard:alb-http-to-https-redirection"]),
    resource_policy(
        "alb-drop-invalid-headers", "Application load balancers must drop invalid HTTP header fields.",
        ALL_LOAD_BALANCERS, _drop_invalid_headers, severity=Severity.MEDIUM, framework=fsbp("ELB.4"),
        remediation="drop_invalid_header_fields=True.", tags=["elb", "hardening", "checkov:CKV_AWS_131"]),
    resource_policy(
        "alb-access-logs", "Load balancers must write access logs.", ALL_LOAD_BALANCERS, _access_logs,
        severity=Severity.MEDIUM, framework=fsbp("ELB.5"),
        remediation="access_logs={bucket: <log bucket allowing ELB delivery>, prefix: ..., enabled: True}.",
        tags=["cdk-nag:AwsSolutions-ELB2", "compliance-policies:aws-alb-loadbalancer-enable-access-logging",
              "compliance-policies:aws-alb-loadbalancer-configure-access-logging",
              "compliance-policies:aws-lb-loadbalancer-enable-access-logging",
              "compliance-policies:aws-lb-loadbalancer-configure-access-logging",
              "elb", "logging", "awsguard:elb-logging-enabled", "checkov:CKV_AWS_91"]),
    resource_policy(
        "alb-deletion-protection", "Load balancers must have deletion protection (prod).", ALL_LOAD_BALANCERS,
        _deletion_protection, severity=Severity.MEDIUM, framework=fsbp("ELB.6"),
        remediation="enable_deletion_protection=platform.protect (true in prod).",
        tags=["elb", "protection", "awsguard:elb-deletion-protection-enabled", "checkov:CKV_AWS_150"]),
]


# --- edges (issue 31): internet-facing application load balancers without WAF ----------------------------------
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
# WAF Classic (regional) associations still protect a load balancer; both name it by resourceArn.
WAF_ASSOCIATIONS = (WEB_ACL_ASSOCIATION, "aws:wafregional/webAclAssociation:WebAclAssociation")


def _internet_facing_alb(lb) -> bool:
    props = lb.props
    if lb.resource_type == AWSX_ALB:
        return flag(props, "internal") is not True
    return (get(props, "loadBalancerType", "application") == "application"
            and flag(props, "internal") is not True)


def _alb_waf(resources, report, args):
    from ._lib import depends_on
    from ._registry import judged_at_component
    associations = [r for r in resources if r.resource_type in WAF_ASSOCIATIONS]
    for lb in resources:
        if lb.resource_type not in ALL_LOAD_BALANCERS or judged_at_component(lb.urn, ALL_LOAD_BALANCERS):
            continue
        if not _internet_facing_alb(lb):
            continue
        # The association's resourceArn is the ALB's ARN: unknown in a preview, so joined by dependency (URN).
        if not any(depends_on(a, lb, "resourceArn") for a in associations):
            report(f"internet-facing application load balancer {lb.name} has no WAF web ACL (no "
                   f"wafv2.WebAclAssociation whose resourceArn comes from it).", lb.urn)


POLICIES.append(stack_policy(
    "alb-waf-attached", "Internet-facing application load balancers must be associated with a WAF web ACL.",
    _alb_waf, types=ALL_LOAD_BALANCERS + WAF_ASSOCIATIONS, severity=Severity.HIGH,
    framework=fsbp("ELB.16"),
    remediation="aws.wafv2.WebAclAssociation(resource_arn=alb.arn, web_acl_arn=<REGIONAL web ACL with the AWS "
                "managed rule groups>), or make the load balancer internal behind API Gateway / CloudFront.",
    refs={"checkov": "CKV2_AWS_28"}, tags=["elb", "waf", "exposure"]))


# --- Classic Load Balancers (coverage gap: checkov, cdk-nag ELB*, Pulumi's elb policies) -------------------------
CLASSIC_LB = "aws:elb/loadBalancer:LoadBalancer"


def _clb_listeners(props, report, args):
    from ._compliance import is_unknown
    for i, listener in enumerate(items(get(props, "listeners"))):
        protocol = str(get(listener, "lbProtocol", "")).upper()
        port = get(listener, "lbPort")
        if protocol in ("HTTP", "TCP"):
            report(f"listener {i} (port {port}) accepts {protocol} in clear; use HTTPS or SSL with an ACM "
                   f"certificate (a plain HTTP listener may only redirect, which a Classic Load Balancer cannot).")
        elif protocol in ("HTTPS", "SSL") and not is_unknown(listener, "sslCertificateId"):
            cert = str(get(listener, "sslCertificateId", ""))
            if not cert.startswith("arn:aws:acm:") and not cert.startswith("arn:aws-us-gov:acm:"):
                report(f"listener {i} uses certificate {cert or '(none)'!r}; use an ACM certificate (renewed by AWS).")


def _clb_operations(props, report, args):
    problems = []
    if flag(props, "accessLogs.enabled", True) is not True or not get(props, "accessLogs.bucket"):
        problems.append("accessLogs must name a bucket (and not be disabled)")
    if flag(props, "crossZoneLoadBalancing", True) is not True:
        problems.append("crossZoneLoadBalancing must stay true")
    if flag(props, "connectionDraining", False) is not True:
        problems.append("connectionDraining must be true (in-flight requests are cut on deregistration)")
    if get(props, "healthCheck") is None:
        problems.append("healthCheck must be set")
    from ._compliance import is_unknown
    key = next((k for k in ("subnets", "availabilityZones") if k in list(props)), None)
    if key is not None and not is_unknown(props, key):
        count = len(get(props, key) or [])  # the length only: entries may be other resources' ids
        if count < 2:
            problems.append(f"{key} names {count} zone/subnet; span at least two Availability Zones")
    if problems:
        report("; ".join(problems) + ".")


rule("clb-encrypted-listeners", "Classic Load Balancer listeners must terminate HTTPS/SSL with an ACM certificate.",
     types=(CLASSIC_LB,), severity=Severity.HIGH, framework=fsbp("ELB.3"),
     refs={"checkov": ["CKV_AWS_376", "CKV_AWS_127"], "cdk-nag": ["AwsSolutions-ELB1", "AwsSolutions-ELB5"],
           "pulumi": "aws-elb-loadbalancer-disallow-unencrypted-traffic", "fsbp": "ELB.2"},
     steps="Move to an Application Load Balancer (HTTP->HTTPS redirect, TLS 1.2+ policies); on a Classic Load "
           "Balancer use lb_protocol HTTPS/SSL listeners with ssl_certificate_id=<ACM certificate ARN>.",
     tags=["elb", "encryption-in-transit"])(_clb_listeners)

rule("clb-logging-and-resilience", "Classic Load Balancers must log access, balance across zones, drain "
     "connections, check health and span two or more Availability Zones.", types=(CLASSIC_LB,),
     severity=Severity.MEDIUM, framework=fsbp("ELB.5"),
     refs={"checkov": ["CKV_AWS_92", "CKV_AWS_138"], "cdk-nag": ["AwsSolutions-ELB3", "AwsSolutions-ELB4"],
           "pulumi": ["aws-elb-loadbalancer-configure-access-logging", "aws-elb-loadbalancer-enable-health-check",
                      "aws-elb-loadbalancer-configure-multi-availability-zone"],
           "fsbp": ["ELB.7", "ELB.9", "ELB.10"]},
     steps="access_logs={bucket, enabled: True}, cross_zone_load_balancing=True, connection_draining=True, "
           "health_check={...}, subnets in two or more AZs (or move to an Application Load Balancer).",
     tags=["elb", "logging", "resilience"])(_clb_operations)

# --- issue 27: an internet-facing load balancer in front of a database ----------------------------------------------
# The ports of the database engines AWS runs (RDS/Aurora, Redshift, ElastiCache, MemoryDB, DocumentDB, Neptune,
# Keypaces): a listener on one of them, reachable from the internet, publishes the database itself.
DATABASE_PORTS = {1433: "SQL Server", 1521: "Oracle", 2484: "Oracle (TCPS)", 3306: "MySQL/MariaDB/Aurora",
                  5432: "PostgreSQL/Aurora", 5439: "Redshift", 6379: "Redis/Valkey", 11211: "Memcached",
                  27017: "MongoDB/DocumentDB", 8182: "Neptune", 9042: "Cassandra/Keyspaces"}
TARGET_GROUP_ATTACHMENTS = ("aws:lb/targetGroupAttachment:TargetGroupAttachment",
                            "aws:alb/targetGroupAttachment:TargetGroupAttachment")
DATABASE_TYPES = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance",
                  "aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster",
                  "aws:elasticache/serverlessCache:ServerlessCache", "aws:memorydb/cluster:Cluster",
                  "aws:docdb/cluster:Cluster", "aws:docdb/clusterInstance:ClusterInstance",
                  "aws:neptune/cluster:Cluster", "aws:redshift/cluster:Cluster")


def _port_number(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _public_database_ports(resources, report, args):
    from ._lib import depends_on
    ports = {int(p) for p in (args.get_config() or {}).get("ports") or DATABASE_PORTS}
    listeners = [r for r in resources if r.resource_type in LISTENERS]
    groups = [r for r in resources if r.resource_type in TARGET_GROUPS]
    attachments = [r for r in resources if r.resource_type in TARGET_GROUP_ATTACHMENTS]
    databases = [r for r in resources if r.resource_type in DATABASE_TYPES]
    for lb in resources:
        if lb.resource_type not in LOAD_BALANCERS + (CLASSIC_LB,) or flag(lb.props, "internal") is True:
            continue
        found: list[tuple[int | None, list]] = []
        if lb.resource_type == CLASSIC_LB:
            found = [(_port_number(get(li, "lbPort")), []) for li in items(get(lb.props, "listeners"))]
        else:
            for li in (x for x in listeners if depends_on(x, lb, "loadBalancerArn")):
                behind = [g for g in groups if depends_on(li, g)]
                found.append((_port_number(get(li.props, "port")), behind))
                found += [(_port_number(get(g.props, "port")), [g]) for g in behind]
        for port, behind in found:
            if port not in ports:
                continue
            targets = [d.name for g in behind for a in attachments if depends_on(a, g, "targetGroupArn")
                       for d in databases if depends_on(a, d)]
            what = f" (behind it: {', '.join(sorted(set(targets)))})" if targets else ""
            report(f"internet-facing load balancer {lb.name} forwards port {port} "
                   f"({DATABASE_PORTS.get(port, 'a database port')}) from the internet{what}; databases are reached "
                   f"from inside the VPC only.", lb.urn)
            break


POLICIES.append(stack_policy(
    "lb-no-internet-facing-database-port", "Internet-facing load balancers must not listen on (or forward to) a "
    "database port.", _public_database_ports,
    types=LOAD_BALANCERS + (CLASSIC_LB,) + LISTENERS + TARGET_GROUPS + TARGET_GROUP_ATTACHMENTS + DATABASE_TYPES,
    severity=Severity.CRITICAL, framework=nist("SC-7"),
    remediation="Make the load balancer internal (internal=True) or remove the listener; clients reach the database "
                "privately (VPC, peering, PrivateLink) with the database's own TLS and authentication.",
    tags=["elb", "exposure", "database"],
    config_schema=PolicyConfigSchema(properties={
        "ports": {"type": "array", "items": {"type": "integer"}, "default": sorted(DATABASE_PORTS),
                  "description": "ports that must never face the internet"}})))
