"""Tests for policies/rules/stepfunctions.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, case_table

SM = "aws:sfn/stateMachine:StateMachine"

GOOD = {"loggingConfiguration": {"level": "ALL", "includeExecutionData": True, "logDestination": "arn:x:*"},
        "tracingConfiguration": {"enabled": True}}

CASES = [
    ("sfn-logging-all", "sm-nolog", SM, {"tracingConfiguration": {"enabled": True}}, "violation"),
    ("sfn-logging-all", "sm-errors-only", SM, {**GOOD, "loggingConfiguration": {"level": "ERROR",
                                                                                "logDestination": "arn:x:*"}},
     "violation"),
    ("sfn-logging-all", "sm-good", SM, GOOD, "pass"),
    ("sfn-logging-all", "sm-log-preview", SM, {**GOOD, "loggingConfiguration": {"level": UNKNOWN}}, "skipped"),
    ("sfn-xray-tracing", "sm-notrace", SM, {"loggingConfiguration": GOOD["loggingConfiguration"]}, "violation"),
    ("sfn-xray-tracing", "sm-trace-string-false", SM, {**GOOD, "tracingConfiguration": {"enabled": "false"}},
     "violation"),
    ("sfn-xray-tracing", "sm-good2", SM, GOOD, "pass"),
    ("sfn-xray-tracing", "sm-trace-preview", SM, {**GOOD, "tracingConfiguration": {"enabled": UNKNOWN}}, "skipped"),
]


test_case = case_table(CASES)
