"""S3 stack rules, each three ways: violating, passing, and passing as a new stack's preview shows it.

In a preview of a new stack the bucket's id is UNKNOWN, so every configuration resource's `bucket`
input is UNKNOWN too; the rules must still match configurations to buckets (through the recorded
property dependency) and decide.
"""
from __future__ import annotations

import json

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

BUCKET = "aws:s3/bucket:Bucket"
ARN = "arn:aws:s3:::logs-123"
TLS_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": [ARN, ARN + "/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
ALLOW_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
     "Resource": ARN + "/*"}]})

CONFIGS = {
    "versioning": ("aws:s3/bucketVersioning:BucketVersioning", {"versioningConfiguration": {"status": "Enabled"}}),
    "encryption": ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                       "kmsMasterKeyId": "arn:aws:kms:k"},
                               "bucketKeyEnabled": True}]}),
    "pab": ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
             "restrictPublicBuckets": True}),
    "policy": ("aws:s3/bucketPolicy:BucketPolicy", {"policy": TLS_POLICY}),
    "lifecycle": ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                  {"rules": [{"id": "tiering", "status": "Enabled",
                              "transitions": [{"days": 30, "storageClass": "STANDARD_IA"}]}]}),
}
# policy -> (config key, violating props for that config, message fragment)
CASES = {
    "s3-versioning-enabled": ("versioning", {"versioningConfiguration": {"status": "Suspended"}}, "versioning"),
    "s3-encryption-enabled": ("encryption", {"rules": [{"bucketKeyEnabled": True}]}, "found [None]"),
    "s3-public-access-block": ("pab", {**CONFIGS["pab"][1], "restrictPublicBuckets": False}, "restrictPublicBuckets"),
    "s3-tls-only-policy": ("policy", {"policy": ALLOW_ONLY}, "aws:SecureTransport"),
    "s3-lifecycle-configured": ("lifecycle", {"rules": [{"id": "x", "status": "Disabled"}]}, "enabled rule"),
}


def bucket_records(name: str, *, preview: bool = False, override: dict | None = None, omit: str = "") -> list:
    """A bucket and its five configuration resources; in a preview their `bucket` input is UNKNOWN."""
    bucket_ref = UNKNOWN if preview else name
    out = [rec(BUCKET, name, {"bucket": f"{name}-123", "tags": {}})]
    for key, (rtype, props) in CONFIGS.items():
        if key == omit:
            continue
        props = dict((override or {}).get(key, props))
        if preview and key == "encryption":
            props = json.loads(json.dumps(props))
            props["rules"][0].get("applyServerSideEncryptionByDefault", {}).update(
                {"kmsMasterKeyId": UNKNOWN} if "applyServerSideEncryptionByDefault" in props["rules"][0] else {})
        out.append(rec(rtype, f"{name}-{key}", {"bucket": bucket_ref, **props}, prop_deps={"bucket": [name]},
                       deps=[name]))
    return out


def names(found) -> list:
    return sorted(v.urn.split("::")[-1] for v in found)


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_reports_a_misconfigured_bucket_and_not_its_neighbour(policy):
    key, bad, fragment = CASES[policy]
    r = check(bucket_records("bad", override={key: bad}) + bucket_records("good"))
    found = violations(r, policy)
    assert names(found) == ["bad"] and fragment in found[0].message and found[0].level == "mandatory"


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_reports_a_bucket_without_the_configuration_resource(policy):
    key = CASES[policy][0]
    r = check(bucket_records("bare", omit=key) + bucket_records("good"))
    assert names(violations(r, policy)) == ["bare"]


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_passes_a_fully_configured_bucket(policy):
    r = check(bucket_records("good"))
    assert violations(r, policy) == [] and skipped(r, policy) == []


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_decides_in_a_preview_where_the_bucket_id_is_unknown(policy):
    key, bad, _ = CASES[policy]
    r = check(bucket_records("good", preview=True) + bucket_records("bad", preview=True, override={key: bad}))
    assert names(violations(r, policy)) == ["bad"] and skipped(r, policy) == []


def test_a_configuration_of_another_bucket_does_not_count():
    # 'other' has a versioning resource, but it belongs to 'good' (its dependency), not to 'other'.
    records = bucket_records("good") + [rec(BUCKET, "other", {"bucket": "other-1"})]
    r = check(records)
    assert "other" in names(violations(r, "s3-versioning-enabled"))


def test_legacy_inline_bucket_arguments_are_accepted():
    legacy = rec(BUCKET, "legacy", {
        "versioning": {"enabled": True},
        "serverSideEncryptionConfiguration": {"rule": {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}},
        "policy": TLS_POLICY,
        "lifecycleRules": [{"enabled": True, "expiration": {"days": 90}}]})
    r = check([legacy])
    for policy in ("s3-versioning-enabled", "s3-encryption-enabled", "s3-tls-only-policy", "s3-lifecycle-configured"):
        assert violations(r, policy) == [], policy


def test_unknown_bucket_policy_document_is_undecidable_not_passed():
    records = bucket_records("b", override={"policy": {"policy": UNKNOWN}})
    r = check(records)
    assert violations(r, "s3-tls-only-policy") == [] and skipped(r, "s3-tls-only-policy")


def test_allowed_algorithms_are_configurable():
    r = check(bucket_records("b", override={"encryption": {"rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "AES256"}}]}}), config={"s3-encryption-enabled": {"allowedAlgorithms": ["aws:kms"]}})
    assert names(violations(r, "s3-encryption-enabled")) == ["b"]


# --- issue 13 -------------------------------------------------------------------------------------------
def test_tls_only_policy_written_with_list_values_is_recognised():
    """Before: Condition {"Bool": {"aws:SecureTransport": ["false"]}} (a list, as many generators write it) was
    not recognised and the bucket was flagged."""
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": ["*"]}, "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}]})
    r = check([rec(BUCKET, "b-list", {"policy": doc}), rec(BUCKET, "b-none", {})])
    assert {v.urn.split("::")[-1] for v in violations(r, "s3-tls-only-policy")} == {"b-none"}


ACL = "aws:s3/bucketAclV2:BucketAclV2"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.mark.parametrize("name,rtype,props,expected", [
    ("acl-public-read", ACL, {"bucket": "b", "acl": "public-read"}, "violation"),
    ("acl-auth-read", BUCKET, {"acl": "authenticated-read"}, "violation"),
    ("acl-grant-all-users", ACL, {"bucket": "b", "accessControlPolicy": {
        "owner": {"id": "o"}, "grants": [{"grantee": {"type": "Group", "uri": ALL_USERS}, "permission": "READ"}]}},
     "violation"),
    ("obj-public", "aws:s3/bucketObjectv2:BucketObjectv2", {"bucket": "b", "key": "k", "acl": "public-read"},
     "violation"),
    ("acl-private", ACL, {"bucket": "b", "acl": "private"}, "pass"),
    ("acl-preview", ACL, {"bucket": "b", "acl": UNKNOWN}, "skipped"),
])
def test_s3_no_public_acl(name, rtype, props, expected):
    r = check([rec(rtype, name, props)])
    assert bool(violations(r, "s3-no-public-acl")) == (expected == "violation")
    assert bool(skipped(r, "s3-no-public-acl")) == (expected == "skipped")
