"""Tests for policies/rules/cloudwatch.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

PROD = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}

KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

LB = "aws:lb/loadBalancer:LoadBalancer"

RDS = "aws:rds/instance:Instance"


def names(found) -> list[str]:
    return sorted(v.urn.split("::")[-1] for v in found)


# --- log-group-encrypted-with-retention ------------------------------------------------------
def test_log_group_unencrypted_never_expiring_or_too_short_is_reported():
    r = check([rec(LOG_GROUP, "plain", {"tags": PROD}),
               rec(LOG_GROUP, "forever", {"kmsKeyId": KEY, "retentionInDays": 0, "tags": PROD}),
               rec(LOG_GROUP, "short", {"kmsKeyId": KEY, "retentionInDays": 3, "tags": PROD})])
    found = violations(r, "log-group-encrypted-with-retention")
    assert names(found) == ["forever", "plain", "plain", "short"]
    assert any("at least 7" in v.message for v in found)


def test_log_group_encrypted_with_retention_passes_and_minimum_is_configurable():
    r = check([rec(LOG_GROUP, "lg", {"kmsKeyId": KEY, "retentionInDays": 30, "tags": PROD})])
    assert violations(r, "log-group-encrypted-with-retention") == []
    r = check([rec(LOG_GROUP, "lg", {"kmsKeyId": KEY, "retentionInDays": 30, "tags": PROD})],
              config={"log-group-encrypted-with-retention": {"minRetentionDays": 90}})
    assert "at least 90" in violations(r, "log-group-encrypted-with-retention")[0].message


def test_log_group_with_unknown_key_arn_passes_in_preview():
    r = check([rec(LOG_GROUP, "lg", {"kmsKeyId": UNKNOWN, "retentionInDays": 90, "tags": PROD})])
    assert violations(r, "log-group-encrypted-with-retention") == []
    assert skipped(r, "log-group-encrypted-with-retention") == []


# --- alarms-for-load-balancers-and-databases -------------------------------------------------
def test_load_balancer_and_database_without_alarm_are_reported():
    r = check([rec(LB, "alb", {"tags": PROD}), rec(RDS, "db", {"tags": PROD}),
               rec(ALARM, "unrelated", {"dimensions": {"QueueName": "q"}, "tags": PROD}, deps=["db"])])
    assert names(violations(r, "alarms-for-load-balancers-and-databases")) == ["alb", "db"]


def test_alarms_whose_dimensions_come_from_the_resources_pass():
    r = check([rec(LB, "alb", {"tags": PROD}), rec(RDS, "db", {"tags": PROD}),
               rec(ALARM, "lb-5xx", {"dimensions": {"LoadBalancer": "app/x/1"}, "tags": PROD},
                   prop_deps={"dimensions": ["alb"]}),
               rec(ALARM, "db-cpu", {"dimensions": {"DBInstanceIdentifier": "db"}, "tags": PROD},
                   prop_deps={"dimensions": ["db"]})])
    assert violations(r, "alarms-for-load-balancers-and-databases") == []


def test_alarm_dimensions_unknown_in_preview_still_count():
    r = check([rec(LB, "alb", {"tags": PROD, "name": UNKNOWN}),
               rec(ALARM, "lb-5xx", {"dimensions": {"LoadBalancer": UNKNOWN}, "alarmActions": [UNKNOWN], "tags": PROD},
                   prop_deps={"dimensions": ["alb"]})])
    assert violations(r, "alarms-for-load-balancers-and-databases") == []
    assert skipped(r, "alarms-for-load-balancers-and-databases") == []
