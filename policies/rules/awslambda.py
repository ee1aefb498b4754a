"""Lambda: deprecated runtimes, tracing, dead-letter handling for asynchronously invoked functions,
execution roles without wildcard actions."""
from __future__ import annotations

import re

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
        tags=["compliance-policies:aws-lambda-function-enable-tracing-config",
              "compliance-policies:aws-lambda-function-configure-tracing-config",
              "lambda", "observability", "checkov:CKV_AWS_50"]),
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


# --- resource-based access (issue 31): function URLs, service principals without a source ---------------------
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"


def _function_url_auth(props, report, args):
    auth = get(props, "authorizationType")
    if auth != "AWS_IAM":
        report(f"authorizationType is {auth!r}: anyone on the internet can invoke the function through its URL; "
               f"use 'AWS_IAM' (callers sign requests) and put a public endpoint behind API Gateway or CloudFront.")


rule("lambda-function-url-auth", "Lambda function URLs must require IAM authentication (authorizationType "
     "AWS_IAM, not NONE).", types=(FUNCTION_URL,), severity=Severity.HIGH,
     refs={"checkov": "CKV_AWS_258", "fsbp": "Lambda.1"},
     steps="authorization_type='AWS_IAM'; expose a public API through API Gateway with an authorizer instead.",
     tags=["lambda", "exposure", "resource-policy"])(_function_url_auth)


def _is_service_principal(principal) -> bool:
    return isinstance(principal, str) and (principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"))


def _permission_source(props, report, args):
    from ._compliance import is_set
    principal = get(props, "principal")
    if not _is_service_principal(principal):
        return  # accounts and roles name the caller; '*' is resource-policy-not-public's
    if not any(is_set(props, k) for k in ("sourceArn", "sourceAccount")):
        report(f"principal {principal} with neither sourceArn nor sourceAccount: any {principal} resource of any "
               f"account can invoke the function (confused deputy).")
    elif principal.startswith("s3.") and not is_set(props, "sourceAccount"):
        report("principal s3.amazonaws.com with sourceArn but no sourceAccount: bucket ARNs carry no account, so a "
               "bucket of that name in another account (after this one is deleted) could invoke the function.")


rule("lambda-permission-source-restricted", "Lambda permissions for an AWS service principal must name the "
     "source (sourceArn or sourceAccount).", types=(LAMBDA_PERMISSION,), severity=Severity.HIGH,
     refs={"checkov": "CKV_AWS_364", "pulumi": "aws-lambda-permission-configure-source-arn", "fsbp": "Lambda.1"},
     steps="source_arn=<the bucket/rule/topic ARN> (and source_account for S3, whose ARNs carry no account).",
     tags=["lambda", "exposure", "confused-deputy"])(_permission_source)


# --- secrets in clear in a function's environment (issue 31, issue 27) ---------------------------------------
SECRET_VALUE_PATTERNS = (
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY")),
    ("a GitHub token", re.compile(r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe secret key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("credentials in a URL", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)),
)
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)",
                         re.IGNORECASE)
# A name that says the value is a pointer to a secret, not the secret itself.
# Also names that describe a secret's handling rather than hold it (header names, lengths, lifetimes, modes).
REFERENCE_NAME = re.compile(r"(_ARN|_ID|_NAME|_PATH|_PARAM(ETER)?|_URL|_URI|_REF|_FILE|_ENDPOINT|_VERSION|_KEY_ID"
                            r"|_HEADER|_LENGTH|_TTL|_TIMEOUT|_TYPE|_FIELD|_PREFIX|_ENABLED|_MODE|_POLICY|_REGION"
                            r"|_ALGORITHM|_ISSUER|_AUDIENCE|_EXPIRY|_EXPIRES|_DAYS|_SECONDS)$", re.IGNORECASE)
REFERENCE_VALUE = re.compile(r"^(arn:|/|\{\{resolve:|ssm:|secretsmanager:|s3://|https?://)")
# Resources whose outputs are secrets: a variable taken from one (under a name that is not a reference's, such as
# *_ARN) is a secret in clear. The first three hold nothing but secrets; a SecretVersion or SecureString parameter
# also gives ARNs and names, so those count only when a variable's name shows it took the value.
SECRET_SOURCES = {"random:index/randomPassword:RandomPassword": "a generated password",
                  "aws:iam/accessKey:AccessKey": "an IAM access key",
                  "tls:index/privateKey:PrivateKey": "a private key",
                  "aws:secretsmanager/secretVersion:SecretVersion": "a Secrets Manager secret value",
                  "aws:ssm/parameter:Parameter": "an SSM SecureString value"}
SECRET_ONLY_SOURCES = ("random:index/randomPassword:RandomPassword", "aws:iam/accessKey:AccessKey",
                       "tls:index/privateKey:PrivateKey")


def _raw_variables(fn):
    """The function's environment variables with unknown values kept as sentinels (an unknown value is judged by
    its name and where it comes from, never read). None when the whole block is unknown (a real preview makes a
    map with one unknown value wholly unknown)."""
    from pulumi_policy.proxy import UnknownValueError

    from ._compliance import raw
    try:
        env = fn.props["environment"] if "environment" in list(fn.props) else None
        variables = env["variables"] if env is not None and "variables" in list(env) else None
    except UnknownValueError:
        return None
    if variables is None:
        return {}
    out = raw(variables)
    return out if isinstance(out, dict) else None


def literal_secrets(variables: dict) -> list[str]:
    """Why each known value looks like a secret in clear (empty: none)."""
    from pulumi_policy.proxy import _is_unknown
    found = []
    for name, value in sorted(variables.items()):
        if not isinstance(value, str) or _is_unknown(value):
            continue
        hit = next((what for what, pattern in SECRET_VALUE_PATTERNS if pattern.search(value)), None)
        if hit:
            found.append(f"{name} holds {hit}")
        elif (SECRET_NAME.search(name) and not REFERENCE_NAME.search(name) and len(value) >= 8
              and not REFERENCE_VALUE.match(value)):
            found.append(f"{name} holds a literal value under a secret's name")
    return found


def _lambda_env_secrets(resources, report, args):
    from pulumi_policy.proxy import _is_unknown
    by_urn = {r.urn: r for r in resources}
    for fn in resources:
        if fn.resource_type != LAMBDA:
            continue
        variables = _raw_variables(fn)
        problems = literal_secrets(variables or {})
        computed = None if variables is None else sorted(
            n for n, v in variables.items() if _is_unknown(v) and not REFERENCE_NAME.search(n))
        for dep in fn.property_dependencies.get("environment", []):
            source = by_urn.get(dep.urn, dep)
            what = SECRET_SOURCES.get(source.resource_type)
            if what is None:
                continue
            if source.resource_type == "aws:ssm/parameter:Parameter" and get(source.props, "type") != "SecureString":
                continue  # a plain String parameter holds configuration, not a secret
            if computed is None and source.resource_type in SECRET_ONLY_SOURCES:
                problems.append(f"a variable is taken from {what} ({source.name})")
            elif computed and (source.resource_type in SECRET_ONLY_SOURCES
                               or any(SECRET_NAME.search(n) for n in computed)):
                problems.append(f"{', '.join(computed)} taken from {what} ({source.name})")
        if problems:
            report(f"function {fn.name} has secrets in clear in its environment ({'; '.join(problems)}): anyone "
                   f"with lambda:GetFunctionConfiguration reads them. Pass the secret's ARN and read it at runtime "
                   f"(Secrets Manager / SSM SecureString, cached by the Parameters and Secrets extension).", fn.urn)


rule("lambda-env-no-secrets", "Lambda functions must not carry secrets in clear in their environment variables "
     "(access keys, tokens, passwords, private keys).", kind="stack",
     types=(LAMBDA,) + tuple(SECRET_SOURCES), severity=Severity.CRITICAL,
     refs={"checkov": ["CKV_AWS_45"]},
     steps="Store the value in Secrets Manager (or SSM SecureString), put its ARN in the environment "
           "(e.g. DB_SECRET_ARN) and grant the function secretsmanager:GetSecretValue on that ARN.",
     tags=["lambda", "secrets", "credentials"])(_lambda_env_secrets)
