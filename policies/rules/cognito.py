"""Cognito user pools: password policy and MFA."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import flag, get, resource_policy
from ._shared import ENV_SCHEMA

USER_POOL = "aws:cognito/userPool:UserPool"


def _password_policy(props, report, args):
    min_len = int((args.get_config() or {}).get("minimumLength", 12))
    policy = get(props, "passwordPolicy")
    if policy is None:
        report(f"no passwordPolicy (Cognito's default is 8 characters); require {min_len}+ and every class.")
        return
    problems = []
    if (get(policy, "minimumLength") or 8) < min_len:
        problems.append(f"minimumLength < {min_len}")
    for key in ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"):
        if flag(policy, key) is not True:
            problems.append(f"{key} not true")
    if problems:
        report("weak password policy: " + "; ".join(problems) + ".")


def _mfa(props, report, args):
    mode = get(props, "mfaConfiguration", "OFF")
    if mode != "ON":
        report(f"mfaConfiguration is {mode!r}; MFA must be required (ON) for production user pools.")


def _email(props, report, args):
    """Production pools (Environment tag in `environments`) send through SES: Cognito's built-in e-mail sends about 50
    messages a day, so invitations and password resets stop arriving once a handful of users sign up."""
    environments = list((args.get_config() or {}).get("environments", ENV_SCHEMA["default"]))
    if get(props, "tags.Environment") not in environments:
        return
    if get(props, "emailConfiguration.emailSendingAccount", "COGNITO_DEFAULT") != "DEVELOPER" or \
            not get(props, "emailConfiguration.sourceArn"):
        report("emailConfiguration does not send through SES (emailSendingAccount DEVELOPER with a sourceArn): "
               "Cognito's built-in e-mail is limited to about 50 messages a day.")


POLICIES = [
    resource_policy("cognito-email-through-ses", "Production Cognito user pools send their e-mail through a verified "
                    "SES identity, not Cognito's built-in e-mail (about 50 messages a day).", (USER_POOL,), _email,
                    severity=Severity.MEDIUM,
                    remediation="Set edge.emailSourceArn (a verified SES identity) and edge.emailFrom in the stack "
                                "config: emailConfiguration DEVELOPER with that sourceArn.",
                    tags=["cognito", "operations", "identity"],
                    config_schema=PolicyConfigSchema(properties={"environments": ENV_SCHEMA})),
    resource_policy("cognito-password-policy", "Cognito user pools must require strong passwords.", (USER_POOL,),
                    _password_policy, severity=Severity.HIGH,
                    remediation="passwordPolicy: minimumLength >= 12 and require lowercase, uppercase, numbers, symbols.",
                    tags=["cdk-nag:AwsSolutions-COG1",
                          "cognito", "identity"],
                    config_schema=PolicyConfigSchema(properties={"minimumLength": {"type": "integer", "default": 12}})),
    resource_policy("cognito-mfa-required", "Cognito user pools must require MFA.", (USER_POOL,), _mfa,
                    severity=Severity.HIGH,
                    remediation="mfaConfiguration='ON' with softwareTokenMfaConfiguration.enabled (edge.mfa in config).",
                    tags=["cdk-nag:AwsSolutions-COG2",
                          "cognito", "identity"]),
]
