"""Observability/DR rules, each three ways: violating, passing, and passing as a new stack's preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

PROD = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}
DEV = dict(PROD, Environment="dev")
KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"
TRAIL = "aws:cloudtrail/trail:Trail"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BUCKET = "aws:s3/bucket:Bucket"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
SELECTION = "aws:backup/selection:Selection"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LB = "aws:lb/loadBalancer:LoadBalancer"
RDS = "aws:rds/instance:Instance"
TABLE = "aws:dynamodb/table:Table"

GOOD_TRAIL = {"isMultiRegionTrail": True, "includeGlobalServiceEvents": True, "enableLogFileValidation": True,
              "kmsKeyId": KEY, "tags": PROD}


def names(found) -> list[str]:
    return sorted(v.urn.split("::")[-1] for v in found)


# --- cloudtrail-multi-region-validated-encrypted ---------------------------------------------
def test_trail_single_region_unvalidated_unencrypted_is_reported():
    r = check([rec(TRAIL, "t", {"isMultiRegionTrail": False, "includeGlobalServiceEvents": False, "tags": PROD})])
    text = " ".join(v.message for v in violations(r, "cloudtrail-multi-region-validated-encrypted"))
    for prop in ("isMultiRegionTrail", "enableLogFileValidation", "includeGlobalServiceEvents", "kmsKeyId"):
        assert prop in text


def test_trail_compliant_passes():
    r = check([rec(TRAIL, "t", GOOD_TRAIL)])
    assert violations(r, "cloudtrail-multi-region-validated-encrypted") == []


def test_trail_with_key_arn_unknown_in_preview_passes_without_skipping():
    r = check([rec(TRAIL, "t", dict(GOOD_TRAIL, kmsKeyId=UNKNOWN, s3BucketName=UNKNOWN))])
    assert violations(r, "cloudtrail-multi-region-validated-encrypted") == []
    assert skipped(r, "cloudtrail-multi-region-validated-encrypted") == []


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


# --- s3-data-buckets-replicated --------------------------------------------------------------
def _replicated(bucket_props, replication_props):
    return [rec(BUCKET, "ai-platform-prod-data-lake", bucket_props),
            rec(BUCKET, "ai-platform-prod-dr-data-lake", {"tags": PROD}),
            rec(REPLICATION, "replication", replication_props,
                prop_deps={"bucket": ["ai-platform-prod-data-lake"], "rules": ["ai-platform-prod-dr-data-lake"]})]


def test_prod_data_bucket_without_replication_is_reported_dev_and_plain_buckets_are_not():
    r = check([rec(BUCKET, "ai-platform-prod-data-lake", {"tags": PROD}),
               rec(BUCKET, "tagged", {"tags": dict(PROD, DataClassification="confidential")}),
               rec(BUCKET, "ai-platform-dev-data-lake", {"tags": DEV}),
               rec(BUCKET, "ai-platform-prod-web-assets", {"tags": PROD})])
    assert names(violations(r, "s3-data-buckets-replicated")) == ["ai-platform-prod-data-lake", "tagged"]


def test_prod_data_bucket_with_replication_passes_and_its_replica_needs_none():
    r = check(_replicated({"tags": PROD}, {"bucket": "b", "role": "arn:aws:iam::1:role/r",
                                           "rules": [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::x"}}]}))
    assert violations(r, "s3-data-buckets-replicated") == []


def test_replication_correlated_by_dependency_when_names_and_arns_are_unknown():
    r = check(_replicated({"tags": PROD, "bucket": UNKNOWN}, {"bucket": UNKNOWN, "role": UNKNOWN,
                                                               "rules": [{"destination": {"bucket": UNKNOWN}}]}))
    assert violations(r, "s3-data-buckets-replicated") == [] and skipped(r, "s3-data-buckets-replicated") == []


# --- backup-plan-covers-stateful -------------------------------------------------------------
def test_stateful_resources_outside_every_selection_are_reported():
    r = check([rec(RDS, "db", {"tags": PROD}), rec(TABLE, "table", {"tags": PROD}),
               rec(RDS, "replica", {"tags": PROD, "replicateSourceDb": "db"}),
               rec(TABLE, "dev-table", {"tags": DEV}),
               rec(SELECTION, "sel", {"resources": ["arn:aws:rds:us-east-1:1:db:other"]})])
    assert names(violations(r, "backup-plan-covers-stateful")) == ["db", "table"]


def test_stateful_resources_selected_by_arn_or_by_tag_pass():
    r = check([rec(RDS, "db", {"tags": PROD}), rec(TABLE, "table", {"tags": dict(PROD, Backup="true")}),
               rec(SELECTION, "by-arn", {"resources": ["arn:aws:rds:us-east-1:1:db:db"]}, prop_deps={"resources": ["db"]}),
               rec(SELECTION, "by-tag", {"selectionTags": [{"type": "STRINGEQUALS", "key": "Backup", "value": "true"}]})])
    assert violations(r, "backup-plan-covers-stateful") == []


def test_selection_by_arn_unknown_in_preview_still_covers():
    r = check([rec(RDS, "db", {"tags": PROD, "identifier": UNKNOWN}),
               rec(SELECTION, "by-arn", {"resources": [UNKNOWN], "planId": UNKNOWN, "iamRoleArn": UNKNOWN},
                   prop_deps={"resources": ["db"]})])
    assert violations(r, "backup-plan-covers-stateful") == [] and skipped(r, "backup-plan-covers-stateful") == []


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
