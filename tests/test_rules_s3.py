"""Tests for policies/rules/s3.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import json

import pytest

from policy_harness import UNKNOWN, check, names, rec, skipped, violations

_names = names

B, LOG = "aws:s3/bucket:Bucket", "aws:s3/bucketLogging:BucketLogging"

B, LOG = "aws:s3/bucket:Bucket", "aws:s3/bucketLogging:BucketLogging"

PROD = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}

DEV = dict(PROD, Environment="dev")

BUCKET = "aws:s3/bucket:Bucket"

REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def names_observability(found) -> list[str]:
    return sorted(v.urn.split("::")[-1] for v in found)


# --- s3-data-buckets-replicated --------------------------------------------------------------
def _replicated(bucket_props, replication_props):
    return [rec(BUCKET, "ai-platform-prod-data-lake", bucket_props),
            rec(BUCKET, "ai-platform-prod-dr-data-lake", {"tags": PROD}),
            rec(REPLICATION, "replication", replication_props,
                prop_deps={"bucket": ["ai-platform-prod-data-lake"], "rules": ["ai-platform-prod-dr-data-lake"]})]


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


def names_s3(found) -> list:
    return sorted(v.urn.split("::")[-1] for v in found)


ACL = "aws:s3/bucketAclV2:BucketAclV2"

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


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


def test_prod_data_bucket_without_replication_is_reported_dev_and_plain_buckets_are_not():
    r = check([rec(BUCKET, "ai-platform-prod-data-lake", {"tags": PROD}),
               rec(BUCKET, "tagged", {"tags": dict(PROD, DataClassification="confidential")}),
               rec(BUCKET, "ai-platform-dev-data-lake", {"tags": DEV}),
               rec(BUCKET, "ai-platform-prod-web-assets", {"tags": PROD})])
    assert names_observability(violations(r, "s3-data-buckets-replicated")) == ["ai-platform-prod-data-lake", "tagged"]


def test_prod_data_bucket_with_replication_passes_and_its_replica_needs_none():
    r = check(_replicated({"tags": PROD}, {"bucket": "b", "role": "arn:aws:iam::1:role/r",
                                           "rules": [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::x"}}]}))
    assert violations(r, "s3-data-buckets-replicated") == []


def test_replication_correlated_by_dependency_when_names_and_arns_are_unknown():
    r = check(_replicated({"tags": PROD, "bucket": UNKNOWN}, {"bucket": UNKNOWN, "role": UNKNOWN,
                                                               "rules": [{"destination": {"bucket": UNKNOWN}}]}))
    assert violations(r, "s3-data-buckets-replicated") == [] and skipped(r, "s3-data-buckets-replicated") == []


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_reports_a_misconfigured_bucket_and_not_its_neighbour(policy):
    key, bad, fragment = CASES[policy]
    r = check(bucket_records("bad", override={key: bad}) + bucket_records("good"))
    found = violations(r, policy)
    assert names_s3(found) == ["bad"] and fragment in found[0].message and found[0].level == "mandatory"


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_reports_a_bucket_without_the_configuration_resource(policy):
    key = CASES[policy][0]
    r = check(bucket_records("bare", omit=key) + bucket_records("good"))
    assert names_s3(violations(r, policy)) == ["bare"]


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_passes_a_fully_configured_bucket(policy):
    r = check(bucket_records("good"))
    assert violations(r, policy) == [] and skipped(r, policy) == []


@pytest.mark.parametrize("policy", sorted(CASES))
def test_rule_decides_in_a_preview_where_the_bucket_id_is_unknown(policy):
    key, bad, _ = CASES[policy]
    r = check(bucket_records("good", preview=True) + bucket_records("bad", preview=True, override={key: bad}))
    assert names_s3(violations(r, policy)) == ["bad"] and skipped(r, policy) == []


def test_a_configuration_of_another_bucket_does_not_count():
    # 'other' has a versioning resource, but it belongs to 'good' (its dependency), not to 'other'.
    records = bucket_records("good") + [rec(BUCKET, "other", {"bucket": "other-1"})]
    r = check(records)
    assert "other" in names_s3(violations(r, "s3-versioning-enabled"))


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
    assert names_s3(violations(r, "s3-encryption-enabled")) == ["b"]


# --- issue 13 -------------------------------------------------------------------------------------------
def test_tls_only_policy_written_with_list_values_is_recognised():
    """Before: Condition {"Bool": {"aws:SecureTransport": ["false"]}} (a list, as many generators write it) was
    not recognised and the bucket was flagged."""
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": ["*"]}, "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}]})
    r = check([rec(BUCKET, "b-list", {"policy": doc}), rec(BUCKET, "b-none", {})])
    assert {v.urn.split("::")[-1] for v in violations(r, "s3-tls-only-policy")} == {"b-none"}


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


def test_a_deliberately_opened_public_access_block_is_reported_never_rewritten():
    """Before: with remediation enabled the pack re-closed a block the team opened on purpose (the next
    PutBucketPolicy then fails). Now nothing remediates, even with every policy at `remediate`."""
    pab = rec("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "site-pab",
              {"bucket": UNKNOWN, "blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": False,
               "restrictPublicBuckets": False}, prop_deps={"bucket": ["site"]})
    r = check([rec(BUCKET, "site", {"bucket": "site-1"}), pab], level="remediate")
    assert r.remediations == []
    assert {v.urn.split("::")[-1] for v in r.violations if v.policy == "s3-public-access-block"} == {"site"}


# ------------------------------------------------------------------ deployability (issue 24)
REPL_T, BUCKET_T, VERS_T = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "aws:s3/bucket:Bucket",
                            "aws:s3/bucketVersioning:BucketVersioning")


def replication_stack(*, source_versioned=True, dest_versioned=True, ordered=True):
    out = [rec(BUCKET_T, "src", {"bucket": "app-src"}), rec(BUCKET_T, "dst", {"bucket": "app-dst"})]
    if source_versioned:
        out.append(rec(VERS_T, "src-versioning", {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Enabled"}},
                       prop_deps={"bucket": ["src"]}))
    if dest_versioned:
        out.append(rec(VERS_T, "dst-versioning", {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Enabled"}},
                       prop_deps={"bucket": ["dst"]}))
    out.append(rec(REPL_T, "replication", {"bucket": "app-src", "role": UNKNOWN, "rules": [
        {"id": "dr", "status": "Enabled", "destination": {"bucket": UNKNOWN}}]},
        prop_deps={"bucket": ["src"], "rules": ["dst"]},
        deps=["src-versioning"] if ordered and source_versioned else []))
    return out


def test_replication_requires_versioning_on_both_buckets_before_it():
    assert violations(check(replication_stack()), "s3-replication-requires-versioning") == []
    src = violations(check(replication_stack(source_versioned=False)), "s3-replication-requires-versioning")
    assert len(src) == 1 and "source bucket src" in src[0].message and src[0].level == "mandatory"
    dst = violations(check(replication_stack(dest_versioned=False)), "s3-replication-requires-versioning")
    assert len(dst) == 1 and "destination bucket dst" in dst[0].message
    order = violations(check(replication_stack(ordered=False)), "s3-replication-requires-versioning")
    assert len(order) == 1 and "depends_on" in order[0].message
