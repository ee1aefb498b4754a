"""Tests for policies/rules/cloudtrail.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

PROD = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}

KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"

TRAIL = "aws:cloudtrail/trail:Trail"

GOOD_TRAIL = {"isMultiRegionTrail": True, "includeGlobalServiceEvents": True, "enableLogFileValidation": True,
              "kmsKeyId": KEY, "tags": PROD}


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


# --- cloudtrail-cis-metric-alarms (issue 32: CIS v3.0.0 4.1-4.15) -------------------------------------
def test_cis_metric_alarms_both_sides():
    import sys
    sys.path.insert(0, str(__import__("conftest").ROOT))
    from components.governance import CIS_FILTERS
    trail = rec(TRAIL, "trail", {**GOOD_TRAIL, "cloudWatchLogsGroupArn": "arn:aws:logs:us-east-1:1:log-group:t:*"})

    def monitoring(skip=(), no_action=(), topic="arn:aws:sns:us-east-1:1:t"):
        out = []
        for control, (key, pattern) in CIS_FILTERS.items():
            if control in skip:
                continue
            out.append(rec("aws:cloudwatch/logMetricFilter:LogMetricFilter", f"f-{key}", {
                "logGroupName": "t", "pattern": pattern,
                "metricTransformation": {"namespace": "CIS", "name": key, "value": "1"}}))
            out.append(rec("aws:cloudwatch/metricAlarm:MetricAlarm", f"a-{key}", {
                "namespace": "CIS", "metricName": key, "comparisonOperator": "GreaterThanOrEqualToThreshold",
                "alarmActions": [] if control in no_action else [topic]}))
        return out

    assert violations(check([trail, *monitoring()]), "cloudtrail-cis-metric-alarms") == []
    # a trail without CloudWatch Logs delivery is not judged (no log group to filter)
    assert violations(check([rec(TRAIL, "trail", GOOD_TRAIL)]), "cloudtrail-cis-metric-alarms") == []
    [v] = violations(check([trail, *monitoring(skip={"4.3"}, no_action={"4.15"})]), "cloudtrail-cis-metric-alarms")
    assert "CIS 4.3, 4.15" in v.message
    assert len(violations(check([trail]), "cloudtrail-cis-metric-alarms")) == 1
    # a new stack's preview: the topic's ARN is unknown, how many actions each alarm has is not; decided both ways
    preview = check([trail, *monitoring(topic=UNKNOWN)])
    assert violations(preview, "cloudtrail-cis-metric-alarms") == []
    assert skipped(preview, "cloudtrail-cis-metric-alarms") == []
    [v] = violations(check([trail, *monitoring(no_action={"4.15"}, topic=UNKNOWN)]), "cloudtrail-cis-metric-alarms")
    assert "CIS 4.15" in v.message
