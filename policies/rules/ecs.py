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


POLICIES: list = [
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


# ------------------------------------------------------------------ deployability (issue 24)
# Constraints AWS documents between an ECS service, its task definition and its load balancer's target groups.
from ._compliance import is_unknown as _unknown  # noqa: E402
from ._lib import TARGET_GROUPS, stack_policy  # noqa: E402
from ._links import linked  # noqa: E402

_ECS_DOCS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
# Fargate task sizes (Linux): cpu units -> allowed memory MiB ("Amazon ECS task definition parameters for Fargate",
# Task size; "Troubleshoot Amazon ECS task definition invalid CPU or memory errors").
FARGATE_SIZES = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


def _on_fargate(service) -> bool:
    if get(service.props, "launchType") == "FARGATE":
        return True
    return any(get(s, "capacityProvider") in ("FARGATE", "FARGATE_SPOT")
               for s in as_list(plain(get(service.props, "capacityProviderStrategies"))) if isinstance(s, dict))


def _task_of(resources, service):
    found = linked(resources, service, "taskDefinition", (TASK_DEFINITION,), keys=("family",))
    return found[0] if found else None


def _units(value):
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _fargate_requirements(resources, report, args):
    for svc in (r for r in resources if r.resource_type == ECS_SERVICE):
        task = _task_of(resources, svc)
        fargate = _on_fargate(svc)
        if task is not None and get(task.props, "networkMode") == "awsvpc" and \
                not _unknown(svc.props, "networkConfiguration") and not get(svc.props, "networkConfiguration.subnets"):
            report(f"service {svc.name}: its task definition uses networkMode awsvpc and the service has no "
                   "networkConfiguration.subnets: CreateService fails.", svc.urn)
        if not fargate or task is None:
            continue
        tp = task.props
        problems = []
        if "FARGATE" not in [str(x) for x in as_list(plain(get(tp, "requiresCompatibilities")))]:
            problems.append("requiresCompatibilities lacks FARGATE")
        if get(tp, "networkMode") != "awsvpc":
            problems.append(f"networkMode is {get(tp, 'networkMode')!r} (Fargate requires awsvpc)")
        cpu, memory = _units(get(tp, "cpu")), _units(get(tp, "memory"))
        if cpu is None or memory is None:
            problems.append("task-level cpu and memory are required")
        elif memory not in FARGATE_SIZES.get(cpu, ()):
            problems.append(f"cpu {cpu} with memory {memory} is no Fargate task size")
        if problems:
            report(f"service {svc.name} runs on Fargate but its task definition {task.name}: " + "; ".join(problems)
                   + ".", task.urn)


def _awsvpc_target_type(resources, report, args):
    for svc in (r for r in resources if r.resource_type == ECS_SERVICE):
        task = _task_of(resources, svc)
        if task is None or get(task.props, "networkMode") != "awsvpc":
            continue
        for tg in linked(resources, svc, "loadBalancers", TARGET_GROUPS):
            target_type = get(tg.props, "targetType", "instance")
            if target_type != "ip":
                report(f"service {svc.name} (networkMode awsvpc) registers its tasks in target group {tg.name} of "
                       f"targetType {target_type!r}: awsvpc tasks register by IP, ECS refuses the service.", svc.urn)


def _execution_role(resources, report, args):
    for task in (r for r in resources if r.resource_type == TASK_DEFINITION):
        if _unknown(task.props, "containerDefinitions") or _unknown(task.props, "executionRoleArn") or \
                get(task.props, "executionRoleArn"):
            continue
        needs = []
        for i, c in enumerate(containers(TASK_DEFINITION, task.props)):
            if c.get("secrets"):
                needs.append(f"{_name(c, i)} injects secrets")
            if (c.get("logConfiguration") or {}).get("logDriver") == "awslogs":
                needs.append(f"{_name(c, i)} logs with awslogs")
            if ".dkr.ecr." in str(c.get("image", "")):
                needs.append(f"{_name(c, i)} pulls a private ECR image")
        if needs:
            report(f"task definition {task.name} has no executionRoleArn but " + "; ".join(needs)
                   + ": the task fails to start.", task.urn)


POLICIES += [
    stack_policy(
        "ecs-fargate-task-compatible",
        "An ECS service on Fargate must run a task definition that requires FARGATE, uses networkMode awsvpc and "
        "a valid Fargate cpu/memory size; an awsvpc service must name its subnets (ECS Developer Guide, "
        f"\"Amazon ECS task definition parameters for Fargate\": {_ECS_DOCS}fargate-tasks-services.html; "
        f"\"Amazon ECS task networking options for Fargate\": {_ECS_DOCS}fargate-task-networking.html).",
        _fargate_requirements, types=(ECS_SERVICE, TASK_DEFINITION), severity=Severity.HIGH,
        remediation="requires_compatibilities=['FARGATE'], network_mode='awsvpc', task-level cpu/memory from the "
                    "Fargate size table; network_configuration with private subnets on the service.",
        tags=["ecs", "deployability"]),
    stack_policy(
        "ecs-awsvpc-target-group-ip",
        "Target groups of an ECS service whose tasks use networkMode awsvpc must have targetType ip (ECS "
        f"Developer Guide, \"Use a load balancer to distribute Amazon ECS service traffic\": {_ECS_DOCS}"
        "service-load-balancing.html).",
        _awsvpc_target_type, types=(ECS_SERVICE, TASK_DEFINITION) + TARGET_GROUPS, severity=Severity.HIGH,
        remediation="target_type='ip' on the target group (a replacement).", tags=["ecs", "elb", "deployability"]),
    stack_policy(
        "ecs-execution-role-required",
        "An ECS task definition that injects secrets, logs with awslogs or pulls a private ECR image needs an "
        f"execution role (ECS Developer Guide, \"Amazon ECS task execution IAM role\": {_ECS_DOCS}"
        "task_execution_IAM_role.html).",
        _execution_role, types=(TASK_DEFINITION,), severity=Severity.HIGH,
        remediation="execution_role_arn=<a role trusted by ecs-tasks.amazonaws.com with "
                    "AmazonECSTaskExecutionRolePolicy and GetSecretValue on the injected secrets>.",
        tags=["ecs", "deployability", "iam"]),
]


# --- secrets in clear (issue 31 with issue 27): container environment variables --------------------------------
def _container_env_secrets(props, report, args):
    from .awslambda import literal_secrets
    for i, c in enumerate(containers(args.resource_type, props)):
        env = c.get("environment")
        pairs = ({e.get("name"): e.get("value") for e in env if isinstance(e, dict)} if isinstance(env, list)
                 else dict(env) if isinstance(env, dict) else {})  # awsx takes a list; a map is tolerated
        found = literal_secrets({str(k): v for k, v in pairs.items() if k})
        if found:
            report(f"container {_name(c, i)} has secrets in clear in its environment ({'; '.join(found)}): anyone "
                   f"with ecs:DescribeTaskDefinition reads them. Use `secrets` (valueFrom a Secrets Manager or SSM "
                   f"SecureString ARN) instead.")


POLICIES.append(resource_policy(
    "ecs-container-env-no-secrets", "ECS containers must not carry secrets in clear in their environment "
    "variables (use `secrets` with valueFrom).", TASKS, _container_env_secrets, severity=Severity.HIGH,
    framework=fsbp("ECS.8"),
    remediation="Move the value to Secrets Manager (or SSM SecureString) and reference it in the container's "
                "`secrets` list ({name, valueFrom: <ARN>}); grant the execution role GetSecretValue on that ARN.",
    refs={"cdk-nag": "AwsSolutions-ECS2"}, tags=["ecs", "secrets", "credentials"]))
