"""The alarm recipe: a CloudWatch metric alarm that notifies the alerts topic on ALARM and on OK, so an
incident opens and closes in the same channel. Names come from the naming helper (kind "alarm")."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from ..context import Platform

COMPARISONS = {">": "GreaterThanThreshold", "<": "LessThanThreshold", ">=": "GreaterThanOrEqualToThreshold"}
SEVERITIES = ("critical", "warning")
DEFAULT_PERIOD_SECONDS = 300


def metric_alarm(parent: pulumi.Resource, platform: Platform, logical_name: str, key: str, *, namespace: str,
                 metric: str, dimensions: Mapping[str, pulumi.Input[str]], op: str, threshold: float,
                 actions: Sequence[pulumi.Input[str]], description: str, statistic: str | None = None,
                 extended_statistic: str | None = None, periods: int = 1,
                 period: int = DEFAULT_PERIOD_SECONDS, datapoints: int | None = None,
                 missing: str = "missing", severity: str | None = None,
                 actions_enabled: pulumi.Input[bool] | None = None) -> aws.cloudwatch.MetricAlarm:
    """`key` names the alarm `{project}-{stack}-{key}`; `datapoints` defaults to every period breaching.
    `severity` ("critical": pages, "warning": informs; docs/paging.md) is the alarm's Severity tag."""
    name = platform.namer.physical("alarm", key)
    tags = platform.tags(name, **({"Severity": severity} if severity else {}))
    return aws.cloudwatch.MetricAlarm(
        logical_name, name=name, alarm_description=description, namespace=namespace, metric_name=metric,
        dimensions=dict(dimensions), statistic=statistic, extended_statistic=extended_statistic,
        period=period, evaluation_periods=periods, datapoints_to_alarm=datapoints,
        threshold=threshold, comparison_operator=COMPARISONS[op], treat_missing_data=missing,
        alarm_actions=list(actions), ok_actions=list(actions), actions_enabled=actions_enabled, tags=tags,
        opts=pulumi.ResourceOptions(parent=parent))
