"""Tests for policies/rules/rds.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, good_bad_preview_tests, not_applicable, props_with, rec, skipped, violations

RDS = "aws:rds/instance:Instance"

CLUSTER = "aws:rds/cluster:Cluster"

DOCDB = "aws:docdb/cluster:Cluster"

GOOD_DB = {"engine": "postgres", "storageEncrypted": True, "kmsKeyId": "arn:aws:kms:us-east-1:1:key/k",
           "publiclyAccessible": False, "backupRetentionPeriod": 14, "multiAz": True, "deletionProtection": True}

PREVIEW_DB = {**GOOD_DB, "kmsKeyId": UNKNOWN, "dbSubnetGroupName": UNKNOWN, "monitoringRoleArn": UNKNOWN,
              "vpcSecurityGroupIds": [UNKNOWN]}

GOOD_DOCDB = {"storageEncrypted": True, "kmsKeyId": "k", "backupRetentionPeriod": 7, "deletionProtection": True}

CASES = {
    "rds-storage-encrypted": (RDS, GOOD_DB, PREVIEW_DB, {"storageEncrypted": False}, "storageEncrypted"),
    "rds-no-public-access": (RDS, GOOD_DB, PREVIEW_DB, {"publiclyAccessible": True}, "publiclyAccessible"),
    "rds-backup-retention": (RDS, GOOD_DB, PREVIEW_DB, {"backupRetentionPeriod": 3}, "below the minimum of 7"),
    "rds-multi-az": (RDS, GOOD_DB, PREVIEW_DB, {"multiAz": False}, "multiAz"),
    "rds-deletion-protection": (RDS, GOOD_DB, PREVIEW_DB, {"deletionProtection": False}, "deletionProtection"),
}


(test_rule_reports_the_violating_resource, test_rule_passes_a_compliant_resource,
 test_rule_decides_in_a_preview_of_a_new_stack) = good_bad_preview_tests(CASES)


def test_unknown_protection_flag_is_reported_as_undecidable_not_passed():
    r = check([rec(RDS, "db", {**PREVIEW_DB, "deletionProtection": UNKNOWN})])
    assert violations(r, "rds-deletion-protection") == [] and skipped(r, "rds-deletion-protection")


def test_backup_retention_minimum_is_configurable_and_defaults_to_the_api_default():
    relaxed = check([rec(RDS, "db", {**GOOD_DB, "backupRetentionPeriod": 3})],
                    config={"rds-backup-retention": {"minimumRetentionDays": 3}})
    assert violations(relaxed, "rds-backup-retention") == []
    unset = check([rec(RDS, "db", props_with(GOOD_DB, {"backupRetentionPeriod": None}))])
    assert "backupRetentionPeriod 1 is below" in violations(unset, "rds-backup-retention")[0].message


def test_backup_retention_covers_clusters_and_docdb():
    r = check([rec(CLUSTER, "aurora", {"backupRetentionPeriod": 1}), rec(DOCDB, "docdb", {**GOOD_DOCDB,
                                                                                      "backupRetentionPeriod": 2})])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "rds-backup-retention")) == ["aurora", "docdb"]


def test_read_replicas_are_not_held_to_backup_and_multi_az_rules():
    replica = {**GOOD_DB, "replicateSourceDb": "ai-platform-prod-postgres", "multiAz": False,
               "backupRetentionPeriod": 0}
    r = check([rec(RDS, "replica", replica)])
    assert violations(r, "rds-multi-az") == [] and violations(r, "rds-backup-retention") == []
    assert not_applicable(r, "rds-multi-az") and not_applicable(r, "rds-backup-retention")
    # ... but still to encryption, exposure and deletion protection.
    bad = check([rec(RDS, "replica", {**replica, "deletionProtection": False, "publiclyAccessible": True})])
    assert violations(bad, "rds-deletion-protection") and violations(bad, "rds-no-public-access")


def test_deletion_protection_covers_docdb_clusters():
    r = check([rec(DOCDB, "docdb", {**GOOD_DOCDB, "deletionProtection": False})])
    assert violations(r, "rds-deletion-protection")


def test_multi_az_rules_are_advisory_under_the_dev_config():
    r = check([rec(RDS, "db", {**GOOD_DB, "multiAz": False})], level="advisory")
    [v] = violations(r, "rds-multi-az")
    assert v.level == "advisory"


# --- issue 31: public snapshots ----------------------------------------------------------------------------------
def test_snapshot_shared_with_all_is_reported():
    from policy_harness import names
    snap, cluster_snap = "aws:rds/snapshot:Snapshot", "aws:rds/clusterSnapshot:ClusterSnapshot"
    r = check([rec(snap, "public", {"dbInstanceIdentifier": UNKNOWN, "dbSnapshotIdentifier": "s",
                                    "sharedAccounts": ["all"]}),
               rec(cluster_snap, "public-cluster", {"dbClusterIdentifier": UNKNOWN, "dbClusterSnapshotIdentifier": "c",
                                                    "sharedAccounts": ["123456789012", "ALL"]}),
               rec(snap, "shared", {"dbInstanceIdentifier": UNKNOWN, "dbSnapshotIdentifier": "s2",
                                    "sharedAccounts": ["123456789012"]}),
               rec(snap, "private", {"dbInstanceIdentifier": UNKNOWN, "dbSnapshotIdentifier": "s3"})])
    found = violations(r, "rds-snapshot-not-public")
    assert names(found) == {"public", "public-cluster"} and not skipped(r, "rds-snapshot-not-public")
    assert all(v.level == "mandatory" and "'all'" in v.message for v in found)


# ------------------------------------------------------------------ deployability (issue 24): replica and source
SOURCE = {**GOOD_DB, "identifier": "app-db", "manageMasterUserPassword": False, "iamDatabaseAuthenticationEnabled": True}
REPLICA = {"replicateSourceDb": UNKNOWN, "storageEncrypted": True, "kmsKeyId": UNKNOWN, "publiclyAccessible": False,
           "deletionProtection": True, "iamDatabaseAuthenticationEnabled": True}


def replica_stack(source=None, replica=None, *, wired=True):
    """A source and its replica as a new stack's preview shows them (the replica names the source's output)."""
    deps = {"replicateSourceDb": ["src"]} if wired else None
    return [rec(RDS, "src", {**SOURCE, **(source or {})}),
            rec(RDS, "replica", props_with(REPLICA, replica or {}), prop_deps=deps)]


def test_replica_of_a_managed_password_source_is_refused():
    r = check(replica_stack({"manageMasterUserPassword": True}))
    [v] = violations(r, "rds-replica-source-password-not-managed")
    assert v.urn.endswith("::replica") and "Secrets Manager" in v.message and v.level == "mandatory"
    assert violations(check(replica_stack()), "rds-replica-source-password-not-managed") == []
    # the source named by a literal identifier (same-region replica) is found too
    literal = check(replica_stack({"manageMasterUserPassword": True}, {"replicateSourceDb": "app-db"}, wired=False))
    assert violations(literal, "rds-replica-source-password-not-managed")
    # a replica that asks for a managed password itself
    assert violations(check(replica_stack(replica={"manageMasterUserPassword": True})),
                      "rds-replica-source-password-not-managed")


def test_replica_needs_a_source_with_backups():
    assert violations(check(replica_stack({"backupRetentionPeriod": 0})), "rds-replica-source-backups")
    assert violations(check(replica_stack()), "rds-replica-source-backups") == []


def test_replica_must_enable_iam_auth_when_its_source_does():
    r = check(replica_stack(replica={"iamDatabaseAuthenticationEnabled": None}))
    [v] = violations(r, "rds-replica-iam-auth-matches-source")
    assert "does not inherit" in v.message
    assert violations(check(replica_stack()), "rds-replica-iam-auth-matches-source") == []
    # a source without IAM auth asks nothing of its replica
    assert violations(check(replica_stack({"iamDatabaseAuthenticationEnabled": False},
                                          {"iamDatabaseAuthenticationEnabled": None})),
                      "rds-replica-iam-auth-matches-source") == []


def test_cross_region_replica_needs_a_key_of_its_own_region():
    src_arn = "arn:aws:rds:us-east-1:123456789012:db:app-db"
    missing = check(replica_stack(replica={"replicateSourceDb": src_arn, "kmsKeyId": None}))
    assert "names no kmsKeyId" in violations(missing, "rds-cross-region-replica-kms-key")[0].message
    wrong = check(replica_stack(replica={"replicateSourceDb": src_arn,
                                         "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"}))
    assert "source's region" in violations(wrong, "rds-cross-region-replica-kms-key")[0].message
    good = check(replica_stack(replica={"replicateSourceDb": src_arn,
                                        "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/k"}))
    assert violations(good, "rds-cross-region-replica-kms-key") == []


def test_iam_database_authentication():
    from policy_harness import names
    r = check([rec(RDS, "pg-off", {**GOOD_DB, "iamDatabaseAuthenticationEnabled": False}),
               rec(RDS, "pg-string-false", {**GOOD_DB, "iamDatabaseAuthenticationEnabled": "false"}),
               rec(RDS, "pg-on", {**GOOD_DB, "iamDatabaseAuthenticationEnabled": True}),
               rec(RDS, "replica-on", {"replicateSourceDb": UNKNOWN, "iamDatabaseAuthenticationEnabled": True}),
               rec(RDS, "sqlserver", {**GOOD_DB, "engine": "sqlserver-se"}),
               rec(CLUSTER, "aurora-unset", {"engine": "aurora-postgresql", "storageEncrypted": True})])
    assert names(violations(r, "rds-iam-authentication")) == {"pg-off", "pg-string-false", "aurora-unset"}
    assert [n["urn"].split("::")[-1] for n in not_applicable(r, "rds-iam-authentication")] == ["sqlserver"]


def test_the_recorded_prod_plan_with_a_managed_password_source_is_refused():
    """Issue 24's defect reintroduced on the recorded plan: the primary manages its master password again, and the
    pack (prod config) reports both replicas of it, the primary region's and the DR region's, as mandatory."""
    import copy
    import json

    from conftest import ROOT, stack_plan
    from plan.analyze import analyze

    config = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    assert not [v for v in analyze(plan, policy_config=config).of("rds-replica-source-password-not-managed")]
    [primary] = [r for r in plan.resources if r.type == RDS and r.name == "postgres"]
    primary.inputs["manageMasterUserPassword"] = True
    found = analyze(plan, policy_config=config).of("rds-replica-source-password-not-managed")
    assert {v.urn.split("::")[-1] for v in found} == {"postgres-replica", "postgres-dr"}
    assert {v.level for v in found} == {"mandatory"}


def test_rds_auto_minor_version_upgrade_both_sides():
    r = check([rec(RDS, "default", {"engine": "postgres"}), rec(RDS, "on", {"autoMinorVersionUpgrade": True}),
               rec(RDS, "off", {"autoMinorVersionUpgrade": False}),
               rec("aws:rds/clusterInstance:ClusterInstance", "member-off", {"autoMinorVersionUpgrade": "false"})])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "rds-auto-minor-version-upgrade")) == [
        "member-off", "off"]
