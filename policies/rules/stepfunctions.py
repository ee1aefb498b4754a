"""Step Functions state machines: execution logging and X-Ray tracing."""
from __future__ import annotations

from pulumi_policy import Severity

from ._compliance import nist
from ._lib import flag, get, rule

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


@rule("sfn-logging-all", "Step Functions state machines must log ALL execution events to CloudWatch Logs.",
      types=(STATE_MACHINE,), severity=Severity.MEDIUM, framework=nist("AU-2"),
      refs={"cdk-nag": "AwsSolutions-SF1", "checkov": "CKV_AWS_285"},
      steps="Set logging_configuration={level: 'ALL', include_execution_data: True, "
            "log_destination: f'{log_group.arn}:*'}.", tags=["stepfunctions", "logging"])
def _sfn_logging(props, report, args):
    level = get(props, "loggingConfiguration.level", "OFF")
    if level != "ALL":
        report(f"loggingConfiguration.level is {level!r}: set ALL (with a logDestination).")
    elif not get(props, "loggingConfiguration.logDestination"):
        report("loggingConfiguration.level is ALL but logDestination is not set.")


@rule("sfn-xray-tracing", "Step Functions state machines must have X-Ray tracing enabled.",
      types=(STATE_MACHINE,), severity=Severity.LOW, framework=nist("AU-12"),
      refs={"cdk-nag": "AwsSolutions-SF2", "checkov": "CKV_AWS_284"},
      steps="Set tracing_configuration={enabled: True} (the role needs xray:PutTraceSegments).",
      tags=["stepfunctions", "observability"])
def _sfn_tracing(props, report, args):
    if flag(props, "tracingConfiguration.enabled") is not True:
        report("tracingConfiguration.enabled must be true.")
