"""Tests for policies/rules/cognito.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

POOL = "aws:cognito/userPool:UserPool"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- cognito ------------------------------------------------------------------------------------
STRONG = {"minimumLength": 14, "requireLowercase": True, "requireUppercase": True, "requireNumbers": True,
          "requireSymbols": True}


def test_password_policy_violations():
    r = check([rec(POOL, "none", {}), rec(POOL, "short", {"passwordPolicy": {**STRONG, "minimumLength": 8}}),
               rec(POOL, "nosym", {"passwordPolicy": {**STRONG, "requireSymbols": False}})])
    assert names(r, "cognito-password-policy") == ["none", "nosym", "short"]


def test_password_policy_passes():
    assert violations(check([rec(POOL, "p", {"passwordPolicy": STRONG})]), "cognito-password-policy") == []


def test_password_policy_preview_passes():
    r = check([rec(POOL, "p", {"passwordPolicy": STRONG, "name": "x", "lambdaConfig": UNKNOWN})])
    assert violations(r, "cognito-password-policy") == [] and not skipped(r, "cognito-password-policy")


def test_mfa_violation_optional_and_off():
    r = check([rec(POOL, "opt", {"mfaConfiguration": "OPTIONAL"}), rec(POOL, "off", {})])
    assert names(r, "cognito-mfa-required") == ["off", "opt"]


def test_mfa_advisory_level_does_not_block():
    r = check([rec(POOL, "opt", {"mfaConfiguration": "OPTIONAL"})], level="advisory")
    [v] = violations(r, "cognito-mfa-required")
    assert v.level == "advisory" and not r.mandatory


def test_mfa_passes_on_including_preview():
    r = check([rec(POOL, "on", {"mfaConfiguration": "ON", "softwareTokenMfaConfiguration": {"enabled": True},
                                "lambdaConfig": UNKNOWN})])
    assert violations(r, "cognito-mfa-required") == [] and not skipped(r, "cognito-mfa-required")


def test_cognito_email_through_ses_both_sides():
    from policy_harness import check, rec, violations
    pool = "aws:cognito/userPool:UserPool"
    ses = {"emailSendingAccount": "DEVELOPER", "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
           "fromEmailAddress": "no-reply@example.com"}
    r = check([rec(pool, "prod-default", {"tags": {"Environment": "prod"}}),
               rec(pool, "prod-cognito", {"tags": {"Environment": "prod"},
                                          "emailConfiguration": {"emailSendingAccount": "COGNITO_DEFAULT"}}),
               rec(pool, "prod-ses", {"tags": {"Environment": "prod"}, "emailConfiguration": ses}),
               rec(pool, "dev-default", {"tags": {"Environment": "dev"}})])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "cognito-email-through-ses")) == [
        "prod-cognito", "prod-default"]
