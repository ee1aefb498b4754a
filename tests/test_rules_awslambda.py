"""Tests for policies/rules/awslambda.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import json

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

LAMBDA = "aws:lambda/function:Function"

ROLE = "aws:iam/role:Role"

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

MANAGED = "aws:iam/policy:Policy"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- Lambda ------------------------------------------------------------------------------------------
def _fn(name="fn", **props):
    base = {"tracingConfig": {"mode": "Active"}, "deadLetterConfig": {"targetArn": "arn:aws:sqs:us-east-1:1:dlq"},
            "role": "arn:aws:iam::1:role/r"}
    return rec(LAMBDA, name, {**base, **props}, deps=["role"], prop_deps={"role": ["role"]})


def _doc(*actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions),
                                                               "Resource": "*"}]})


ROLE_REC = rec(ROLE, "role", {"assumeRolePolicy": "{}"})

S3_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"


def test_lambda_tracing_violation():
    r = check([ROLE_REC, _fn(tracingConfig={"mode": "PassThrough"}), _fn("none", tracingConfig=None)])
    assert names(r, "lambda-tracing-active") == ["fn", "none"]


def test_lambda_tracing_pass():
    assert names(check([ROLE_REC, _fn()]), "lambda-tracing-active") == []


def test_lambda_tracing_preview_unknown_role_still_decides():
    r = check([ROLE_REC, _fn(role=UNKNOWN)])
    assert names(r, "lambda-tracing-active") == [] and not skipped(r, "lambda-tracing-active")


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


@pytest.mark.parametrize("runtime,expected", [("python3.8", True), ("nodejs16.x", True), ("python3.12", False),
                                              ("nodejs20.x", False)])
def test_lambda_runtime_supported(runtime, expected):
    r = check([ROLE_REC, _fn(runtime=runtime)])
    assert (names(r, "lambda-runtime-supported") == ["fn"]) is expected


def test_lambda_runtime_preview_and_container_images():
    r = check([ROLE_REC, _fn(runtime=UNKNOWN), _fn("img", packageType="Image", runtime=None)])
    assert names(r, "lambda-runtime-supported") == []
    assert {s.urn.split("::")[-1] for s in skipped(r, "lambda-runtime-supported")} == {"fn"}


# --- issue 31: function URLs, service principals without a source, secrets in the environment -----------------
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
PERMISSION = "aws:lambda/permission:Permission"


def test_function_url_without_auth_is_reported_and_iam_auth_passes():
    r = check([rec(FUNCTION_URL, "open", {"functionName": UNKNOWN, "authorizationType": "NONE"}),
               rec(FUNCTION_URL, "signed", {"functionName": UNKNOWN, "authorizationType": "AWS_IAM"})])
    found = violations(r, "lambda-function-url-auth")
    assert [v.urn.split("::")[-1] for v in found] == ["open"] and "'NONE'" in found[0].message
    assert not skipped(r, "lambda-function-url-auth")


def test_service_principal_permission_needs_a_source():
    r = check([
        rec(PERMISSION, "s3-any", {"action": "lambda:InvokeFunction", "function": "f", "principal": "s3.amazonaws.com"}),
        rec(PERMISSION, "events-arn", {"action": "lambda:InvokeFunction", "function": "f",
                                       "principal": "events.amazonaws.com", "sourceArn": UNKNOWN}),
        rec(PERMISSION, "s3-account", {"action": "lambda:InvokeFunction", "function": "f",
                                       "principal": "s3.amazonaws.com", "sourceAccount": "123456789012"}),
        rec(PERMISSION, "account", {"action": "lambda:InvokeFunction", "function": "f", "principal": "123456789012"}),
        rec(PERMISSION, "sns-empty", {"action": "lambda:InvokeFunction", "function": "f",
                                      "principal": "sns.amazonaws.com", "sourceArn": ""}),
        rec(PERMISSION, "s3-arn-only", {"action": "lambda:InvokeFunction", "function": "f",
                                        "principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::uploads"}),
        rec(PERMISSION, "s3-both", {"action": "lambda:InvokeFunction", "function": "f", "principal": "s3.amazonaws.com",
                                    "sourceArn": UNKNOWN, "sourceAccount": UNKNOWN}),
    ])
    assert names(r, "lambda-permission-source-restricted") == ["s3-any", "s3-arn-only", "sns-empty"]
    assert not skipped(r, "lambda-permission-source-restricted")
    [v] = [v for v in violations(r, "lambda-permission-source-restricted") if v.urn.endswith("s3-any")]
    assert "confused deputy" in v.message and v.level == "mandatory"


RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def _env_fn(name, variables, deps=()):
    return rec(LAMBDA, name, {"runtime": "python3.12", "role": "arn:aws:iam::1:role/r",
                              "environment": {"variables": variables}},
               deps=list(deps), prop_deps={"environment": list(deps)} if deps else None)


def test_literal_secrets_in_the_environment_are_reported():
    r = check([
        _env_fn("access-key", {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "REGION": "us-east-1"}),
        _env_fn("password", {"DB_PASSWORD": "hunter2hunter2"}),
        _env_fn("github", {"CONFIG": "token ghp_" + "a" * 36}),
        _env_fn("url-creds", {"DATABASE": "postgres://app:s3cretpass@db.internal:5432/app"}),
        _env_fn("references", {"DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:db",
                               "API_TOKEN_PARAM": "/app/token", "TOKEN_URL": "https://auth.example.com/token",
                               "SECRET_NAME": "app/db", "PASSWORD_POLICY": "strict", "TABLE": "orders",
                               "API_KEY_HEADER": "x-api-key", "AUTH_TOKEN_HEADER": "Authorization",
                               "SESSION_TOKEN_TTL": "86400000", "JWT_SECRET_ALGORITHM": "HS256-strict"}),
    ])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "lambda-env-no-secrets")}
    assert set(found) == {"access-key", "password", "github", "url-creds"}
    assert "AWS_ACCESS_KEY_ID holds an AWS access key id" in found["access-key"]
    assert "DB_PASSWORD holds a literal value" in found["password"]
    assert all(v.level == "mandatory" for v in violations(r, "lambda-env-no-secrets"))


def test_computed_secrets_are_judged_by_their_source_in_a_preview():
    """In a new stack's preview the values are unknown: a variable taken from a generated password or an access key
    is a secret in clear; a secret's ARN (a reference) is not."""
    r = check([
        rec(RANDOM_PASSWORD, "pw", {"length": 32}),
        rec(ACCESS_KEY, "key", {"user": "ci"}),
        rec(SECRET_VERSION, "version", {"secretId": UNKNOWN, "secretString": UNKNOWN}),
        _env_fn("from-password", {"DB_PASSWORD": UNKNOWN}, deps=["pw"]),
        _env_fn("from-key", {"AWS_SECRET_ACCESS_KEY": UNKNOWN}, deps=["key"]),
        _env_fn("version-arn", {"DB_SECRET_ARN": UNKNOWN}, deps=["version"]),
        _env_fn("version-value", {"DB_SECRET": UNKNOWN}, deps=["version"]),
        _env_fn("whole-env-unknown", UNKNOWN, deps=["pw"]),
    ])
    assert names(r, "lambda-env-no-secrets") == ["from-key", "from-password", "version-value", "whole-env-unknown"]
    assert not skipped(r, "lambda-env-no-secrets")
