"""RDS instances and clusters: encryption, no public access, backups, multi-AZ, deletion protection."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import flag, fsbp, get, resource_policy
from ._shared import DOCDB_CLUSTER

RDS_INSTANCE = "aws:rds/instance:Instance"

RDS_CLUSTER = "aws:rds/cluster:Cluster"

RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"

DEFAULT_MIN_RETENTION = 7


def _is_replica(props) -> bool:
    return get(props, "replicateSourceDb") is not None


def _rds_encrypted(props, report, args):
    if flag(props, "storageEncrypted") is not True:
        report("storageEncrypted must be true (set kmsKeyId to a customer managed key).")


def _rds_public(props, report, args):
    if flag(props, "publiclyAccessible") is True:
        report("publiclyAccessible is true: the database gets a public address. Keep it on isolated subnets and "
               "reach it from the application security group.")


def _backup_retention(props, report, args):
    if args.resource_type == RDS_INSTANCE and _is_replica(props):
        args.not_applicable("read replicas are restored from their source's backups")
        return
    minimum = int((args.get_config() or {}).get("minimumRetentionDays", DEFAULT_MIN_RETENTION))
    days = get(props, "backupRetentionPeriod", 1)  # the API default when unset
    if days < minimum:
        report(f"backupRetentionPeriod {days:g} is below the minimum of {minimum} days.")


def _rds_multi_az(props, report, args):
    if _is_replica(props):
        args.not_applicable("a read replica's availability comes from its source")
        return
    if flag(props, "multiAz") is not True:
        report("multiAz must be true: a single-AZ database is down for the length of an AZ or host failure.")


def _deletion_protection(props, report, args):
    if flag(props, "deletionProtection") is not True:
        report("deletionProtection must be true.")


POLICIES = [
    resource_policy(
        "rds-storage-encrypted", "RDS instances and clusters must encrypt their storage.",
        (RDS_INSTANCE, RDS_CLUSTER), _rds_encrypted, severity=Severity.HIGH, framework=fsbp("RDS.3"),
        remediation="Set storage_encrypted=True and kms_key_id=<data key ARN>; an existing unencrypted instance "
                    "needs a snapshot copy with encryption and a restore.",
        tags=["checkov:CKV_AWS_96", "compliance-policies:aws-rds-instance-disallow-unencrypted-storage",
              "compliance-policies:aws-rds-cluster-disallow-unencrypted-storage",
              "encryption", "rds", "checkov:CKV_AWS_16", "cdk-nag:RDS2"]),
    resource_policy(
        "rds-no-public-access", "RDS instances must not be publicly accessible.",
        (RDS_INSTANCE, RDS_CLUSTER_INSTANCE), _rds_public, severity=Severity.CRITICAL, framework=fsbp("RDS.2"),
        remediation="Set publicly_accessible=False and place the subnet group on isolated subnets.",
        tags=["compliance-policies:aws-rds-instance-disallow-public-access",
              "compliance-policies:aws-rds-clusterinstance-disallow-public-access",
              "awsguard:rds-instance-public-access",
              "network", "exposure", "rds", "checkov:CKV_AWS_17"]),
    resource_policy(
        "rds-backup-retention", "Databases must keep automated backups for a minimum number of days.",
        (RDS_INSTANCE, RDS_CLUSTER, DOCDB_CLUSTER), _backup_retention, severity=Severity.MEDIUM,
        framework=fsbp("RDS.11"),
        remediation="Set backup_retention_period to at least the minimum (and a backup window).",
        tags=["compliance-policies:aws-rds-instance-enable-backup-retention",
              "compliance-policies:aws-rds-instance-configure-backup-retention",
              "compliance-policies:aws-rds-cluster-enable-backup-retention",
              "compliance-policies:aws-rds-cluster-configure-backup-retention",
              "awsguard:rds-instance-backup-enabled",
              "resilience", "backup", "rds", "docdb", "checkov:CKV_AWS_133", "cdk-nag:RDS13"],
        config_schema=PolicyConfigSchema(properties={
            "minimumRetentionDays": {"type": "integer", "minimum": 1, "maximum": 35,
                                     "default": DEFAULT_MIN_RETENTION}})),
    resource_policy(
        "rds-multi-az", "RDS instances (other than read replicas) must be Multi-AZ.",
        (RDS_INSTANCE,), _rds_multi_az, severity=Severity.HIGH, framework=fsbp("RDS.5"),
        remediation="Set multi_az=True (the data tier's dbMultiAz setting).",
        tags=["awsguard:rds-instance-multi-az-enabled",
              "resilience", "availability", "rds", "checkov:CKV_AWS_157", "cdk-nag:RDS3"]),
    resource_policy(
        "rds-deletion-protection", "RDS instances and clusters and DocumentDB clusters must have deletion "
        "protection.", (RDS_INSTANCE, RDS_CLUSTER, DOCDB_CLUSTER), _deletion_protection, severity=Severity.HIGH,
        framework=fsbp("RDS.8"),
        remediation="Set deletion_protection=True (the stack's platform.protect setting).",
        tags=["checkov:CKV_AWS_139",
              "resilience", "protection", "rds", "docdb", "checkov:CKV_AWS_293", "cdk-nag:RDS10"]),
]


# --- resource-based access (issue 31): snapshots shared with everyone ----------------------------------------
RDS_SNAPSHOTS = ("aws:rds/snapshot:Snapshot", "aws:rds/clusterSnapshot:ClusterSnapshot",
                 "aws:rds/snapshotCopy:SnapshotCopy")


def _snapshot_not_public(props, report, args):
    from ._lib import items
    shared = [str(a) for a in items(get(props, "sharedAccounts"))]
    if any(a.lower() == "all" for a in shared):
        report("sharedAccounts contains 'all': every AWS account can copy and restore the snapshot (the data).")


POLICIES.append(resource_policy(
    "rds-snapshot-not-public", "RDS snapshots must not be shared publicly (sharedAccounts 'all').", RDS_SNAPSHOTS,
    _snapshot_not_public, severity=Severity.CRITICAL, framework=fsbp("RDS.1"),
    remediation="Remove 'all' from shared_accounts; share with the named account ids that need the copy.",
    refs={"checkov": "CKV_AWS_302"}, tags=["rds", "exposure", "snapshots"]))
