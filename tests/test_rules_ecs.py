"""Tests for policies/rules/ecs.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import json

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

SERVICE = "aws:ecs/service:Service"

TASK = "aws:ecs/taskDefinition:TaskDefinition"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- ecs-no-public-ip ------------------------------------------------------------------------------
def _service(public, subnets=("subnet-1",)):
    return {"networkConfiguration": {"assignPublicIp": public, "subnets": list(subnets) if subnets != UNKNOWN
                                     else UNKNOWN, "securityGroups": ["sg-1"]}}


# --- container rules ---------------------------------------------------------------------------------
GOOD_CONTAINER = {"name": "app", "image": "x", "privileged": False, "readonlyRootFilesystem": True,
                  "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/g"}}}

CONTAINER_RULES = {
    "ecs-no-privileged-containers": {"privileged": True},
    "ecs-read-only-root-filesystem": {"readonlyRootFilesystem": False},
    "ecs-logging-configured": {"logConfiguration": None},
}

AWSX_ALB, FARGATE = "awsx:lb:ApplicationLoadBalancer", "awsx:ecs:FargateService"

AWSX_ALB, FARGATE = "awsx:lb:ApplicationLoadBalancer", "awsx:ecs:FargateService"


def test_ecs_public_ip_violation():
    assert names(check([rec(SERVICE, "svc", _service(True))]), "ecs-no-public-ip") == ["svc"]


def test_ecs_public_ip_pass():
    r = check([rec(SERVICE, "svc", _service(False)), rec(SERVICE, "no-net", {})])
    assert names(r, "ecs-no-public-ip") == []


def test_ecs_public_ip_preview_subnets_unknown_still_decides():
    r = check([rec(SERVICE, "ok", _service(False, UNKNOWN)), rec(SERVICE, "bad", _service(True, UNKNOWN))])
    assert names(r, "ecs-no-public-ip") == ["bad"] and not skipped(r, "ecs-no-public-ip")


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


# --- issue 31: task-level host namespaces ----------------------------------------------------------------------
def test_task_host_network_pid_and_ipc_modes_are_reported():
    from policy_harness import names
    containers = json.dumps([{"name": "app", "image": "x", "readonlyRootFilesystem": True}])
    task = "aws:ecs/taskDefinition:TaskDefinition"
    r = check([
        rec(task, "host-net", {"family": "a", "containerDefinitions": containers, "networkMode": "host"}),
        rec(task, "host-pid", {"family": "b", "containerDefinitions": containers, "networkMode": "awsvpc",
                               "pidMode": "host"}),
        rec(task, "host-ipc", {"family": "c", "containerDefinitions": containers, "ipcMode": "host"}),
        rec(task, "awsvpc", {"family": "d", "containerDefinitions": containers, "networkMode": "awsvpc",
                             "pidMode": "task"}),
        rec(task, "default", {"family": "e", "containerDefinitions": containers}),
        rec(task, "preview", {"family": "f", "containerDefinitions": UNKNOWN, "networkMode": "awsvpc",
                              "executionRoleArn": UNKNOWN}),
        rec("awsx:ecs:EC2Service", "awsx-host", {"taskDefinitionArgs": {"networkMode": "host", "container": {
            "name": "c", "image": "x"}}}),
    ])
    found = violations(r, "ecs-task-no-host-namespaces")
    assert names(found) == {"host-net", "host-pid", "host-ipc", "awsx-host"}
    assert all(v.level == "mandatory" for v in found)
    assert any("pidMode is 'host'" in v.message for v in found)


# ------------------------------------------------------------------ deployability (issue 24)
SVC_T, TD_T, TG_T = "aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition", "aws:lb/targetGroup:TargetGroup"
FARGATE_TD = {"family": "app", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512",
              "memory": "1024", "executionRoleArn": UNKNOWN,
              "containerDefinitions": json.dumps([{"name": "app", "image": "1.dkr.ecr.us-east-1.amazonaws.com/app:1",
                                                   "logConfiguration": {"logDriver": "awslogs"}}])}
FARGATE_SVC = {"capacityProviderStrategies": [{"capacityProvider": "FARGATE", "weight": 1}], "taskDefinition": UNKNOWN,
               "networkConfiguration": {"subnets": [UNKNOWN], "securityGroups": [UNKNOWN]},
               "loadBalancers": [{"targetGroupArn": UNKNOWN, "containerName": "app", "containerPort": 8000}]}


def ecs_stack(td=None, svc=None, tg=None):
    return [rec(TD_T, "td", {**FARGATE_TD, **(td or {})}),
            rec(TG_T, "tg", {"targetType": "ip", "protocol": "HTTP", "port": 8000, **(tg or {})}),
            rec(SVC_T, "svc", {**FARGATE_SVC, **(svc or {})},
                prop_deps={"taskDefinition": ["td"], "loadBalancers": ["tg"]})]


@pytest.mark.parametrize("td,svc,fragment", [
    ({"requiresCompatibilities": ["EC2"]}, None, "lacks FARGATE"),
    ({"networkMode": "bridge"}, None, "requires awsvpc"),
    ({"cpu": "256", "memory": "4096"}, None, "no Fargate task size"),
    ({"cpu": None, "memory": None}, None, "cpu and memory are required"),
    (None, {"networkConfiguration": {"securityGroups": [UNKNOWN]}}, "no networkConfiguration.subnets"),
])
def test_fargate_service_needs_a_compatible_task_definition(td, svc, fragment):
    td = {k: v for k, v in {**FARGATE_TD, **(td or {})}.items() if v is not None}
    r = check([rec(TD_T, "td", td), rec(TG_T, "tg", {"targetType": "ip"}),
               rec(SVC_T, "svc", {**FARGATE_SVC, **(svc or {})}, prop_deps={"taskDefinition": ["td"],
                                                                             "loadBalancers": ["tg"]})])
    [v] = violations(r, "ecs-fargate-task-compatible")
    assert fragment in v.message and v.level == "mandatory"


def test_fargate_compatible_task_passes_in_a_preview():
    r = check(ecs_stack())
    for policy in ("ecs-fargate-task-compatible", "ecs-awsvpc-target-group-ip", "ecs-execution-role-required"):
        assert violations(r, policy) == [] and skipped(r, policy) == [], policy


def test_awsvpc_tasks_need_ip_target_groups():
    [v] = violations(check(ecs_stack(tg={"targetType": "instance"})), "ecs-awsvpc-target-group-ip")
    assert "targetType 'instance'" in v.message
    # a bridge-mode service on EC2 may register instances
    ec2 = check(ecs_stack(td={"networkMode": "bridge", "requiresCompatibilities": ["EC2"]},
                          svc={"capacityProviderStrategies": None, "launchType": "EC2"}, tg={"targetType": "instance"}))
    assert violations(ec2, "ecs-awsvpc-target-group-ip") == []


def test_secrets_logs_and_private_images_need_an_execution_role():
    td = {k: v for k, v in FARGATE_TD.items() if k != "executionRoleArn"}
    [v] = violations(check([rec(TD_T, "td", td)]), "ecs-execution-role-required")
    assert "awslogs" in v.message and "private ECR image" in v.message
    public = {**td, "containerDefinitions": json.dumps([{"name": "app", "image": "nginx:1"}])}
    assert violations(check([rec(TD_T, "td", public)]), "ecs-execution-role-required") == []


def test_container_environment_secrets_are_reported_and_secret_references_pass():
    from policy_harness import names
    task = "aws:ecs/taskDefinition:TaskDefinition"

    def defs(env, secrets=()):
        return json.dumps([{"name": "app", "image": "x", "environment": env, "secrets": list(secrets)}])
    r = check([
        rec(task, "key", {"family": "a", "containerDefinitions": defs([{"name": "AWS_ACCESS_KEY_ID",
                                                                          "value": "AKIAIOSFODNN7EXAMPLE"}])}),
        rec(task, "password", {"family": "b", "containerDefinitions": defs([{"name": "DB_PASSWORD",
                                                                               "value": "correct-horse-battery"}])}),
        rec(task, "via-secrets", {"family": "c", "containerDefinitions": defs(
            [{"name": "DB_HOST", "value": "db.internal"}, {"name": "DB_IAM_AUTH", "value": "true"}],
            [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:db"}])}),
        rec("awsx:ecs:FargateService", "awsx-token", {"taskDefinitionArgs": {"container": {
            "name": "c", "image": "x", "environment": [{"name": "API_TOKEN", "value": "xoxb-1234567890-abcdef"}]}}}),
    ])
    found = violations(r, "ecs-container-env-no-secrets")
    assert names(found) == {"key", "password", "awsx-token"}
    assert all(v.level == "mandatory" for v in found)
