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


POLICIES: list = [
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


# ------------------------------------------------------------------ deployability (issue 24)
# Constraints AWS documents between a read replica and its source: CreateDBInstanceReadReplica refuses them, or
# the replica deploys without what its clients need. Each description cites its source.
from ._compliance import is_unknown as _unknown  # noqa: E402
from ._lib import stack_policy  # noqa: E402
from ._links import arn_region, linked  # noqa: E402

_DOCS = "https://docs.aws.amazon.com/AmazonRDS/latest/"


def _replicas(resources):
    """(replica, [its source in this stack]) for every instance that sets replicateSourceDb."""
    for r in resources:
        if r.resource_type == RDS_INSTANCE and "replicateSourceDb" in list(iter(r.props)):
            yield r, linked(resources, r, "replicateSourceDb", (RDS_INSTANCE,))


def _replica_of_managed_password(resources, report, args):
    for replica, sources in _replicas(resources):
        if flag(replica.props, "manageMasterUserPassword") is True:
            report(f"read replica {replica.name} sets manageMasterUserPassword: a replica takes its credentials from "
                   "its source and RDS refuses it.", replica.urn)
        for src in sources:
            if flag(src.props, "manageMasterUserPassword") is True:
                report(f"read replica {replica.name} of {src.name}, whose master password RDS manages in Secrets "
                       "Manager: RDS refuses to create it (every engine but SQL Server). Give the source a master "
                       "password the program controls (a secret of its own) or drop the replica.", replica.urn)


def _replica_source_backups(resources, report, args):
    for replica, sources in _replicas(resources):
        for src in sources:
            days = get(src.props, "backupRetentionPeriod", 1)   # the API default when unset
            if days == 0:
                report(f"read replica {replica.name}: its source {src.name} keeps no automated backups "
                       "(backupRetentionPeriod 0); RDS creates replicas only of a source with backups on.", replica.urn)


def _replica_iam_auth(resources, report, args):
    for replica, sources in _replicas(resources):
        if flag(replica.props, "iamDatabaseAuthenticationEnabled") is True:
            continue
        for src in sources:
            if flag(src.props, "iamDatabaseAuthenticationEnabled") is True:
                report(f"read replica {replica.name} leaves IAM database authentication off while its source "
                       f"{src.name} uses it: the replica does not inherit the setting, and every client that "
                       "connects to it with an IAM token is refused.", replica.urn)


def _cross_region_replica_key(resources, report, args):
    for replica, sources in _replicas(resources):
        if _unknown(replica.props, "replicateSourceDb"):
            source_region = None
            if not sources:
                continue
        else:
            source_region = arn_region(get(replica.props, "replicateSourceDb"))
        if source_region is None:
            continue   # a same-region replica names its source by identifier
        encrypted = flag(replica.props, "storageEncrypted") is True or any(
            flag(s.props, "storageEncrypted") is True for s in sources)
        if not encrypted:
            continue
        if _unknown(replica.props, "kmsKeyId"):
            continue   # another resource's output: a key the program creates (its region is its provider's)
        if not get(replica.props, "kmsKeyId"):
            report(f"cross-region read replica {replica.name} of an encrypted source names no kmsKeyId: RDS needs "
                   "a key of the replica's region.", replica.urn)
        elif arn_region(get(replica.props, "kmsKeyId")) == source_region:
            report(f"cross-region read replica {replica.name}: kmsKeyId is a key of the source's region "
                   f"{source_region}; KMS keys are regional, the replica needs one of its own region.", replica.urn)


POLICIES += [
    stack_policy(
        "rds-replica-source-password-not-managed",
        "A read replica's source must not have its master password managed by RDS in Secrets Manager: RDS "
        "refuses to create the replica (RDS User Guide, \"Password management with Amazon RDS and AWS Secrets "
        f"Manager\", Limitations: {_DOCS}UserGuide/rds-secrets-manager.html).",
        _replica_of_managed_password, types=(RDS_INSTANCE,), severity=Severity.HIGH,
        remediation="Give the source a master password the program controls (a Secrets Manager secret of its own, "
                    "rotated by a function) instead of manage_master_user_password, or drop the replica.",
        tags=["rds", "deployability"]),
    stack_policy(
        "rds-replica-source-backups",
        "A read replica's source must keep automated backups (backup retention > 0) (RDS API Reference, "
        f"CreateDBInstanceReadReplica: {_DOCS}APIReference/API_CreateDBInstanceReadReplica.html).",
        _replica_source_backups, types=(RDS_INSTANCE,), severity=Severity.HIGH,
        remediation="Set backup_retention_period >= 1 on the source.", tags=["rds", "deployability"]),
    stack_policy(
        "rds-replica-iam-auth-matches-source",
        "A read replica of a source that uses IAM database authentication must enable it too: the replica does "
        "not inherit it (RDS API Reference, CreateDBInstanceReadReplica, EnableIAMDatabaseAuthentication: "
        f"{_DOCS}APIReference/API_CreateDBInstanceReadReplica.html).",
        _replica_iam_auth, types=(RDS_INSTANCE,), severity=Severity.HIGH,
        remediation="Set iam_database_authentication_enabled=True on the replica.", tags=["rds", "deployability"]),
    stack_policy(
        "rds-cross-region-replica-kms-key",
        "An encrypted cross-region read replica must name a KMS key of its own region (RDS API Reference, "
        f"CreateDBInstanceReadReplica, KmsKeyId: {_DOCS}APIReference/API_CreateDBInstanceReadReplica.html).",
        _cross_region_replica_key, types=(RDS_INSTANCE,), severity=Severity.HIGH,
        remediation="Set kms_key_id to a customer managed key created in the replica's region.",
        tags=["rds", "deployability", "dr"]),
]


# --- authentication (coverage gap): IAM database authentication ------------------------------------------------
IAM_AUTH_ENGINES = ("mysql", "mariadb", "postgres", "aurora", "aurora-mysql", "aurora-postgresql")


def _iam_auth(props, report, args):
    engine = get(props, "engine")
    if engine is not None and str(engine) not in IAM_AUTH_ENGINES:
        args.not_applicable(f"engine {engine} does not support IAM database authentication")
        return
    if flag(props, "iamDatabaseAuthenticationEnabled") is not True:
        report("iamDatabaseAuthenticationEnabled must be true: applications connect with short-lived IAM tokens "
               "instead of long-lived database passwords.")


POLICIES.append(resource_policy(
    "rds-iam-authentication", "RDS instances and Aurora clusters (MySQL, MariaDB, PostgreSQL) must enable IAM "
    "database authentication.", (RDS_INSTANCE, RDS_CLUSTER), _iam_auth, severity=Severity.MEDIUM,
    framework=fsbp("RDS.10"),
    remediation="iam_database_authentication_enabled=True; create the database user with the rds_iam role and "
                "have the application use rds.generate_db_auth_token (components/ services do).",
    refs={"checkov": ["CKV_AWS_161", "CKV_AWS_162"], "cdk-nag": "AwsSolutions-RDS6", "fsbp": "RDS.12"},
    tags=["rds", "authentication"]))


def _minor_upgrades(props, report, args):
    if flag(props, "autoMinorVersionUpgrade", True) is False:
        report("autoMinorVersionUpgrade must not be false: minor versions carry the engine's security fixes.")


POLICIES.append(resource_policy(
    "rds-auto-minor-version-upgrade", "RDS instances must take minor engine upgrades automatically (in their "
    "maintenance window).", (RDS_INSTANCE, RDS_CLUSTER_INSTANCE), _minor_upgrades, severity=Severity.MEDIUM,
    framework=fsbp("RDS.13"), remediation="Leave autoMinorVersionUpgrade at its default (true).",
    refs={"cis": "2.3.2", "checkov": "CKV_AWS_226"}, tags=["rds", "patching"]))
