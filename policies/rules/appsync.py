"""AppSync GraphQL APIs: request logging and no API-key-only access."""
from __future__ import annotations

from pulumi_policy import Severity

from ._compliance import nist
from ._lib import get, items, rule

GRAPHQL_API = "aws:appsync/graphQLApi:GraphQLApi"


@rule("appsync-request-logging", "AppSync GraphQL APIs must log requests to CloudWatch Logs (field level ERROR "
      "or ALL).", types=(GRAPHQL_API,), severity=Severity.MEDIUM, framework=nist("AU-2"),
      refs={"cdk-nag": "AwsSolutions-ASC3", "checkov": "CKV_AWS_193"},
      steps="Set log_config={field_log_level: 'ERROR' (or 'ALL'), cloudwatch_logs_role_arn: <role>}.",
      tags=["appsync", "logging"])
def _appsync_logging(props, report, args):
    level = get(props, "logConfig.fieldLogLevel", "NONE")
    if level not in ("ERROR", "ALL", "INFO", "DEBUG"):
        report(f"logConfig.fieldLogLevel is {level!r}: set ERROR or ALL (requests are otherwise not logged).")


@rule("appsync-no-api-key-auth", "AppSync GraphQL APIs must not rely on API keys alone (a shared secret that "
      "names no caller).", types=(GRAPHQL_API,), severity=Severity.HIGH, framework=nist("IA-2"),
      steps="Use AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT, AWS_IAM or AWS_LAMBDA authentication.",
      tags=["appsync", "access"])
def _appsync_auth(props, report, args):
    modes = [get(props, "authenticationType")] + [get(p, "authenticationType")
                                                  for p in items(get(props, "additionalAuthenticationProviders"))]
    if all(m == "API_KEY" for m in modes):
        report("authenticationType is API_KEY with no other provider: every caller shares one key.")
