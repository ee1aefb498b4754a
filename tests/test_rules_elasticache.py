"""Tests for policies/rules/elasticache.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, good_bad_preview_tests, rec, violations

CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"

GOOD_CACHE = {"atRestEncryptionEnabled": True, "transitEncryptionEnabled": True, "kmsKeyId": "k",
              "automaticFailoverEnabled": True, "multiAzEnabled": True, "numCacheClusters": 2}

PREVIEW_CACHE = {**GOOD_CACHE, "kmsKeyId": UNKNOWN, "parameterGroupName": UNKNOWN, "securityGroupIds": [UNKNOWN]}

CASES = {
    "elasticache-encryption": (CACHE, GOOD_CACHE, PREVIEW_CACHE, {"transitEncryptionEnabled": False},
                               "transitEncryptionEnabled"),
    "elasticache-multi-az": (CACHE, GOOD_CACHE, PREVIEW_CACHE,
                             {"numCacheClusters": 1, "automaticFailoverEnabled": False}, "at least 2 nodes"),
}


(test_rule_reports_the_violating_resource, test_rule_passes_a_compliant_resource,
 test_rule_decides_in_a_preview_of_a_new_stack) = good_bad_preview_tests(CASES)


def test_elasticache_encryption_names_both_missing_settings():
    r = check([rec(CACHE, "c", {"numCacheClusters": 2})])
    [v] = violations(r, "elasticache-encryption")
    assert "atRestEncryptionEnabled and transitEncryptionEnabled" in v.message


# --- issue 13: booleans typed as strings (pulumi-aws 7 former booleans; `bool("false")` is True) ---------
def test_string_typed_booleans_are_read_as_booleans():
    r = check([rec(CACHE, "cache-strings-false", {**GOOD_CACHE, "atRestEncryptionEnabled": "false"}),
               rec(CACHE, "cache-strings-true", {**GOOD_CACHE, "atRestEncryptionEnabled": "true",
                                                 "transitEncryptionEnabled": "true"})])
    assert {v.urn.split("::")[-1] for v in violations(r, "elasticache-encryption")} == {"cache-strings-false"}


# --- issue 31: AUTH ------------------------------------------------------------------------------------------------
def test_redis_without_auth_token_or_user_group_is_reported():
    r = check([rec(CACHE, "no-auth", GOOD_CACHE),
               rec(CACHE, "token", {**PREVIEW_CACHE, "authToken": UNKNOWN}),
               rec(CACHE, "token-known", {**GOOD_CACHE, "authToken": "x" * 32}),
               rec(CACHE, "rbac", {**PREVIEW_CACHE, "userGroupIds": [UNKNOWN]}),
               rec(CACHE, "empty-groups", {**GOOD_CACHE, "userGroupIds": []}),
               rec(CACHE, "memcached-like", {**GOOD_CACHE, "engine": "memcached"})])
    found = violations(r, "elasticache-redis-auth")
    assert {v.urn.split("::")[-1] for v in found} == {"no-auth", "empty-groups"}
    assert all("no authToken" in v.message and v.level == "mandatory" for v in found)


# ------------------------------------------------------------------ deployability (issue 24)
DEPLOYABLE = {"engine": "redis", "engineVersion": "7.1", "authToken": "secret-token-value-0123456789",
              "transitEncryptionEnabled": True, "atRestEncryptionEnabled": True, "numCacheClusters": 2,
              "automaticFailoverEnabled": True, "multiAzEnabled": True}


def test_auth_token_requires_transit_encryption():
    from policy_harness import check, rec, violations
    rg = "aws:elasticache/replicationGroup:ReplicationGroup"
    r = check([rec(rg, "bad", {**DEPLOYABLE, "transitEncryptionEnabled": False}), rec(rg, "good", DEPLOYABLE),
               rec(rg, "old", {**DEPLOYABLE, "engineVersion": "3.2.4"})])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "elasticache-auth-token-requires-transit-encryption")}
    assert set(found) == {"bad", "old"} and "in-transit encryption" in found["bad"] and "3.2.6" in found["old"]


def test_failover_requires_replicas_and_multi_az_requires_failover():
    from policy_harness import check, rec, violations
    rg = "aws:elasticache/replicationGroup:ReplicationGroup"
    single = {**DEPLOYABLE, "numCacheClusters": 1, "automaticFailoverEnabled": False, "multiAzEnabled": False}
    r = check([rec(rg, "one-node-failover", {**single, "automaticFailoverEnabled": True}),
               rec(rg, "multi-az-no-failover", {**DEPLOYABLE, "automaticFailoverEnabled": False}),
               rec(rg, "single", single), rec(rg, "pair", DEPLOYABLE)])
    assert {v.urn.split("::")[-1] for v in violations(r, "elasticache-failover-requires-replicas")} == {
        "one-node-failover", "multi-az-no-failover"}
