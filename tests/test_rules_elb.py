"""Tests for policies/rules/elb.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

ALB_LISTENER = "aws:alb/listener:Listener"

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- alb-https-or-redirect ---------------------------------------------------------------------------
REDIRECT = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}

# --- load balancer attributes ------------------------------------------------------------------------
GOOD_LB = {"loadBalancerType": "application", "dropInvalidHeaderFields": True, "enableDeletionProtection": True,
           "accessLogs": {"bucket": "logs", "prefix": "alb", "enabled": True}, "subnets": ["s1", "s2"]}

LB_RULES = {
    "alb-drop-invalid-headers": {"dropInvalidHeaderFields": False},
    "alb-access-logs": {"accessLogs": {"bucket": "logs", "enabled": False}},
    "alb-deletion-protection": {"enableDeletionProtection": False},
}

# --- issue 13 defect classes ------------------------------------------------------------------------
LB, LISTENER = "aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener"

# --- issue 13 defect classes ------------------------------------------------------------------------
LB, LISTENER = "aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener"

AWSX_ALB, FARGATE = "awsx:lb:ApplicationLoadBalancer", "awsx:ecs:FargateService"

AWSX_ALB, FARGATE = "awsx:lb:ApplicationLoadBalancer", "awsx:ecs:FargateService"

FORWARD = [{"type": "forward", "targetGroupArn": "arn:tg"}]


@pytest.mark.parametrize("token", [LISTENER, ALB_LISTENER])
def test_https_or_redirect_violations(token):
    r = check([rec(token, "http-forward", {"protocol": "HTTP", "port": 80, "defaultActions": [FORWARD]}),
               rec(token, "http-redirect-http", {"protocol": "HTTP", "port": 80, "defaultActions": [
                   {"type": "redirect", "redirect": {"protocol": "HTTP"}}]}),
               rec(token, "no-cert", {"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                                      "defaultActions": [FORWARD]}),
               rec(token, "old-tls", {"protocol": "HTTPS", "port": 443, "certificateArn": CERT,
                                      "sslPolicy": "ELBSecurityPolicy-2016-08", "defaultActions": [FORWARD]}),
               rec(token, "default-tls", {"protocol": "HTTPS", "port": 443, "certificateArn": CERT,
                                          "defaultActions": [FORWARD]}),
               # a TLS13 policy that still accepts TLS 1.0
               rec(token, "tls13-1-0", {"protocol": "HTTPS", "port": 443, "certificateArn": CERT,
                                        "sslPolicy": "ELBSecurityPolicy-TLS13-1-0-2021-06", "defaultActions": [FORWARD]})])
    assert names(r, "alb-https-or-redirect") == ["default-tls", "http-forward", "http-redirect-http", "no-cert",
                                                 "old-tls", "tls13-1-0"]
    assert any("port 80 " in v.message for v in violations(r, "alb-https-or-redirect"))


def test_https_or_redirect_pass():
    r = check([rec(LISTENER, "http", {"protocol": "HTTP", "port": 80, "defaultActions": [REDIRECT]}),
               rec(LISTENER, "https", {"protocol": "HTTPS", "port": 443, "certificateArn": CERT,
                                       "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "defaultActions": [FORWARD]}),
               rec(LISTENER, "https-pq", {"protocol": "HTTPS", "port": 8443, "certificateArn": CERT,
                                          "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
                                          "defaultActions": [FORWARD]}),
               rec(LISTENER, "nlb-tcp", {"protocol": "TCP", "port": 5432, "defaultActions": [FORWARD]})])
    assert names(r, "alb-https-or-redirect") == []


def test_https_or_redirect_preview_unknown_arns_still_decides():
    r = check([rec(LISTENER, "http", {"protocol": "HTTP", "port": 80, "loadBalancerArn": UNKNOWN,
                                      "defaultActions": [REDIRECT]}),
               rec(LISTENER, "https", {"protocol": "HTTPS", "port": 443, "loadBalancerArn": UNKNOWN,
                                       "certificateArn": UNKNOWN, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                                       "defaultActions": [{"type": "forward", "targetGroupArn": UNKNOWN}]})])
    assert names(r, "alb-https-or-redirect") == [] and not skipped(r, "alb-https-or-redirect")


def test_awsx_alb_default_listener_is_a_violation():
    r = check([rec("awsx:lb:ApplicationLoadBalancer", "awsx-default", {}),
               rec("awsx:lb:ApplicationLoadBalancer", "awsx-explicit", {"listeners": [
                   {"protocol": "HTTP", "port": 80, "defaultActions": [REDIRECT]},
                   {"protocol": "HTTPS", "port": 443, "certificateArn": CERT,
                    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}]})])
    assert names(r, "alb-https-or-redirect") == ["awsx-default"]


@pytest.mark.parametrize("policy, change", LB_RULES.items())
@pytest.mark.parametrize("token", [LB, "aws:alb/loadBalancer:LoadBalancer", "awsx:lb:ApplicationLoadBalancer"])
def test_lb_attribute_violation(policy, change, token):
    r = check([rec(token, "bad", {**GOOD_LB, **change}), rec(token, "missing", {
        k: v for k, v in GOOD_LB.items() if k not in change})])
    assert names(r, policy) == ["bad", "missing"]


@pytest.mark.parametrize("policy", LB_RULES)
def test_lb_attribute_pass(policy):
    assert names(check([rec(LB, "alb", GOOD_LB)]), policy) == []


@pytest.mark.parametrize("policy", LB_RULES)
def test_lb_attribute_preview_unknowns_still_decide(policy):
    preview = {**GOOD_LB, "subnets": UNKNOWN, "securityGroups": [UNKNOWN],
               "accessLogs": {"bucket": UNKNOWN, "prefix": "alb", "enabled": True}}
    r = check([rec(LB, "alb", preview)])
    assert names(r, policy) == [] and not skipped(r, policy)


def test_network_load_balancer_needs_no_header_dropping():
    r = check([rec(LB, "nlb", {**GOOD_LB, "loadBalancerType": "network", "dropInvalidHeaderFields": False})])
    assert names(r, "alb-drop-invalid-headers") == []


def test_listener_without_protocol_is_http_and_must_redirect():
    """Before: no `protocol` (HTTP by default) forwarding passed."""
    r = check([rec(LISTENER, "l-default", {"port": 80, "defaultActions": FORWARD}),
               rec(LISTENER, "l-redirect", {"port": 80, "defaultActions": [
                   {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]}),
               rec(LISTENER, "l-gwlb", {"defaultActions": FORWARD}),
               rec(LISTENER, "l-preview", {"port": 80, "defaultActions": UNKNOWN})])
    assert names(r, "alb-https-or-redirect") == ["l-default"]
    assert "port 80 " in violations(r, "alb-https-or-redirect")[0].message  # an int, not 80.0
    assert {s.urn.split("::")[-1] for s in skipped(r, "alb-https-or-redirect")} == {"l-preview"}


def test_component_and_child_are_judged_once():
    """Before: an awsx ALB and the aws.lb.LoadBalancer inside it were both reported (twice under the CLI); the
    same for eks:index:Cluster and its aws.eks.Cluster."""
    r = check([rec(AWSX_ALB, "alb", {"listener": {"port": 80, "protocol": "HTTP"}}),
               rec(LB, "alb-lb", {"loadBalancerType": "application"}, parent="alb"),
               rec(LISTENER, "alb-listener", {"port": 80, "protocol": "HTTP", "defaultActions": FORWARD},
                   parent="alb"),
               rec("eks:index:Cluster", "eks", {}),
               rec("aws:eks/cluster:Cluster", "eks-cluster", {"vpcConfig": {}}, parent="eks"),
               rec(LB, "plain-lb", {"loadBalancerType": "application"})])
    assert names(r, "alb-deletion-protection") == ["alb", "plain-lb"]
    assert names(r, "alb-https-or-redirect") == ["alb"]
    assert names(r, "eks-endpoint-restricted") == ["eks"]


# --- issue 31: internet-facing ALBs need a WAF association (joined by dependency: the ARN is unknown) -----------
WAF_ASSOC = "aws:wafv2/webAclAssociation:WebAclAssociation"
LB = "aws:lb/loadBalancer:LoadBalancer"


def test_internet_facing_alb_without_waf_is_reported():
    def assoc(name, target):
        return rec(WAF_ASSOC, name, {"resourceArn": UNKNOWN, "webAclArn": UNKNOWN}, deps=[target],
                   prop_deps={"resourceArn": [target]})
    r = check([
        rec(LB, "public-alb", {"internal": False, "subnets": [UNKNOWN]}),
        rec(LB, "public-alb-default", {"loadBalancerType": "application", "subnets": [UNKNOWN]}),
        rec(LB, "public-alb-string-false", {"internal": "false", "subnets": [UNKNOWN]}),
        rec(LB, "protected-alb", {"internal": False, "subnets": [UNKNOWN]}), assoc("protect", "protected-alb"),
        rec(LB, "internal-alb", {"internal": True, "subnets": [UNKNOWN]}),
        rec(LB, "internal-string", {"internal": "true", "subnets": [UNKNOWN]}),
        rec(LB, "public-nlb", {"loadBalancerType": "network", "subnets": [UNKNOWN]}),
        rec("awsx:lb:ApplicationLoadBalancer", "awsx-public", {"subnetIds": [UNKNOWN]}),
        rec("awsx:lb:ApplicationLoadBalancer", "awsx-protected", {"subnetIds": [UNKNOWN]}),
        assoc("protect-awsx", "awsx-protected"),
        rec(LB, "classic-waf-alb", {"subnets": [UNKNOWN]}),
        rec("aws:wafregional/webAclAssociation:WebAclAssociation", "classic-assoc",
            {"resourceArn": UNKNOWN, "webAclId": UNKNOWN}, deps=["classic-waf-alb"],
            prop_deps={"resourceArn": ["classic-waf-alb"]}),
        # an association whose resourceArn comes from elsewhere does not protect this ALB
        rec(LB, "other-alb", {"subnets": [UNKNOWN]}),
        rec(WAF_ASSOC, "wrong-target", {"resourceArn": UNKNOWN, "webAclArn": UNKNOWN}, deps=["other-alb"],
            prop_deps={"webAclArn": ["other-alb"]}),
    ])
    found = violations(r, "alb-waf-attached")
    assert {v.urn.split("::")[-1] for v in found} == {"public-alb", "public-alb-default", "public-alb-string-false",
                                                       "awsx-public", "other-alb"}
    assert all(v.level == "mandatory" and "no WAF web ACL" in v.message for v in found)
    assert not skipped(r, "alb-waf-attached")


# --- Classic Load Balancers ---------------------------------------------------------------------------------------
CLB = "aws:elb/loadBalancer:LoadBalancer"
ACM = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001"
GOOD_CLB = {"subnets": [UNKNOWN, UNKNOWN], "connectionDraining": True,
            "accessLogs": {"bucket": "logs", "enabled": True},
            "healthCheck": {"target": "HTTPS:443/health", "healthyThreshold": 2, "unhealthyThreshold": 2,
                            "interval": 30, "timeout": 5},
            "listeners": [{"lbPort": 443, "lbProtocol": "https", "instancePort": 8443, "instanceProtocol": "https",
                           "sslCertificateId": ACM}]}


def test_classic_load_balancer_rules_both_sides():
    r = check([
        rec(CLB, "good", GOOD_CLB),
        rec(CLB, "preview-cert", {**GOOD_CLB, "listeners": [{**GOOD_CLB["listeners"][0], "sslCertificateId": UNKNOWN}]}),
        rec(CLB, "http", {**GOOD_CLB, "listeners": [{"lbPort": 80, "lbProtocol": "http", "instancePort": 80,
                                                     "instanceProtocol": "http"}]}),
        rec(CLB, "iam-cert", {**GOOD_CLB, "listeners": [{**GOOD_CLB["listeners"][0],
                                                         "sslCertificateId": "arn:aws:iam::1:server-certificate/x"}]}),
        rec(CLB, "no-logs", {k: v for k, v in GOOD_CLB.items() if k != "accessLogs"}),
        rec(CLB, "no-drain", {**GOOD_CLB, "connectionDraining": "false"}),
        rec(CLB, "no-cross-zone", {**GOOD_CLB, "crossZoneLoadBalancing": False}),
        rec(CLB, "one-zone", {**GOOD_CLB, "subnets": [UNKNOWN]}),
    ])
    listeners = {v.urn.split("::")[-1] for v in violations(r, "clb-encrypted-listeners")}
    ops = {v.urn.split("::")[-1]: v.message for v in violations(r, "clb-logging-and-resilience")}
    assert listeners == {"http", "iam-cert"}
    assert set(ops) == {"no-logs", "no-drain", "no-cross-zone", "one-zone"}
    assert "connectionDraining" in ops["no-drain"] and "at least two" in ops["one-zone"]
    assert not skipped(r, "clb-encrypted-listeners") and not skipped(r, "clb-logging-and-resilience")


# --- issue 27: network load balancers keep no access log; databases do not face the internet -----------------------
LISTENER = "aws:lb/listener:Listener"
TG = "aws:lb/targetGroup:TargetGroup"
ATTACH = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"


def test_alb_access_logs_judges_application_load_balancers_not_network_ones():
    nlb = {"loadBalancerType": "network", "enableDeletionProtection": True, "subnets": ["s1"]}
    r = check([rec(LB, "nlb-tcp", nlb), rec(LB, "alb-nologs", {**GOOD_LB, "accessLogs": None}),
               rec(LB, "gwlb", {"loadBalancerType": "gateway", "subnets": ["s1"]}),
               rec(LB, "default-type", {"subnets": ["s1"]})])      # no type: application, judged
    assert names(r, "alb-access-logs") == ["alb-nologs", "default-type"]


def _exposed(internal=None, port=6379, tg_port=6379, lb_type="network"):
    lb = {"loadBalancerType": lb_type, "subnets": ["s1"], **({"internal": internal} if internal is not None else {})}
    return [rec(LB, "edge", lb), rec(REDIS, "cache", {"engine": "redis"}),
            rec(TG, "cache-tg", {"port": tg_port, "protocol": "TCP", "targetType": "ip"}),
            rec(ATTACH, "cache-target", {"targetGroupArn": UNKNOWN, "targetId": UNKNOWN},
                prop_deps={"targetGroupArn": ["cache-tg"], "targetId": ["cache"]}),
            rec(LISTENER, "redis", {"port": port, "protocol": "TCP", "loadBalancerArn": UNKNOWN,
                                    "defaultActions": [{"type": "forward", "targetGroupArn": UNKNOWN}]},
                prop_deps={"loadBalancerArn": ["edge"], "defaultActions": ["cache-tg"]})]


def test_an_internet_facing_load_balancer_on_a_database_port_is_reported_with_what_is_behind_it():
    found = violations(check(_exposed()), "lb-no-internet-facing-database-port")
    assert [f.urn.split("::")[-1] for f in found] == ["edge"] and found[0].level == "mandatory"
    assert "port 6379 (Redis/Valkey)" in found[0].message and "behind it: cache" in found[0].message
    # the listener on 443 forwarding to the database's port is the same exposure
    assert names(check(_exposed(port=443)), "lb-no-internet-facing-database-port") == ["edge"]


@pytest.mark.parametrize("case", [dict(internal=True), dict(port=443, tg_port=8443)])
def test_an_internal_load_balancer_or_an_application_port_passes(case):
    r = check(_exposed(**case))
    assert names(r, "lb-no-internet-facing-database-port") == []
    assert skipped(r, "lb-no-internet-facing-database-port") == []


def test_a_classic_load_balancer_listening_on_postgres_is_reported():
    classic = {"listeners": [{"lbPort": 5432, "lbProtocol": "tcp", "instancePort": 5432, "instanceProtocol": "tcp"}],
               "availabilityZones": ["us-east-1a"]}
    r = check([rec("aws:elb/loadBalancer:LoadBalancer", "pg", classic),
               rec("aws:elb/loadBalancer:LoadBalancer", "pg-internal", {**classic, "internal": True})])
    assert names(r, "lb-no-internet-facing-database-port") == ["pg"]
