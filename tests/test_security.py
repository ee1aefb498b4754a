"""Security tier: keys per purpose with rotation and service grants, least-privilege roles, secrets."""
from __future__ import annotations

import json

import pytest

from conftest import primary_plan as stack_plan
from policies.rules.iam import full_admin_statements

KEY = "aws:kms/key:Key"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_three_rotating_keys_with_policies(stack):
    plan = stack_plan(stack, False)
    keys = {r.name: r for r in plan.of_type(KEY) if "ai-platform:tier:Security$" in r.urn}
    assert set(keys) == {"data-key", "logs-key", "secrets-key"}
    for key in keys.values():
        assert key.props["enableKeyRotation"] is True
        assert key.props["deletionWindowInDays"] == (30 if stack == "prod" else 7)
    logs_policy = json.loads(keys["logs-key"].props["policy"])
    [grant] = [s for s in logs_policy["Statement"] if s["Sid"] == "CloudWatchLogsUseKey"]
    assert grant["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert grant["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"].startswith("arn:aws:logs:us-east-1:123456789012:")


def test_keys_are_protected_in_prod_only():
    for key in stack_plan("prod", False).of_type(KEY):
        assert key.options["protect"] and key.options["retainOnDelete"], key.name
    for key in stack_plan("dev", False).of_type(KEY):
        if "ai-platform:tier:Security$" in key.urn:
            assert not key.options["protect"]


def test_roles_trust_one_service_in_this_account():
    plan = stack_plan("dev", False)
    # issue 12: each service has its own execution role (application tier); ecs-task-role is Batch's job role
    expected = {"classification-execution": "ecs-tasks.amazonaws.com", "ecs-task-role": "ecs-tasks.amazonaws.com",
                "lambda-role": "lambda.amazonaws.com", "sagemaker-role": "sagemaker.amazonaws.com",
                "flow-logs-role": "vpc-flow-logs.amazonaws.com"}
    for name, service in expected.items():
        [st] = json.loads(plan.named(name, "aws:iam/role:Role").props["assumeRolePolicy"])["Statement"]
        assert st["Principal"] == {"Service": service}
        assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_no_policy_grants_everything_and_execution_role_reads_only_app_secrets():
    plan = stack_plan("prod", False)
    for rp in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        assert full_admin_statements(json.loads(rp.props["policy"])) == []
    # issue 12: a service's execution role reads exactly the secrets injected into it (name-based patterns)
    doc = json.loads(plan.named("classification-execution-secrets").props["policy"])
    read = next(s for s in doc["Statement"] if s["Sid"] == "ReadInjectedSecrets")
    assert sorted(read["Resource"]) == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ai-platform/prod/jwt-signing-secret-??????"]
    doc = json.loads(plan.named("search-execution-secrets").props["policy"])
    read = next(s for s in doc["Statement"] if s["Sid"] == "ReadInjectedSecrets")
    assert sorted(read["Resource"]) == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ai-platform/prod/jwt-signing-secret-??????",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ai-platform/prod/redis-auth-??????"]
    # prod (dr.mode pilot-light): the DR region's own per-service execution roles read the secrets' replicas
    # there and the DR standby cache's own AUTH token (and decrypt them only through Secrets Manager in the DR region)
    import conftest
    full = conftest.stack_plan("prod", False)
    primary_urns = {r.urn for r in plan.resources}
    [dr_policy] = [r for r in full.resources if r.name == "search-execution-secrets" and r.urn not in primary_urns]
    doc = json.loads(dr_policy.props["policy"])
    read = next(s for s in doc["Statement"] if s["Sid"] == "ReadInjectedSecrets")
    assert sorted(read["Resource"]) == [
        "arn:aws:secretsmanager:us-west-2:123456789012:secret:ai-platform/prod/jwt-signing-secret-??????",
        "arn:aws:secretsmanager:us-west-2:123456789012:secret:ai-platform/prod/redis-auth-??????"]
    decrypt = next(s for s in doc["Statement"] if s["Sid"] == "DecryptInjectedSecrets")
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.us-west-2.amazonaws.com"


def test_iam_policies_are_decidable_in_a_new_stack_preview():
    """ARNs are built from known names + the account id (an invoke, known in preview)."""
    plan = stack_plan("prod", True)
    mine = [rp for rp in plan.of_type("aws:iam/rolePolicy:RolePolicy")
            if "tier:Security$" in rp.urn or "tier:Network$" in rp.urn or "tier:Application$" in rp.urn]
    # not vacuous: a service execution role's secrets policy, SageMaker's logs policy and the flow-log delivery policy
    assert {rp.name for rp in mine} >= {"classification-execution-secrets", "sagemaker-logs", "flow-logs-delivery"}
    for rp in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        # Except a service's rds-db:connect grant: its ARN names the instance's resource id, which AWS computes
        # (issue 12: IAM DB auth on the exact instance rather than a wildcard any dev role could use on prod).
        if rp.name.endswith("-task-db"):
            continue
        json.loads(rp.props["policy"])  # a known JSON string, not the unknown sentinel


def test_secrets_use_the_secrets_key_and_carry_no_plain_value():
    plan = stack_plan("prod", False)
    secrets_key = plan.named("secrets-key").urn
    for secret in plan.of_type("aws:secretsmanager/secret:Secret"):
        assert secret.propertyDependencies["kmsKeyId"] == [secrets_key]
        assert secret.props["name"].startswith("ai-platform/prod/")
        assert secret.props["recoveryWindowInDays"] == 30
    version = plan.named("secret-jwt-signing-secret-initial")
    assert version.options["ignoreChanges"] == ["secretString"]
    assert version.inputs["secretString"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
