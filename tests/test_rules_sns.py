"""Tests for policies/rules/sns.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

TOPIC = "aws:sns/topic:Topic"

KEY = "aws:kms/key:Key"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- sns-encrypted --------------------------------------------------------------------------
def test_sns_encrypted_violation():
    assert names(check([rec(TOPIC, "t", {"name": "t"})]), "sns-encrypted") == ["t"]


def test_sns_encrypted_passes_literal_key():
    assert violations(check([rec(TOPIC, "t", {"kmsMasterKeyId": "alias/x"})]), "sns-encrypted") == []


def test_sns_encrypted_preview_passes():
    r = check([rec(KEY, "k", {}), rec(TOPIC, "t", {"kmsMasterKeyId": UNKNOWN}, prop_deps={"kmsMasterKeyId": ["k"]})])
    assert violations(r, "sns-encrypted") == [] and not skipped(r, "sns-encrypted")


def test_topic_without_key_is_reported_and_never_given_the_aws_managed_key():
    """Before: a remediation set kmsMasterKeyId='alias/aws/sns', to which EventBridge, CloudWatch alarms and S3
    cannot publish (deliveries fail silently). Now the topic is reported and left as written."""
    r = check([rec("aws:sns/topic:Topic", "alerts", {"name": "alerts"})], level="remediate")
    assert r.remediations == []
    assert [v.urn.split("::")[-1] for v in r.violations if v.policy == "sns-encrypted"] == ["alerts"]
