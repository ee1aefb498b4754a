"""Compute: ECS tasks and services, load balancers and their listeners, EKS, Lambda, launch templates
and instances, and the stack rule that only load balancers face the internet.

Container definitions are read from the JSON string aws.ecs.TaskDefinition takes (or an object), and
from awsx's container maps. Stack rules correlate resources by property dependencies (URNs), never by
output values, which are unknown in a preview of a new stack.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

from pulumi_policy import PolicyConfigSchema, Severity
from pulumi_policy.proxy import UnknownValueError

from ._lib import (
    LISTENERS,
    LOAD_BALANCERS,
    SECURITY_GROUP,
    SG_INGRESS_RULE,
    SG_RULE,
    as_bool,
    as_list,
    flag,
    fsbp,
    get,
    items,
    plain,
    policy_document,
    resource_policy,
    rule,
    stack_policy,
    statements,
)
from .network import world_open_rules

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
AWSX_FARGATE_SERVICE = "awsx:ecs:FargateService"
AWSX_EC2_SERVICE = "awsx:ecs:EC2Service"
AWSX_FARGATE_TASK = "awsx:ecs:FargateTaskDefinition"
AWSX_EC2_TASK = "awsx:ecs:EC2TaskDefinition"
AWSX_ALB = "awsx:lb:ApplicationLoadBalancer"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_COMPONENT = "eks:index:Cluster"
LAMBDA = "aws:lambda/function:Function"
EVENT_INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
ASYNC_SOURCES = ("aws:s3/bucketNotification:BucketNotification", "aws:sns/topicSubscription:TopicSubscription",
                 "aws:cloudwatch/eventTarget:EventTarget", "aws:scheduler/schedule:Schedule",
                 "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", EVENT_INVOKE_CONFIG)
ASYNC_PRINCIPALS = ("s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com", "scheduler.amazonaws.com",
                    "logs.amazonaws.com", "ses.amazonaws.com", "iot.amazonaws.com", "config.amazonaws.com")
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
MANAGED_POLICY = "aws:iam/policy:Policy"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
ALL_LOAD_BALANCERS = LOAD_BALANCERS + (AWSX_ALB,)
SG_TYPES = (SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")

# TLS 1.2+ policies (the TLS13 family adds TLS 1.3; FS policies are TLS 1.2 forward-secret only). Not every
# TLS13 policy: ELBSecurityPolicy-TLS13-1-0-2021-06 and -1-1- still accept TLS 1.0 / 1.1.
MODERN_SSL_PREFIXES = ("ELBSecurityPolicy-TLS13-1-2-", "ELBSecurityPolicy-TLS13-1-3-")
MODERN_SSL_POLICIES = ("ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
                       "ELBSecurityPolicy-FS-1-2-2019-08", "ELBSecurityPolicy-FS-1-2-Res-2019-08",
                       "ELBSecurityPolicy-FS-1-2-Res-2020-10")
EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
WORLD = ("0.0.0.0/0", "::/0")
# AWS managed policies that grant '*' or service-wide '*' actions.
WILDCARD_MANAGED = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def present(props, key: str) -> bool:
    """`key` holds a value, known or not, without reading it: for references (ARNs) whose value does
    not decide the outcome, only their presence does. Unknown values count as present."""
    if not isinstance(props, Mapping) or key not in list(iter(props)):
        return False
    try:
        value = props[key]
    except UnknownValueError:  # presence is all this helper decides; value-reading rules never catch this
        return True
    return value not in (None, "", [], {})


# --- ECS -------------------------------------------------------------------------------------------

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


# --- load balancers ----------------------------------------------------------------------------------

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
    if flag(props, "accessLogs.enabled") is not True or not present(get(props, "accessLogs") or {}, "bucket"):
        report("accessLogs must be enabled with a bucket.")


def _deletion_protection(props, report, args):
    if flag(props, "enableDeletionProtection") is not True:
        report("enableDeletionProtection must be true.")


# --- EKS ---------------------------------------------------------------------------------------------

def _eks_endpoint(props, report, args):
    if args.resource_type == EKS_COMPONENT:
        public = get(props, "endpointPublicAccess", True)
        cidrs = items(get(props, "publicAccessCidrs"))
    else:
        public = get(props, "vpcConfig.endpointPublicAccess", True)
        cidrs = items(get(props, "vpcConfig.publicAccessCidrs"))
    if public is not False and (not cidrs or any(c in WORLD for c in cidrs)):
        report("the public API endpoint is open to the internet: set endpointPublicAccess false (private "
               "endpoint) or restrict publicAccessCidrs.")


def _eks_secrets(props, report, args):
    if args.resource_type == EKS_COMPONENT:
        if not present(props, "encryptionConfigKeyArn"):
            report("encryptionConfigKeyArn must be set to envelope-encrypt Kubernetes secrets with KMS.")
        return
    config = get(props, "encryptionConfig")
    configs = [config] if isinstance(config, Mapping) else items(config)
    for cfg in configs:
        if "secrets" in items(get(cfg, "resources")) and present(get(cfg, "provider") or {}, "keyArn"):
            return
    report("encryptionConfig must cover resources ['secrets'] with provider.keyArn (KMS envelope encryption).")


def _eks_logging(props, report, args):
    required = list((args.get_config() or {}).get("requiredLogTypes", EKS_LOG_TYPES))
    key = "enabledClusterLogTypes"
    enabled = [str(t) for t in items(get(props, key))]
    missing = [t for t in required if t not in enabled]
    if missing:
        report(f"{key} lacks {', '.join(missing)}.")


# --- Lambda ------------------------------------------------------------------------------------------

# Runtimes AWS has deprecated (no security patches; creation then update blocked), as of 2026-11:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtimes-deprecated . Configurable.
DEPRECATED_RUNTIMES = ["python2.7", "python3.6", "python3.7", "python3.8", "python3.9", "nodejs", "nodejs4.3",
                       "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
                       "nodejs18.x", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
                       "dotnet5.0", "dotnet6", "dotnet7", "ruby2.5", "ruby2.7", "ruby3.2", "go1.x", "provided"]


@rule("lambda-runtime-supported", "Lambda functions must not use a deprecated runtime.", types=(LAMBDA,),
      severity=Severity.HIGH, framework=fsbp("Lambda.2"),
      refs={"checkov": "CKV_AWS_363", "cdk-nag": "AwsSolutions-L1"},
      steps="Move to a supported runtime (python3.12+, nodejs20.x+, java21, provided.al2023 ...).",
      tags=["lambda", "patching"],
      config_schema=PolicyConfigSchema(properties={
          "deprecatedRuntimes": {"type": "array", "items": {"type": "string"}, "default": DEPRECATED_RUNTIMES}}))
def _lambda_runtime(props, report, args):
    if get(props, "packageType", "Zip") == "Image":
        return  # container images bring their own runtime
    runtime = get(props, "runtime")
    deprecated = list((args.get_config() or {}).get("deprecatedRuntimes", DEPRECATED_RUNTIMES))
    if runtime in deprecated:
        report(f"runtime {runtime} is deprecated: it gets no security patches and AWS will block updates.")


def _lambda_tracing(props, report, args):
    if get(props, "tracingConfig.mode") != "Active":
        report("tracingConfig.mode must be Active (X-Ray).")


def async_invoked(fn, resources) -> list[str]:
    """What invokes `fn` asynchronously in this stack (S3 and SNS notifications, EventBridge targets and
    schedules, log subscriptions, Lambda permissions for those services, event-invoke configs). Synchronous
    callers (API Gateway, load balancers) and pollers (SQS, Kinesis, DynamoDB event source mappings: failures
    go to the source's own DLQ or on-failure destination) do not need a function DLQ."""
    found = []
    for r in resources:
        if r.urn == fn.urn or not any(d.urn == fn.urn for ds in r.property_dependencies.values() for d in ds):
            continue
        if r.resource_type in ASYNC_SOURCES:
            found.append(r.name)
        elif r.resource_type == LAMBDA_PERMISSION and str(get(r.props, "principal", "")) in ASYNC_PRINCIPALS:
            found.append(r.name)
    return found


def _lambda_dlq(resources, report, args):
    functions = [r for r in resources if r.resource_type == LAMBDA]
    configs = [r for r in resources if r.resource_type == EVENT_INVOKE_CONFIG]
    for fn in functions:
        callers = async_invoked(fn, resources)
        if not callers:
            continue
        if present(get(fn.props, "deadLetterConfig") or {}, "targetArn"):
            continue
        on_failure = [c for c in configs
                      if any(d.urn == fn.urn for d in c.property_dependencies.get("functionName", []))
                      and present(get(c.props, "destinationConfig.onFailure") or {}, "destination")]
        if not on_failure:
            report(f"function {fn.name} is invoked asynchronously ({', '.join(sorted(callers))}) but has neither "
                   f"deadLetterConfig.targetArn nor an on-failure destination (FunctionEventInvokeConfig): failed "
                   f"asynchronous events are lost.", fn.urn)


def wildcard_actions(doc) -> list[str]:
    """'*' or service-wide 'svc:*' actions (and NotAction) in Allow statements."""
    found = []
    for st in statements(doc):
        if st.get("Effect") != "Allow":
            continue
        if "NotAction" in st:
            found.append("NotAction")
        for action in as_list(st.get("Action")):
            if str(action) == "*" or str(action).endswith(":*"):
                found.append(str(action))
    return found


def _deps(resource, prop: str) -> set:
    return {d.urn for d in resource.property_dependencies.get(prop, [])}


def _lambda_role_wildcard(resources, report, args):
    by_urn = {r.urn: r for r in resources}
    functions = [r for r in resources if r.resource_type == LAMBDA]
    for fn in functions:
        roles = [by_urn[u] for u in _deps(fn, "role") if u in by_urn and by_urn[u].resource_type == ROLE]
        for role in roles:
            problems = []
            for i, inline in enumerate(items(get(role.props, "inlinePolicies"))):
                problems += [f"inline policy {i}: {a}" for a in wildcard_actions(policy_document(get(inline, "policy")))]
            for arn in items(get(role.props, "managedPolicyArns")):
                if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in WILDCARD_MANAGED:
                    problems.append(f"managed policy {arn}")
            for r in resources:
                if r.resource_type == ROLE_POLICY and role.urn in _deps(r, "role"):
                    problems += [f"{r.name}: {a}" for a in wildcard_actions(policy_document(get(r.props, "policy")))]
                attached = ((r.resource_type == ROLE_POLICY_ATTACHMENT and role.urn in _deps(r, "role")) or
                            (r.resource_type == POLICY_ATTACHMENT and role.urn in _deps(r, "roles")))
                if not attached:
                    continue
                managed = [by_urn[u] for u in _deps(r, "policyArn") if u in by_urn
                           and by_urn[u].resource_type == MANAGED_POLICY]
                for policy in managed:
                    problems += [f"{policy.name}: {a}" for a in
                                 wildcard_actions(policy_document(get(policy.props, "policy")))]
                if not managed:
                    arn = get(r.props, "policyArn")
                    if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in WILDCARD_MANAGED:
                        problems.append(f"managed policy {arn}")
            if problems:
                report(f"function {fn.name}'s role {role.name} grants wildcard actions: {'; '.join(problems)}.", fn.urn)


# --- security groups ---------------------------------------------------------------------------------

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
    fronted, shared = set(), {}
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


# --- launch templates and instances ------------------------------------------------------------------

def _imdsv2(props, report, args):
    if get(props, "metadataOptions.httpTokens") != "required":
        report("metadataOptions.httpTokens must be 'required' (IMDSv2 only: blocks SSRF credential theft).")
    if get(props, "metadataOptions.httpEndpoint") == "disabled":
        return
    hops = get(props, "metadataOptions.httpPutResponseHopLimit")
    if isinstance(hops, (int, float)) and hops > 2:
        report(f"metadataOptions.httpPutResponseHopLimit {hops} lets containers reach the instance role; use 1 or 2.")



def _ebs_encrypted(props, report, args):
    if args.resource_type == LAUNCH_TEMPLATE:
        mappings = items(get(props, "blockDeviceMappings"))
        volumes = [m for m in mappings if get(m, "ebs") is not None]
        if not volumes:
            report("no blockDeviceMappings with ebs: the AMI's volumes are used as they are (unencrypted unless the "
                   "account encrypts by default); declare the root volume with encrypted 'true'.")
        for m in volumes:
            if not as_bool(get(m, "ebs.encrypted")):
                report(f"blockDeviceMappings {get(m, 'deviceName')}: ebs.encrypted must be true.")
        return
    if not as_bool(get(props, "rootBlockDevice.encrypted")):
        report("rootBlockDevice.encrypted must be true.")
    for i, dev in enumerate(items(get(props, "ebsBlockDevices"))):
        if not as_bool(get(dev, "encrypted")):
            report(f"ebsBlockDevices[{i}] ({get(dev, 'deviceName')}) must be encrypted.")


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
        tags=["ecs", "logging"]),
    resource_policy(
        "alb-https-or-redirect", "Load balancer listeners: HTTP only redirects to HTTPS; HTTPS has a certificate "
        "and a TLS 1.2+ policy.", LISTENERS + (AWSX_ALB,), _https_or_redirect,
        severity=Severity.HIGH, framework=fsbp("ELB.1"),
        remediation="Add an HTTPS listener (ACM certificate, ELBSecurityPolicy-TLS13-1-2-2021-06) and make the HTTP "
                    "listener's only action a redirect to HTTPS.",
        tags=["elb", "encryption-in-transit", "awsguard:alb-http-to-https-redirection"]),
    resource_policy(
        "alb-drop-invalid-headers", "Application load balancers must drop invalid HTTP header fields.",
        ALL_LOAD_BALANCERS, _drop_invalid_headers, severity=Severity.MEDIUM, framework=fsbp("ELB.4"),
        remediation="drop_invalid_header_fields=True.", tags=["elb", "hardening", "checkov:CKV_AWS_131"]),
    resource_policy(
        "alb-access-logs", "Load balancers must write access logs.", ALL_LOAD_BALANCERS, _access_logs,
        severity=Severity.MEDIUM, framework=fsbp("ELB.5"),
        remediation="access_logs={bucket: <log bucket allowing ELB delivery>, prefix: ..., enabled: True}.",
        tags=["elb", "logging", "awsguard:elb-logging-enabled", "checkov:CKV_AWS_91"]),
    resource_policy(
        "alb-deletion-protection", "Load balancers must have deletion protection (prod).", ALL_LOAD_BALANCERS,
        _deletion_protection, severity=Severity.MEDIUM, framework=fsbp("ELB.6"),
        remediation="enable_deletion_protection=platform.protect (true in prod).",
        tags=["elb", "protection", "awsguard:elb-deletion-protection-enabled", "checkov:CKV_AWS_150"]),
    resource_policy(
        "eks-endpoint-restricted", "The EKS API endpoint must be private or restricted to known CIDRs.",
        (EKS_CLUSTER, EKS_COMPONENT), _eks_endpoint, severity=Severity.HIGH, framework=fsbp("EKS.1"),
        remediation="vpc_config: endpoint_private_access=True, endpoint_public_access=False (or public_access_cidrs "
                    "set to office/VPN ranges).", tags=["eks", "exposure", "checkov:CKV_AWS_39", "checkov:CKV_AWS_38"]),
    resource_policy(
        "eks-secrets-encryption", "EKS must envelope-encrypt Kubernetes secrets with KMS.",
        (EKS_CLUSTER, EKS_COMPONENT), _eks_secrets, severity=Severity.HIGH, framework=fsbp("EKS.3"),
        remediation="encryption_config={resources: ['secrets'], provider: {key_arn: <KMS key>}}.",
        tags=["eks", "encryption", "checkov:CKV_AWS_58"]),
    resource_policy(
        "eks-control-plane-logging", "EKS must send every control-plane log type to CloudWatch Logs.",
        (EKS_CLUSTER, EKS_COMPONENT), _eks_logging, severity=Severity.MEDIUM, framework=fsbp("EKS.8"),
        remediation="enabled_cluster_log_types=['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].",
        tags=["eks", "logging", "checkov:CKV_AWS_37"],
        config_schema=PolicyConfigSchema(properties={
            "requiredLogTypes": {"type": "array", "items": {"type": "string", "enum": EKS_LOG_TYPES},
                                 "default": EKS_LOG_TYPES}})),
    resource_policy(
        "lambda-tracing-active", "Lambda functions must have active X-Ray tracing.", (LAMBDA,), _lambda_tracing,
        severity=Severity.LOW, framework=fsbp("Lambda.7"),
        remediation="tracing_config={mode: 'Active'} (components/lambda_function.platform_function does).",
        tags=["lambda", "observability", "checkov:CKV_AWS_50"]),
    stack_policy(
        "lambda-dlq-configured", "Lambda functions must keep failed asynchronous events (DLQ or on-failure "
        "destination).", _lambda_dlq, severity=Severity.MEDIUM,
        remediation="dead_letter_config={target_arn: <encrypted SQS queue>} or a FunctionEventInvokeConfig with "
                    "destination_config.on_failure.", tags=["lambda", "resilience", "checkov:CKV_AWS_116"],
        types=(LAMBDA, LAMBDA_PERMISSION) + ASYNC_SOURCES),
    stack_policy(
        "lambda-role-no-wildcard", "A Lambda function's execution role must not grant '*' or service-wide "
        "actions.", _lambda_role_wildcard, severity=Severity.HIGH,
        remediation="List the exact actions the function calls; give each function its own role "
                    "(platform_function does).", tags=["lambda", "iam", "least-privilege"],
        types=('aws:lambda/function:Function', 'aws:iam/role:Role', 'aws:iam/policy:Policy', 'aws:iam/rolePolicy:RolePolicy', 'aws:iam/rolePolicyAttachment:RolePolicyAttachment', 'aws:iam/policyAttachment:PolicyAttachment')),
    stack_policy(
        "public-ingress-only-to-load-balancers", "A security group open to the internet must belong to a load "
        "balancer.", _public_ingress_only_lbs, severity=Severity.CRITICAL, framework=fsbp("EC2.18"),
        remediation="Put the workload behind the ALB and allow only the ALB's security group as a source.",
        tags=["network", "exposure"],
        types=('aws:ec2/securityGroup:SecurityGroup', 'aws:ec2/securityGroupRule:SecurityGroupRule', 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'aws:lb/loadBalancer:LoadBalancer', 'aws:alb/loadBalancer:LoadBalancer', 'awsx:lb:ApplicationLoadBalancer')),
    resource_policy(
        "ec2-imdsv2-required", "Instances and launch templates must require IMDSv2.", (LAUNCH_TEMPLATE, INSTANCE),
        _imdsv2, severity=Severity.HIGH, framework=fsbp("EC2.8"),
        remediation="metadata_options={http_tokens: 'required', http_put_response_hop_limit: 1 (2 for containers "
                    "that need IMDS)}.", tags=["ec2", "hardening", "checkov:CKV_AWS_79", "cdk-nag:AwsSolutions-EC29"]),
    resource_policy(
        "ebs-encrypted", "Instance and launch-template volumes must be encrypted.", (LAUNCH_TEMPLATE, INSTANCE),
        _ebs_encrypted, severity=Severity.HIGH, framework=fsbp("EC2.3"),
        remediation="Launch template: block_device_mappings[].ebs.encrypted='true'; instance: root_block_device and "
                    "ebs_block_devices with encrypted=True.", tags=["ec2", "encryption", "awsguard:encrypted-volumes",
                                                                    "checkov:CKV_AWS_8"]),
]
