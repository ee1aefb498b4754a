"""Tests for policies/rules/appsync.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, case_table

API = "aws:appsync/graphQLApi:GraphQLApi"

CASES = [
    ("appsync-request-logging", "gql-nolog", API, {"authenticationType": "AWS_IAM"}, "violation"),
    ("appsync-request-logging", "gql-log", API, {"authenticationType": "AWS_IAM",
                                                 "logConfig": {"fieldLogLevel": "ERROR"}}, "pass"),
    ("appsync-request-logging", "gql-preview", API, {"authenticationType": "AWS_IAM",
                                                     "logConfig": {"fieldLogLevel": UNKNOWN}}, "skipped"),
    ("appsync-no-api-key-auth", "gql-key", API, {"authenticationType": "API_KEY",
                                                 "logConfig": {"fieldLogLevel": "ALL"}}, "violation"),
    ("appsync-no-api-key-auth", "gql-key-and-cognito", API, {
        "authenticationType": "API_KEY", "logConfig": {"fieldLogLevel": "ALL"},
        "additionalAuthenticationProviders": [{"authenticationType": "AMAZON_COGNITO_USER_POOLS"}]}, "pass"),
    ("appsync-no-api-key-auth", "gql-auth-preview", API, {"authenticationType": UNKNOWN}, "skipped"),
]


test_case = case_table(CASES)
