"""awsguard parity rules (policies/rules/awsguard_parity.py): violating, passing, passing under preview unknowns."""
from __future__ import annotations


import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations, case_table, names

STAGE, MS, API = "aws:apigateway/stage:Stage", "aws:apigateway/methodSettings:MethodSettings", "aws:apigateway/restApi:RestApi"

CASES = [
    ("apigateway-stage-cached", "stage-nocache", STAGE, {"stageName": "v1", "deployment": "d"}, "violation"),
    ("apigateway-stage-cached", "stage-cache", STAGE, {"stageName": "v1", "cacheClusterEnabled": True}, "pass"),
    ("apigateway-stage-cached", "stage-cache-preview", STAGE, {"stageName": "v1", "deployment": UNKNOWN,
                                                               "restApi": UNKNOWN, "cacheClusterEnabled": True}, "pass"),
    ("apigateway-method-cached-and-encrypted", "ms-nocache", MS, {"methodPath": "*/*", "settings": {}}, "violation"),
    ("apigateway-method-cached-and-encrypted", "ms-plain-cache", MS, {"methodPath": "*/*", "settings": {
        "cachingEnabled": True}}, "violation"),
    ("apigateway-method-cached-and-encrypted", "ms-ok", MS, {"methodPath": "*/*", "settings": {
        "cachingEnabled": True, "cacheDataEncrypted": True}}, "pass"),
    ("apigateway-method-cached-and-encrypted", "ms-preview", MS, {"methodPath": "*/*", "restApi": UNKNOWN,
                                                                  "stageName": UNKNOWN, "settings": {
        "cachingEnabled": True, "cacheDataEncrypted": True}}, "pass"),
    # no endpointConfiguration: API Gateway creates an EDGE API, allowed by default (issue 13: was flagged)
    ("apigateway-endpoint-type", "api-noconfig", API, {"name": "a"}, "pass"),
    ("apigateway-endpoint-type", "api-regional", API, {"endpointConfiguration": {"types": "REGIONAL"}}, "violation"),
    ("apigateway-endpoint-type", "api-edge", API, {"endpointConfiguration": {"types": ["EDGE"]}}, "pass"),
    ("apigateway-endpoint-type", "api-edge-preview", API, {"endpointConfiguration": {"types": "EDGE",
                                                                                     "vpcEndpointIds": UNKNOWN}}, "pass"),
]


test_case = case_table(CASES)
_names = names


def test_options_as_in_awsguard():
    r = check([rec(API, "regional", {"endpointConfiguration": {"types": "REGIONAL"}}),
               rec(MS, "nocache", {"methodPath": "*/*", "settings": {"metricsEnabled": True}})],
              config={"apigateway-endpoint-type": {"allowRegional": True},
                      "apigateway-method-cached-and-encrypted": {"requireCaching": False}})
    assert violations(r, "apigateway-endpoint-type") == []
    assert violations(r, "apigateway-method-cached-and-encrypted") == []


B, LOG = "aws:s3/bucket:Bucket", "aws:s3/bucketLogging:BucketLogging"


def test_s3_bucket_logging_joins_side_car_resources_and_exempts_log_buckets():
    r = check([
        rec(B, "logs", {"bucket": "org-access-logs"}),
        rec(B, "data", {}),  # auto-named: its name is unknown in a preview
        rec(LOG, "data-logging", {"bucket": UNKNOWN, "targetBucket": UNKNOWN, "targetPrefix": "data/"},
            prop_deps={"bucket": ["data"], "targetBucket": ["logs"]}),
        rec(B, "audit", {"bucket": "org-audit"}),
        # a literal target name (the log bucket made elsewhere or named explicitly)
        rec(LOG, "audit-logging", {"bucket": UNKNOWN, "targetBucket": "org-access-logs"}, prop_deps={"bucket": ["audit"]}),
        rec(B, "unlogged", {}),
        rec(B, "legacy-inline", {"loggings": [{"targetBucket": "org-access-logs"}]}),
    ])
    assert _names(violations(r, "s3-bucket-logging-enabled")) == {"unlogged"}
    assert not skipped(r, "s3-bucket-logging-enabled")
    r = check([rec(B, "unlogged", {})], config={"s3-bucket-logging-enabled": {"exemptBuckets": ["unlogged"]}})
    assert violations(r, "s3-bucket-logging-enabled") == []
