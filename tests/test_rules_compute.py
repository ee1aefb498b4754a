"""Compute rules (policies/rules/compute.py), each three ways: violating, passing, and passing as a
preview of a new stack shows it (values from other resources UNKNOWN)."""
from __future__ import annotations

import json

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
LISTENER = "aws:lb/listener:Listener"
ALB_LISTENER = "aws:alb/listener:Listener"
LB = "aws:lb/loadBalancer:LoadBalancer"
EKS = "aws:eks/cluster:Cluster"
LAMBDA = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED = "aws:iam/policy:Policy"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- ecs-no-public-ip ------------------------------------------------------------------------------
def _service(public, subnets=("subnet-1",)):
    return {"networkConfiguration": {"assignPublicIp": public, "subnets": list(subnets) if subnets != UNKNOWN
                                     else UNKNOWN, "securityGroups": ["sg-1"]}}


def test_ecs_public_ip_violation():
    assert names(check([rec(SERVICE, "svc", _service(True))]), "ecs-no-public-ip") == ["svc"]


def test_ecs_public_ip_pass():
    r = check([rec(SERVICE, "svc", _service(False)), rec(SERVICE, "no-net", {})])
    assert names(r, "ecs-no-public-ip") == []


def test_ecs_public_ip_preview_subnets_unknown_still_decides():
    r = check([rec(SERVICE, "ok", _service(False, UNKNOWN)), rec(SERVICE, "bad", _service(True, UNKNOWN))])
    assert names(r, "ecs-no-public-ip") == ["bad"] and not skipped(r, "ecs-no-public-ip")


# --- container rules ---------------------------------------------------------------------------------
GOOD_CONTAINER = {"name": "app", "image": "x", "privileged": False, "readonlyRootFilesystem": True,
                  "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/g"}}}
CONTAINER_RULES = {
    "ecs-no-privileged-containers": {"privileged": True},
    "ecs-read-only-root-filesystem": {"readonlyRootFilesystem": False},
    "ecs-logging-configured": {"logConfiguration": None},
}


@pytest.mark.parametrize("policy, change", CONTAINER_RULES.items())
@pytest.mark.parametrize("as_json", [True, False])
def test_container_rule_violation(policy, change, as_json):
    bad = {k: v for k, v in {**GOOD_CONTAINER, **change}.items() if v is not None}
    defs = [GOOD_CONTAINER, {**bad, "name": "sidecar"}]
    r = check([rec(TASK, "task", {"containerDefinitions": json.dumps(defs) if as_json else defs})])
    [v] = violations(r, policy)
    assert "sidecar" in v.message


@pytest.mark.parametrize("policy", CONTAINER_RULES)
def test_container_rule_pass_including_awsx_containers(policy):
    r = check([rec(TASK, "task", {"containerDefinitions": json.dumps([GOOD_CONTAINER])}),
               rec("awsx:ecs:FargateService", "awsx-svc", {"taskDefinitionArgs": {"container": GOOD_CONTAINER}})])
    assert violations(r, policy) == []


def test_awsx_container_violation_is_seen():
    r = check([rec("awsx:ecs:FargateService", "awsx-svc", {"taskDefinitionArgs": {
        "containers": {"app": {**GOOD_CONTAINER, "privileged": True}}}})])
    assert names(r, "ecs-no-privileged-containers") == ["awsx-svc"]


@pytest.mark.parametrize("policy", CONTAINER_RULES)
def test_container_rule_preview_unknown_definitions_is_skipped_not_passed(policy):
    # Secret ARNs and DB endpoints make the JSON string unknown in a new stack's preview.
    r = check([rec(TASK, "task", {"containerDefinitions": UNKNOWN, "family": "f"})])
    assert violations(r, policy) == [] and skipped(r, policy)


# --- alb-https-or-redirect ---------------------------------------------------------------------------
REDIRECT = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
FORWARD = {"type": "forward", "targetGroupArn": "arn:tg"}


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


# --- load balancer attributes ------------------------------------------------------------------------
GOOD_LB = {"loadBalancerType": "application", "dropInvalidHeaderFields": True, "enableDeletionProtection": True,
           "accessLogs": {"bucket": "logs", "prefix": "alb", "enabled": True}, "subnets": ["s1", "s2"]}
LB_RULES = {
    "alb-drop-invalid-headers": {"dropInvalidHeaderFields": False},
    "alb-access-logs": {"accessLogs": {"bucket": "logs", "enabled": False}},
    "alb-deletion-protection": {"enableDeletionProtection": False},
}


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


# --- EKS ---------------------------------------------------------------------------------------------
GOOD_EKS = {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False, "subnetIds": ["s"]},
            "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"}},
            "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}


def test_eks_endpoint_violations():
    r = check([rec(EKS, "default-public", {**GOOD_EKS, "vpcConfig": {"subnetIds": ["s"]}}),
               rec(EKS, "world", {**GOOD_EKS, "vpcConfig": {"endpointPublicAccess": True,
                                                            "publicAccessCidrs": ["0.0.0.0/0"]}})])
    assert names(r, "eks-endpoint-restricted") == ["default-public", "world"]


def test_eks_endpoint_pass_private_or_restricted():
    r = check([rec(EKS, "private", GOOD_EKS),
               rec(EKS, "restricted", {**GOOD_EKS, "vpcConfig": {"endpointPublicAccess": True,
                                                                 "publicAccessCidrs": ["203.0.113.0/24"]}})])
    assert names(r, "eks-endpoint-restricted") == []


def test_eks_endpoint_preview_unknown_subnets_still_decides():
    r = check([rec(EKS, "private", {**GOOD_EKS, "vpcConfig": {**GOOD_EKS["vpcConfig"], "subnetIds": UNKNOWN}})])
    assert names(r, "eks-endpoint-restricted") == [] and not skipped(r, "eks-endpoint-restricted")


def test_eks_secrets_encryption_violation():
    r = check([rec(EKS, "none", {k: v for k, v in GOOD_EKS.items() if k != "encryptionConfig"}),
               rec(EKS, "no-secrets", {**GOOD_EKS, "encryptionConfig": {"resources": [], "provider": {"keyArn": "k"}}}),
               rec(EKS, "no-key", {**GOOD_EKS, "encryptionConfig": {"resources": ["secrets"], "provider": {}}})])
    assert names(r, "eks-secrets-encryption") == ["no-key", "no-secrets", "none"]


def test_eks_secrets_encryption_pass():
    assert names(check([rec(EKS, "ok", GOOD_EKS)]), "eks-secrets-encryption") == []


def test_eks_secrets_encryption_preview_unknown_key_arn_is_a_key():
    r = check([rec(EKS, "ok", {**GOOD_EKS, "encryptionConfig": {"resources": ["secrets"],
                                                                 "provider": {"keyArn": UNKNOWN}}})])
    assert names(r, "eks-secrets-encryption") == [] and not skipped(r, "eks-secrets-encryption")


def test_eks_logging_violation_names_missing_types():
    [v] = violations(check([rec(EKS, "c", {**GOOD_EKS, "enabledClusterLogTypes": ["api"]})]),
                     "eks-control-plane-logging")
    assert "audit, authenticator, controllerManager, scheduler" in v.message


def test_eks_logging_pass_and_configurable():
    assert names(check([rec(EKS, "c", GOOD_EKS)]), "eks-control-plane-logging") == []
    r = check([rec(EKS, "c", {**GOOD_EKS, "enabledClusterLogTypes": ["audit"]})],
              config={"eks-control-plane-logging": {"requiredLogTypes": ["audit"]}})
    assert names(r, "eks-control-plane-logging") == []


def test_eks_logging_preview_unknown_role_still_decides():
    r = check([rec(EKS, "c", {**GOOD_EKS, "roleArn": UNKNOWN})])
    assert names(r, "eks-control-plane-logging") == [] and not skipped(r, "eks-control-plane-logging")


# --- Lambda ------------------------------------------------------------------------------------------
def _fn(name="fn", **props):
    base = {"tracingConfig": {"mode": "Active"}, "deadLetterConfig": {"targetArn": "arn:aws:sqs:us-east-1:1:dlq"},
            "role": "arn:aws:iam::1:role/r"}
    return rec(LAMBDA, name, {**base, **props}, deps=["role"], prop_deps={"role": ["role"]})


def _doc(*actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions),
                                                               "Resource": "*"}]})


ROLE_REC = rec(ROLE, "role", {"assumeRolePolicy": "{}"})


def test_lambda_tracing_violation():
    r = check([ROLE_REC, _fn(tracingConfig={"mode": "PassThrough"}), _fn("none", tracingConfig=None)])
    assert names(r, "lambda-tracing-active") == ["fn", "none"]


def test_lambda_tracing_pass():
    assert names(check([ROLE_REC, _fn()]), "lambda-tracing-active") == []


def test_lambda_tracing_preview_unknown_role_still_decides():
    r = check([ROLE_REC, _fn(role=UNKNOWN)])
    assert names(r, "lambda-tracing-active") == [] and not skipped(r, "lambda-tracing-active")


S3_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"


def test_lambda_dlq_violation_for_an_asynchronously_invoked_function():
    r = check([ROLE_REC, _fn(deadLetterConfig=None),
               rec(S3_NOTIFICATION, "notify", {"bucket": "b", "lambdaFunctions": [{"lambdaFunctionArn": UNKNOWN}]},
                   prop_deps={"lambdaFunctions": ["fn"]})])
    assert names(r, "lambda-dlq-configured") == ["fn"]


@pytest.mark.parametrize("caller", ["events-target", "sns-permission", "schedule"])
def test_lambda_dlq_every_async_caller_counts(caller):
    records = {
        "events-target": rec("aws:cloudwatch/eventTarget:EventTarget", "events-target", {"arn": UNKNOWN, "rule": "r"},
                             prop_deps={"arn": ["fn"]}),
        "sns-permission": rec("aws:lambda/permission:Permission", "sns-permission",
                              {"function": UNKNOWN, "principal": "sns.amazonaws.com", "action": "lambda:InvokeFunction"},
                              prop_deps={"function": ["fn"]}),
        "schedule": rec("aws:scheduler/schedule:Schedule", "schedule", {"target": {"arn": UNKNOWN}},
                        prop_deps={"target": ["fn"]}),
    }
    r = check([ROLE_REC, _fn(deadLetterConfig=None), records[caller]])
    assert names(r, "lambda-dlq-configured") == ["fn"]


def test_lambda_dlq_not_required_for_synchronously_invoked_functions():
    """API Gateway / ALB invoke synchronously, SQS event source mappings poll (failures go to the queue's
    DLQ): no function DLQ needed (issue 13: the rule fired on every function)."""
    r = check([ROLE_REC, _fn(deadLetterConfig=None),
               rec("aws:lambda/permission:Permission", "apigw", {"function": UNKNOWN,
                   "principal": "apigateway.amazonaws.com", "action": "lambda:InvokeFunction"},
                   prop_deps={"function": ["fn"]}),
               rec("aws:lambda/eventSourceMapping:EventSourceMapping", "esm",
                   {"functionName": UNKNOWN, "eventSourceArn": "arn:aws:sqs:us-east-1:1:q"},
                   prop_deps={"functionName": ["fn"]})])
    assert names(r, "lambda-dlq-configured") == []


def test_lambda_dlq_pass_with_dlq_or_on_failure_destination():
    r = check([ROLE_REC, _fn(), _fn("dest", deadLetterConfig=None),
               rec("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "cfg",
                   {"functionName": "dest", "destinationConfig": {"onFailure": {"destination": "arn:aws:sqs:x"}}},
                   prop_deps={"functionName": ["dest"]})])
    assert names(r, "lambda-dlq-configured") == []


def test_lambda_dlq_preview_unknown_queue_arn_counts_as_configured():
    r = check([ROLE_REC, _fn(deadLetterConfig={"targetArn": UNKNOWN}, role=UNKNOWN),
               rec(S3_NOTIFICATION, "notify", {"bucket": "b", "lambdaFunctions": [{"lambdaFunctionArn": UNKNOWN}]},
                   prop_deps={"lambdaFunctions": ["fn"]})])
    assert names(r, "lambda-dlq-configured") == [] and not skipped(r, "lambda-dlq-configured")


def test_lambda_role_wildcard_violations_inline_attached_and_managed():
    r = check([ROLE_REC, _fn(),
               rec(ROLE_POLICY, "inline", {"role": "r", "policy": _doc("logs:PutLogEvents", "s3:*")},
                   prop_deps={"role": ["role"]}),
               rec(MANAGED, "managed", {"policy": _doc("*")}),
               rec(ATTACHMENT, "attach", {"role": "r", "policyArn": "arn"},
                   prop_deps={"role": ["role"], "policyArn": ["managed"]}),
               rec(ATTACHMENT, "admin", {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
                   prop_deps={"role": ["role"]})])
    [v] = violations(r, "lambda-role-no-wildcard")
    assert v.urn.endswith("::fn") and "s3:*" in v.message and "managed: *" in v.message
    assert "AdministratorAccess" in v.message


def test_lambda_role_wildcard_pass_and_other_roles_ignored():
    r = check([ROLE_REC, _fn(),
               rec(ROLE_POLICY, "inline", {"role": "r", "policy": _doc("logs:PutLogEvents", "xray:Put*")},
                   prop_deps={"role": ["role"]}),
               rec(ROLE, "other-role", {}),
               rec(ROLE_POLICY, "other", {"role": "o", "policy": _doc("*")}, prop_deps={"role": ["other-role"]})])
    assert violations(r, "lambda-role-no-wildcard") == []


def test_lambda_role_wildcard_preview_correlates_by_dependencies_not_arns():
    r = check([ROLE_REC, _fn(role=UNKNOWN, deadLetterConfig={"targetArn": UNKNOWN}),
               rec(ROLE_POLICY, "inline", {"role": UNKNOWN, "policy": _doc("logs:PutLogEvents")},
                   prop_deps={"role": ["role"]})])
    assert violations(r, "lambda-role-no-wildcard") == [] and not skipped(r, "lambda-role-no-wildcard")
    bad = check([ROLE_REC, _fn(role=UNKNOWN),
                 rec(ROLE_POLICY, "inline", {"role": UNKNOWN, "policy": _doc("*")}, prop_deps={"role": ["role"]})])
    assert names(bad, "lambda-role-no-wildcard") == ["fn"]


# --- public-ingress-only-to-load-balancers -----------------------------------------------------------
def _world_rule(name, sg):
    return rec(INGRESS, name, {"securityGroupId": UNKNOWN, "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp",
                               "fromPort": 443, "toPort": 443}, prop_deps={"securityGroupId": [sg]})


def test_public_ingress_violation_for_group_without_load_balancer():
    r = check([rec(SG, "lb-sg", {}), rec(SG, "app-sg", {}), _world_rule("lb-443", "lb-sg"),
               _world_rule("app-443", "app-sg"),
               rec(SG, "inline-sg", {"ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80,
                                                  "cidrBlocks": ["0.0.0.0/0"]}]}),
               rec(LB, "alb", GOOD_LB, prop_deps={"securityGroups": ["lb-sg"]})])
    assert names(r, "public-ingress-only-to-load-balancers") == ["app-sg", "inline-sg"]


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


# --- launch templates and instances ------------------------------------------------------------------
GOOD_LT = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
           "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3"}}]}
GOOD_INSTANCE = {"metadataOptions": {"httpTokens": "required"}, "rootBlockDevice": {"encrypted": True},
                 "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}]}


def test_imdsv2_violations():
    r = check([rec(LT, "optional", {**GOOD_LT, "metadataOptions": {"httpTokens": "optional"}}),
               rec(LT, "missing", {"blockDeviceMappings": GOOD_LT["blockDeviceMappings"]}),
               rec(LT, "hops", {**GOOD_LT, "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 5}}),
               rec(INSTANCE, "vm", {**GOOD_INSTANCE, "metadataOptions": {}})])
    assert names(r, "ec2-imdsv2-required") == ["hops", "missing", "optional", "vm"]


def test_imdsv2_pass():
    r = check([rec(LT, "lt", GOOD_LT), rec(INSTANCE, "vm", GOOD_INSTANCE)])
    assert names(r, "ec2-imdsv2-required") == []


def test_imdsv2_preview_unknown_ami_still_decides():
    r = check([rec(LT, "lt", {**GOOD_LT, "imageId": UNKNOWN}), rec(INSTANCE, "vm", {**GOOD_INSTANCE, "ami": UNKNOWN})])
    assert names(r, "ec2-imdsv2-required") == [] and not skipped(r, "ec2-imdsv2-required")


def test_ebs_encrypted_violations():
    r = check([rec(LT, "lt-plain", {**GOOD_LT, "blockDeviceMappings": [{"deviceName": "/dev/xvda",
                                                                         "ebs": {"encrypted": "false"}}]}),
               rec(LT, "lt-none", {"metadataOptions": GOOD_LT["metadataOptions"]}),
               rec(INSTANCE, "vm-root", {**GOOD_INSTANCE, "rootBlockDevice": {"volumeSize": 8}}),
               rec(INSTANCE, "vm-data", {**GOOD_INSTANCE, "ebsBlockDevices": [{"deviceName": "/dev/sdf"}]})])
    assert names(r, "ebs-encrypted") == ["lt-none", "lt-plain", "vm-data", "vm-root"]


def test_ebs_encrypted_pass():
    r = check([rec(LT, "lt", GOOD_LT), rec(INSTANCE, "vm", GOOD_INSTANCE),
               rec(LT, "bool", {**GOOD_LT, "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}]})])
    assert names(r, "ebs-encrypted") == []


def test_ebs_encrypted_preview_unknown_kms_key_still_decides():
    r = check([rec(LT, "lt", {**GOOD_LT, "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": UNKNOWN}}]})])
    assert names(r, "ebs-encrypted") == [] and not skipped(r, "ebs-encrypted")


# --- issue 13 defect classes ------------------------------------------------------------------------
LB, LISTENER = "aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener"
AWSX_ALB, FARGATE = "awsx:lb:ApplicationLoadBalancer", "awsx:ecs:FargateService"
SGT = "aws:ec2/securityGroup:SecurityGroup"
FORWARD = [{"type": "forward", "targetGroupArn": "arn:tg"}]


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


def test_awsx_fargate_top_level_assign_public_ip_and_default_awslogs():
    """Before: awsx FargateService's top-level assignPublicIp was missed and its default awslogs configuration
    was reported as missing."""
    task = {"container": {"name": "app", "image": "nginx", "readonlyRootFilesystem": True}}
    r = check([rec(FARGATE, "svc-public", {"assignPublicIp": True, "taskDefinitionArgs": task}),
               rec(FARGATE, "svc-private", {"assignPublicIp": False, "taskDefinitionArgs": task}),
               rec(FARGATE, "svc-nologs", {"taskDefinitionArgs": {**task, "logGroup": {"skip": True}}}),
               rec(FARGATE, "svc-preview", {"assignPublicIp": UNKNOWN, "taskDefinitionArgs": task})])
    assert names(r, "ecs-no-public-ip") == ["svc-public"]
    assert {s.urn.split("::")[-1] for s in skipped(r, "ecs-no-public-ip")} == {"svc-preview"}
    assert names(r, "ecs-logging-configured") == ["svc-nologs"]


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


def _open_sg(name):
    return rec(SGT, name, {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443,
                                        "cidrBlocks": ["0.0.0.0/0"]}]})


def test_open_group_shared_by_a_load_balancer_and_an_instance_is_reported():
    """Before: an open group passed as soon as any load balancer used it."""
    r = check([_open_sg("sg-shared"), _open_sg("sg-lb-only"),
               rec(LB, "lb", {"securityGroups": [UNKNOWN, UNKNOWN]},
                   prop_deps={"securityGroups": ["sg-shared", "sg-lb-only"]}),
               rec("aws:ec2/instance:Instance", "vm", {"vpcSecurityGroupIds": [UNKNOWN]},
                   prop_deps={"vpcSecurityGroupIds": ["sg-shared"]})])
    found = violations(r, "public-ingress-only-to-load-balancers")
    assert names(r, "public-ingress-only-to-load-balancers") == ["sg-shared"] and "vm" in found[0].message


@pytest.mark.parametrize("runtime,expected", [("python3.8", True), ("nodejs16.x", True), ("python3.12", False),
                                              ("nodejs20.x", False)])
def test_lambda_runtime_supported(runtime, expected):
    r = check([ROLE_REC, _fn(runtime=runtime)])
    assert (names(r, "lambda-runtime-supported") == ["fn"]) is expected


def test_lambda_runtime_preview_and_container_images():
    r = check([ROLE_REC, _fn(runtime=UNKNOWN), _fn("img", packageType="Image", runtime=None)])
    assert names(r, "lambda-runtime-supported") == []
    assert {s.urn.split("::")[-1] for s in skipped(r, "lambda-runtime-supported")} == {"fn"}
