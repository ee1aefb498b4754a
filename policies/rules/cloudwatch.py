"""CloudWatch: alarms on load balancers and databases; log groups encrypted with a retention."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import LOAD_BALANCERS, depends_on, fsbp, get, resource_policy, stack_policy
from ._shared import (
    DEFAULT_ENVIRONMENTS,
    ENV_SCHEMA,
    RDS_CLUSTER,
    RDS_INSTANCE,
    _in_scope,
    has_key,
)

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

DATABASES = (RDS_INSTANCE, RDS_CLUSTER, "aws:docdb/cluster:Cluster")

DEFAULT_MIN_RETENTION = 7


def _log_group(props, report, args):
    minimum = int((args.get_config() or {}).get("minRetentionDays", DEFAULT_MIN_RETENTION))
    if not has_key(props, "kmsKeyId"):
        report("kmsKeyId must be set: log groups are encrypted with the logs KMS key.")
    retention = get(props, "retentionInDays")
    if retention is None or retention == 0:
        report("retentionInDays must be set: a log group that never expires grows without bound.")
    elif retention < minimum:
        report(f"retentionInDays is {retention}; at least {minimum} days are required.")


def _alarms(resources, report, args):
    environments = list((args.get_config() or {}).get("environments", DEFAULT_ENVIRONMENTS))
    alarms = [r for r in resources if r.resource_type == METRIC_ALARM]
    for res in resources:
        if res.resource_type not in LOAD_BALANCERS + DATABASES or not _in_scope(res, environments):
            continue
        if not any(depends_on(a, res, "dimensions") for a in alarms):
            report(f"{res.resource_type.split(':')[-1]} {res.name} has no CloudWatch MetricAlarm whose dimensions "
                   f"come from it.", res.urn)


POLICIES = [
    resource_policy(
        "log-group-encrypted-with-retention",
        "CloudWatch log groups must be KMS-encrypted and expire after a retention of at least the minimum.",
        (LOG_GROUP,), _log_group, severity=Severity.MEDIUM, framework=fsbp("CloudWatch.16"),
        remediation="Set kmsKeyId to the logs key and retentionInDays (app 30, audit 90+ days by default).",
        tags=["checkov:CKV_AWS_66", "checkov:CKV_AWS_158",
              "logging", "encryption"],
        config_schema=PolicyConfigSchema(properties={
            "minRetentionDays": {"type": "integer", "default": DEFAULT_MIN_RETENTION}})),
    stack_policy(
        "alarms-for-load-balancers-and-databases",
        "Every load balancer and database must have at least one CloudWatch alarm watching it.",
        _alarms, severity=Severity.MEDIUM,
        remediation="Pass the resource's outputs (arn_suffix, identifier) to the observability tier.",
        tags=["monitoring"],
        config_schema=PolicyConfigSchema(properties={"environments": ENV_SCHEMA}),
        types=('aws:cloudwatch/metricAlarm:MetricAlarm', 'aws:lb/loadBalancer:LoadBalancer',
               'aws:alb/loadBalancer:LoadBalancer', 'aws:rds/instance:Instance', 'aws:rds/cluster:Cluster',
               'aws:docdb/cluster:Cluster')),
]
