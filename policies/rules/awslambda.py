"""Lambda: deprecated runtimes, tracing, dead-letter handling for asynchronously invoked functions,
execution roles without wildcard actions."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import (
    as_list,
    fsbp,
    get,
    items,
    policy_document,
    resource_policy,
    rule,
    stack_policy,
    statements,
)
from ._shared import _deps, present

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

# AWS managed policies that grant '*' or service-wide '*' actions.
WILDCARD_MANAGED = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")

# Runtimes AWS has deprecated (no security patches; creation then update blocked), as of 2026-11:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtimes-deprecated . Configurable.
DEPRECATED_RUNTIMES = ["python2.7", "python3.6", "python3.7", "python3.8", "python3.9", "nodejs", "nodejs4.3",
                       "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
                       "nodejs18.x", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
                       "dotnet5.0", "dotnet6", "dotnet7", "ruby2.5", "ruby2.7", "ruby3.2", "go1.x", "provided"]


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


POLICIES = [
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
        types=('aws:lambda/function:Function', 'aws:iam/role:Role', 'aws:iam/policy:Policy',
               'aws:iam/rolePolicy:RolePolicy', 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
               'aws:iam/policyAttachment:PolicyAttachment')),
]
