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
