"""Tests for policies/rules/ecr.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

TAGS = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}

REPO = "aws:ecr/repository:Repository"

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234"


def repo(**over):
    props = {"name": "ai-platform/prod/ocr", "imageTagMutability": "IMMUTABLE",
             "imageScanningConfiguration": {"scanOnPush": True},
             "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}], "tags": TAGS}
    props.update(over)
    return rec(REPO, "repo", props)


def names(result, policy):
    return [v.urn.split("::")[-1] for v in violations(result, policy)]


# --- ecr-scan-on-push ----------------------------------------------------------------------------
def test_ecr_scan_on_push_violation():
    r = check([repo(imageScanningConfiguration={"scanOnPush": False}), rec(REPO, "bare", {"tags": TAGS})])
    assert sorted(names(r, "ecr-scan-on-push")) == ["bare", "repo"]


def test_ecr_scan_on_push_pass():
    assert violations(check([repo()]), "ecr-scan-on-push") == []


def test_ecr_scan_on_push_pass_in_preview():
    r = check([repo(encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": UNKNOWN}])])
    assert violations(r, "ecr-scan-on-push") == [] and not skipped(r, "ecr-scan-on-push")


# --- ecr-kms-encryption --------------------------------------------------------------------------
def test_ecr_kms_violation():
    r = check([repo(encryptionConfigurations=[{"encryptionType": "AES256"}]),
               rec(REPO, "default", {"tags": TAGS}),
               rec(REPO, "aws-managed", {"encryptionConfigurations": [{"encryptionType": "KMS"}], "tags": TAGS})])
    assert sorted(names(r, "ecr-kms-encryption")) == ["aws-managed", "default", "repo"]


def test_ecr_kms_pass():
    assert violations(check([repo()]), "ecr-kms-encryption") == []


def test_ecr_kms_pass_in_preview_with_unknown_key():
    r = check([repo(encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": UNKNOWN}])])
    assert violations(r, "ecr-kms-encryption") == [] and not skipped(r, "ecr-kms-encryption")


# --- ecr-immutable-tags --------------------------------------------------------------------------
def test_ecr_immutable_violation_including_default():
    r = check([repo(imageTagMutability="MUTABLE"), rec(REPO, "default", {"tags": TAGS})])
    assert sorted(names(r, "ecr-immutable-tags")) == ["default", "repo"]
    assert all(v.level == "mandatory" for v in violations(r, "ecr-immutable-tags"))


def test_ecr_immutable_pass():
    assert violations(check([repo()]), "ecr-immutable-tags") == []


def test_ecr_immutable_pass_in_preview():
    r = check([repo(encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": UNKNOWN}])])
    assert violations(r, "ecr-immutable-tags") == [] and not skipped(r, "ecr-immutable-tags")


def test_ecr_immutable_is_advisory_where_configured_so():
    r = check([repo(imageTagMutability="MUTABLE")], config={"ecr-immutable-tags": "advisory"})
    assert [v.level for v in violations(r, "ecr-immutable-tags")] == ["advisory"]
