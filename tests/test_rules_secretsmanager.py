"""Tests for policies/rules/secretsmanager.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import (
    UNKNOWN,
    case_table,
    check,
    names,
    not_applicable,
    rec,
    skipped,
    violations,
)

S, ROT = "aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretRotation:SecretRotation"

S, ROT = "aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretRotation:SecretRotation"

CASES = [
    ("secretsmanager-secret-customer-key", "s-default-key", S, {"name": "a"}, "violation"),
    ("secretsmanager-secret-customer-key", "s-aws-alias", S, {"kmsKeyId": "alias/aws/secretsmanager"}, "violation"),
    ("secretsmanager-secret-customer-key", "s-cmk", S, {"kmsKeyId": "arn:aws:kms:us-east-1:1:key/k"}, "pass"),
    # the key is another resource's output in a new stack's preview: a customer key, decided without its value
    ("secretsmanager-secret-customer-key", "s-cmk-preview", S, {"kmsKeyId": UNKNOWN, "name": "x"}, "pass"),
    ("secretsmanager-secret-recovery-window", "s-force-delete", S, {"kmsKeyId": "k", "recoveryWindowInDays": 0},
     "violation"),
    ("secretsmanager-secret-recovery-window", "s-window", S, {"kmsKeyId": "k", "recoveryWindowInDays": 7}, "pass"),
    ("secretsmanager-secret-recovery-window", "s-window-preview", S, {"kmsKeyId": UNKNOWN}, "pass"),
    ("secretsmanager-secret-recovery-window", "s-window-unknown", S, {"kmsKeyId": "k",
                                                                     "recoveryWindowInDays": UNKNOWN}, "skipped"),
    ("secretsmanager-rotation-period", "rot-slow", ROT, {"secretId": "s",
                                                         "rotationRules": {"automaticallyAfterDays": 365}}, "violation"),
    ("secretsmanager-rotation-period", "rot-rate-slow", ROT, {"secretId": "s",
                                                              "rotationRules": {"scheduleExpression": "rate(120 days)"}},
     "violation"),
    ("secretsmanager-rotation-period", "rot-disabled", ROT, {"secretId": "s", "rotationEnabled": False,
                                                             "rotationRules": {"automaticallyAfterDays": 30}}, "violation"),
    ("secretsmanager-rotation-period", "rot-ok", ROT, {"secretId": "s", "rotationRules": {"automaticallyAfterDays": 30}},
     "pass"),
    ("secretsmanager-rotation-period", "rot-hours", ROT, {"secretId": "s",
                                                          "rotationRules": {"scheduleExpression": "rate(4 hours)"}}, "pass"),
    ("secretsmanager-rotation-period", "rot-preview", ROT, {"secretId": UNKNOWN, "rotationLambdaArn": UNKNOWN,
                                                            "rotationRules": {"automaticallyAfterDays": 30}}, "pass"),
]

_names = names


test_case = case_table(CASES)


def test_cron_schedules_are_not_applicable_not_passed():
    r = check([rec(ROT, "cron", {"secretId": "s", "rotationRules": {"scheduleExpression": "cron(0 4 ? * SUN *)"}})])
    assert not_applicable(r, "secretsmanager-rotation-period") and not violations(r, "secretsmanager-rotation-period")


def test_rotation_enabled_is_a_stack_join_by_urn():
    records = [rec(S, "rotated", {"kmsKeyId": UNKNOWN}), rec(S, "static", {"kmsKeyId": UNKNOWN}),
               rec(S, "exempt-token", {"kmsKeyId": UNKNOWN}),
               rec("aws:lambda/function:Function", "rotator", {"runtime": "python3.12"}),
               # preview of a new stack: secretId and the Lambda ARN are unknown; the URN dependency still joins
               rec(ROT, "rotation", {"secretId": UNKNOWN, "rotationLambdaArn": UNKNOWN,
                                     "rotationRules": {"automaticallyAfterDays": 30}},
                   prop_deps={"secretId": ["rotated"], "rotationLambdaArn": ["rotator"]})]
    r = check(records, config={"secretsmanager-secret-rotation-enabled": {"exemptNamePatterns": ["^exempt-"]}})
    assert _names(violations(r, "secretsmanager-secret-rotation-enabled")) == {"static"}
    assert not skipped(r, "secretsmanager-secret-rotation-enabled")
