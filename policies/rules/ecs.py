"""ECS task definitions and services (plain and awsx): no public IPs, no privileged containers,
read-only root file systems, logging (awsx's default awslogs configuration counts)."""
from __future__ import annotations

import json

from pulumi_policy import Severity

from ._lib import as_bool, as_list, flag, fsbp, get, plain, resource_policy

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"

ECS_SERVICE = "aws:ecs/service:Service"

AWSX_FARGATE_SERVICE = "awsx:ecs:FargateService"

AWSX_EC2_SERVICE = "awsx:ecs:EC2Service"

AWSX_FARGATE_TASK = "awsx:ecs:FargateTaskDefinition"

AWSX_EC2_TASK = "awsx:ecs:EC2TaskDefinition"


def containers(resource_type: str, props) -> list[dict]:
    """Container definitions as plain dicts (reading them: unknown values raise)."""
    if resource_type == TASK_DEFINITION:
        raw = get(props, "containerDefinitions")
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                return []
        return [c for c in as_list(plain(raw)) if isinstance(c, dict)]
    task = get(props, "taskDefinitionArgs") if resource_type in (AWSX_FARGATE_SERVICE, AWSX_EC2_SERVICE) else props
    if task is None:
        return []
    found = []
    single = get(task, "container")
    if single is not None:
        found.append(plain(single))
    many = get(task, "containers")
    if many is not None:
        found.extend(plain(many).values())
    return [c for c in found if isinstance(c, dict)]


def _name(container: dict, i: int) -> str:
    return str(container.get("name") or f"#{i}")


def _ecs_public_ip(props, report, args):
    if args.resource_type in (AWSX_FARGATE_SERVICE, AWSX_EC2_SERVICE) and flag(props, "assignPublicIp") is True:
        report("assignPublicIp must be false: tasks run in private subnets behind the load balancer.")
    if flag(props, "networkConfiguration.assignPublicIp") is True:
        report("networkConfiguration.assignPublicIp must be false: tasks run in private subnets behind the load "
               "balancer and reach AWS through NAT or endpoints.")


def _privileged(props, report, args):
    for i, c in enumerate(containers(args.resource_type, props)):
        if as_bool(c.get("privileged")) is True:
            report(f"container {_name(c, i)} is privileged (root on the host).")


def _read_only_root(props, report, args):
    for i, c in enumerate(containers(args.resource_type, props)):
        if as_bool(c.get("readonlyRootFilesystem")) is not True:
            report(f"container {_name(c, i)}: readonlyRootFilesystem should be true (mount a volume for writable "
                   f"paths such as /tmp).")


def _awsx_default_logs(resource_type: str, props) -> bool:
    """awsx task definitions (and services) create a log group and give every container an awslogs
    configuration unless `logGroup.skip` is true."""
    if resource_type in (AWSX_FARGATE_SERVICE, AWSX_EC2_SERVICE):
        props = get(props, "taskDefinitionArgs") or {}
    elif resource_type not in (AWSX_FARGATE_TASK, AWSX_EC2_TASK):
        return False
    return flag(props, "logGroup.skip") is not True


def _logging(props, report, args):
    defaults = _awsx_default_logs(args.resource_type, props)
    for i, c in enumerate(containers(args.resource_type, props)):
        if defaults and "logConfiguration" not in c:
            continue
        driver = (c.get("logConfiguration") or {}).get("logDriver") if isinstance(c.get("logConfiguration"), dict) else None
        if not driver:
            report(f"container {_name(c, i)} has no logConfiguration.logDriver (its output would be lost).")


ECS_SERVICES = (ECS_SERVICE, AWSX_FARGATE_SERVICE, AWSX_EC2_SERVICE)

TASKS = (TASK_DEFINITION, AWSX_FARGATE_TASK, AWSX_EC2_TASK, AWSX_FARGATE_SERVICE, AWSX_EC2_SERVICE)


POLICIES = [
    resource_policy(
        "ecs-no-public-ip", "ECS services must not assign public IPs to tasks.", ECS_SERVICES, _ecs_public_ip,
        severity=Severity.HIGH, framework=fsbp("ECS.2"),
        remediation="networkConfiguration.assignPublicIp=False and private subnets; expose through the ALB.",
        tags=["ecs", "exposure", "checkov:CKV_AWS_333"]),
    resource_policy(
        "ecs-no-privileged-containers", "ECS containers must not run privileged.", TASKS, _privileged,
        severity=Severity.HIGH, framework=fsbp("ECS.4"), remediation="Remove privileged: true; grant capabilities "
        "individually if one is truly needed.", tags=["ecs", "least-privilege", "checkov:CKV_AWS_334"]),
    resource_policy(
        "ecs-read-only-root-filesystem", "ECS containers should have a read-only root filesystem (advisory by "
        "intent: some images need a writable root).", TASKS, _read_only_root,
        severity=Severity.MEDIUM, framework=fsbp("ECS.5"),
        remediation="readonlyRootFilesystem: true, with a task volume mounted at writable paths such as /tmp.",
        tags=["ecs", "hardening", "checkov:CKV_AWS_336"]),
    resource_policy(
        "ecs-logging-configured", "ECS containers must send logs somewhere (logConfiguration).", TASKS, _logging,
        severity=Severity.MEDIUM, framework=fsbp("ECS.9"),
        remediation="logConfiguration: {logDriver: awslogs, options: {awslogs-group: <KMS log group>, ...}}.",
        tags=["cdk-nag:AwsSolutions-ECS7",
              "ecs", "logging"]),
]


# --- task-level isolation (issue 31): host network mode and host PID/IPC namespaces --------------------------
HOST_NAMESPACE_TASKS = (TASK_DEFINITION, AWSX_EC2_TASK, AWSX_EC2_SERVICE)


def _host_namespaces(props, report, args):
    task = get(props, "taskDefinitionArgs") if args.resource_type == AWSX_EC2_SERVICE else props
    if task is None:
        return
    for key, why in (("networkMode", "shares the host's network stack (no security groups per task; "
                                     "containers reach the instance metadata service and host ports)"),
                     ("pidMode", "shares the host's process namespace (containers see and signal host processes)"),
                     ("ipcMode", "shares the host's IPC namespace")):
        if get(task, key) == "host":
            report(f"{key} is 'host': the task {why}.")


POLICIES.append(resource_policy(
    "ecs-task-no-host-namespaces", "ECS task definitions must not use the host's network, process or IPC "
    "namespace (networkMode/pidMode/ipcMode 'host').", HOST_NAMESPACE_TASKS, _host_namespaces,
    severity=Severity.HIGH, framework=fsbp("ECS.3"),
    remediation="networkMode='awsvpc' (security groups per task); leave pidMode and ipcMode unset or 'task'.",
    refs={"checkov": "CKV_AWS_335", "fsbp": ["ECS.1", "ECS.3"]}, tags=["ecs", "isolation"]))
