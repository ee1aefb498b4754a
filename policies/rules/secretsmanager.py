"""Secrets Manager: customer managed keys, rotation, recovery window."""
from __future__ import annotations

import re

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import is_set, is_unknown, nist
from ._lib import depends_on, flag, fsbp, get, resource_policy, stack_policy

SECRET = "aws:secretsmanager/secret:Secret"

ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"

AWS_MANAGED = ("alias/aws/secretsmanager",)


def _customer_key(props, report, args):
    # An unknown kmsKeyId is another resource's output: a key (or alias) the program creates, never the
    # literal AWS-managed alias, so presence is enough and no preview notice is needed.
    if not is_set(props, "kmsKeyId"):
        report("kmsKeyId is not set: the secret uses the AWS managed key aws/secretsmanager, whose key policy "
               "cannot restrict who decrypts.")
        return
    if is_unknown(props, "kmsKeyId"):
        return
    value = get(props, "kmsKeyId")
    if str(value) in AWS_MANAGED or str(value).endswith(":alias/aws/secretsmanager"):
        report("kmsKeyId names the AWS managed key; use a customer managed key.")


def _recovery_window(props, report, args):
    minimum = int((args.get_config() or {}).get("minimumRecoveryWindowDays", 7))
    days = get(props, "recoveryWindowInDays", 30)
    if days < minimum:
        report(f"recoveryWindowInDays {days} is below {minimum}: a deleted secret could not be restored"
               + (" (0 deletes immediately)." if days == 0 else "."))


def _rotation_period(props, report, args):
    max_days = int((args.get_config() or {}).get("maximumRotationDays", 90))
    if flag(props, "rotationEnabled", True) is False:
        report("rotationEnabled is false.")
        return
    days = get(props, "rotationRules.automaticallyAfterDays")
    if days is None:
        expr = get(props, "rotationRules.scheduleExpression") or ""
        match = re.fullmatch(r"rate\((\d+) (day|days|hour|hours)\)", str(expr).strip())
        if not match:
            if expr:
                args.not_applicable(f"scheduleExpression {expr!r} is a cron expression; its period is not checked")
            report("rotationRules needs automaticallyAfterDays or a scheduleExpression.")
            return
        days = int(match.group(1)) / (24 if match.group(2).startswith("hour") else 1)
    if days > max_days:
        report(f"rotation every {days:g} days exceeds {max_days}.")


def _rotation_exists(resources, report, args):
    secrets = [r for r in resources if r.resource_type == SECRET]
    rotations = [r for r in resources if r.resource_type == ROTATION]
    exempt = list((args.get_config() or {}).get("exemptNamePatterns", []))
    for secret in secrets:
        if any(re.search(p, secret.name) for p in exempt):
            continue
        if not any(depends_on(rot, secret, "secretId") or depends_on(rot, secret) for rot in rotations):
            report(f"secret {secret.name} has no aws.secretsmanager.SecretRotation (automatic rotation).", secret.urn)


POLICIES = [
    resource_policy(
        "secretsmanager-secret-customer-key", "Secrets Manager secrets must be encrypted with a customer managed "
        "KMS key.", (SECRET,), _customer_key, severity=Severity.MEDIUM, framework=nist("SC-28"),
        remediation="Set kmsKeyId to a customer managed key whose policy names the readers.",
        tags=["encryption", "secrets", "checkov:CKV_AWS_149",
              "compliance-policies:aws-secretsmanager-secret-configure-customer-managed-key"]),
    resource_policy(
        "secretsmanager-secret-recovery-window", "Deleted secrets must stay recoverable for a minimum window.",
        (SECRET,), _recovery_window, severity=Severity.LOW, framework=nist("CP-9"),
        remediation="Leave recoveryWindowInDays at 7-30 (0 deletes at once).",
        tags=["resilience", "secrets"],
        config_schema=PolicyConfigSchema(properties={
            "minimumRecoveryWindowDays": {"type": "integer", "minimum": 0, "maximum": 30, "default": 7}})),
    resource_policy(
        "secretsmanager-rotation-period", "Secret rotation schedules must rotate at least every N days.",
        (ROTATION,), _rotation_period, severity=Severity.MEDIUM, framework=fsbp("SecretsManager.4"),
        remediation="Set rotationRules.automaticallyAfterDays (or a rate() schedule) at or below the maximum.",
        tags=["secrets", "rotation", "checkov:CKV_AWS_304"],
        config_schema=PolicyConfigSchema(properties={
            "maximumRotationDays": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 90}})),
    stack_policy(
        "secretsmanager-secret-rotation-enabled", "Secrets should rotate automatically (a SecretRotation with a "
        "rotation Lambda exists for each secret).", _rotation_exists, severity=Severity.MEDIUM,
        framework=fsbp("SecretsManager.1"),
        remediation="Add aws.secretsmanager.SecretRotation(secret_id=secret.id, rotation_lambda_arn=..., "
                    "rotation_rules={'automatically_after_days': 30}); exempt secrets rotated out of band by name.",
        tags=["secrets", "rotation", "cdk-nag:AwsSolutions-SMG4", "checkov:CKV2_AWS_57"],
        config_schema=PolicyConfigSchema(properties={
            "exemptNamePatterns": {"type": "array", "items": {"type": "string"}, "default": [],
                                   "description": "regexes on the resource name of secrets rotated out of band"}}),
        types=('aws:secretsmanager/secret:Secret', 'aws:secretsmanager/secretRotation:SecretRotation')),
]
