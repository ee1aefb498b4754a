"""Databases, caches and tables: encryption, exposure, backups, availability and deletion protection.

Multi-AZ and deletion protection are rules like the others; the stack's policy config decides their
enforcement (advisory in dev, mandatory in prod).
"""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import flag, fsbp, get, resource_policy

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
DOCDB_CLUSTER = "aws:docdb/cluster:Cluster"
ELASTICACHE_RG = "aws:elasticache/replicationGroup:ReplicationGroup"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
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


def _elasticache_encryption(props, report, args):
    missing = [k for k in ("atRestEncryptionEnabled", "transitEncryptionEnabled") if flag(props, k) is not True]
    if missing:
        report(f"{' and '.join(missing)} must be true.")


def _elasticache_multi_az(props, report, args):
    nodes = get(props, "numCacheClusters")
    if get(props, "numNodeGroups") is not None or get(props, "replicasPerNodeGroup") is not None:
        nodes = 1 + int(get(props, "replicasPerNodeGroup", 0))
    problems = []
    if flag(props, "automaticFailoverEnabled") is not True:
        problems.append("automaticFailoverEnabled must be true")
    if flag(props, "multiAzEnabled") is not True:
        problems.append("multiAzEnabled must be true")
    if nodes is not None and int(nodes) < 2:
        problems.append(f"at least 2 nodes per shard are needed (has {int(nodes)})")
    if problems:
        report("; ".join(problems) + ".")


def _dynamodb_pitr(props, report, args):
    if flag(props, "pointInTimeRecovery.enabled") is not True:
        report("pointInTimeRecovery.enabled must be true.")


def _dynamodb_encryption(props, report, args):
    sse = get(props, "serverSideEncryption")
    # Key presence, not its value: the key ARN is unknown in a preview of a new stack, and iterating the
    # keys does not read it. enabled without kmsKeyArn means the AWS managed aws/dynamodb key.
    if flag(props, "serverSideEncryption.enabled") is not True or "kmsKeyArn" not in list(iter(sse)):
        report("serverSideEncryption.enabled must be true with a customer managed kmsKeyArn (the default AWS owned "
               "key cannot be audited or restricted).")


def _dynamodb_deletion_protection(props, report, args):
    if flag(props, "deletionProtectionEnabled") is not True:
        report("deletionProtectionEnabled must be true.")


def _docdb_encryption(props, report, args):
    if flag(props, "storageEncrypted") is not True:
        report("storageEncrypted must be true (set kmsKeyId to a customer managed key).")


POLICIES = [
    resource_policy(
        "rds-storage-encrypted", "RDS instances and clusters must encrypt their storage.",
        (RDS_INSTANCE, RDS_CLUSTER), _rds_encrypted, severity=Severity.HIGH, framework=fsbp("RDS.3"),
        remediation="Set storage_encrypted=True and kms_key_id=<data key ARN>; an existing unencrypted instance "
                    "needs a snapshot copy with encryption and a restore.",
        tags=["encryption", "rds", "checkov:CKV_AWS_16", "cdk-nag:RDS2"]),
    resource_policy(
        "rds-no-public-access", "RDS instances must not be publicly accessible.",
        (RDS_INSTANCE, RDS_CLUSTER_INSTANCE), _rds_public, severity=Severity.CRITICAL, framework=fsbp("RDS.2"),
        remediation="Set publicly_accessible=False and place the subnet group on isolated subnets.",
        tags=["network", "exposure", "rds", "checkov:CKV_AWS_17"]),
    resource_policy(
        "rds-backup-retention", "Databases must keep automated backups for a minimum number of days.",
        (RDS_INSTANCE, RDS_CLUSTER, DOCDB_CLUSTER), _backup_retention, severity=Severity.MEDIUM,
        framework=fsbp("RDS.11"),
        remediation="Set backup_retention_period to at least the minimum (and a backup window).",
        tags=["resilience", "backup", "rds", "docdb", "checkov:CKV_AWS_133", "cdk-nag:RDS13"],
        config_schema=PolicyConfigSchema(properties={
            "minimumRetentionDays": {"type": "integer", "minimum": 1, "maximum": 35,
                                     "default": DEFAULT_MIN_RETENTION}})),
    resource_policy(
        "rds-multi-az", "RDS instances (other than read replicas) must be Multi-AZ.",
        (RDS_INSTANCE,), _rds_multi_az, severity=Severity.HIGH, framework=fsbp("RDS.5"),
        remediation="Set multi_az=True (the data tier's dbMultiAz setting).",
        tags=["resilience", "availability", "rds", "checkov:CKV_AWS_157", "cdk-nag:RDS3"]),
    resource_policy(
        "rds-deletion-protection", "RDS instances and clusters and DocumentDB clusters must have deletion "
        "protection.", (RDS_INSTANCE, RDS_CLUSTER, DOCDB_CLUSTER), _deletion_protection, severity=Severity.HIGH,
        framework=fsbp("RDS.8"),
        remediation="Set deletion_protection=True (the stack's platform.protect setting).",
        tags=["resilience", "protection", "rds", "docdb", "checkov:CKV_AWS_293", "cdk-nag:RDS10"]),
    resource_policy(
        "elasticache-encryption", "ElastiCache replication groups must encrypt data at rest and in transit.",
        (ELASTICACHE_RG,), _elasticache_encryption, severity=Severity.HIGH, framework=fsbp("ElastiCache.4"),
        remediation="Set at_rest_encryption_enabled=True with kms_key_id, and transit_encryption_enabled=True "
                    "(replacement for an existing group).",
        tags=["encryption", "elasticache", "checkov:CKV_AWS_29", "checkov:CKV_AWS_30", "cdk-nag:AEC3"]),
    resource_policy(
        "elasticache-multi-az", "ElastiCache replication groups must fail over automatically to another AZ.",
        (ELASTICACHE_RG,), _elasticache_multi_az, severity=Severity.MEDIUM, framework=fsbp("ElastiCache.3"),
        remediation="Set num_cache_clusters >= 2, automatic_failover_enabled=True and multi_az_enabled=True.",
        tags=["resilience", "availability", "elasticache", "checkov:CKV2_AWS_50", "cdk-nag:AEC4"]),
    resource_policy(
        "dynamodb-pitr-enabled", "DynamoDB tables must have point-in-time recovery.",
        (DYNAMODB_TABLE,), _dynamodb_pitr, severity=Severity.MEDIUM, framework=fsbp("DynamoDB.2"),
        remediation="Set point_in_time_recovery={'enabled': True}.",
        tags=["resilience", "backup", "dynamodb", "checkov:CKV_AWS_28", "cdk-nag:DDB3"]),
    resource_policy(
        "dynamodb-encryption", "DynamoDB tables must be encrypted with a customer managed KMS key.",
        (DYNAMODB_TABLE,), _dynamodb_encryption, severity=Severity.MEDIUM,
        remediation="Set server_side_encryption={'enabled': True, 'kms_key_arn': <data key ARN>}.",
        tags=["encryption", "dynamodb", "checkov:CKV_AWS_119"]),
    resource_policy(
        "dynamodb-deletion-protection", "DynamoDB tables must have deletion protection.",
        (DYNAMODB_TABLE,), _dynamodb_deletion_protection, severity=Severity.MEDIUM, framework=fsbp("DynamoDB.6"),
        remediation="Set deletion_protection_enabled=True (the stack's platform.protect setting).",
        tags=["resilience", "protection", "dynamodb"]),
    resource_policy(
        "docdb-encryption", "DocumentDB clusters must encrypt their storage.",
        (DOCDB_CLUSTER,), _docdb_encryption, severity=Severity.HIGH, framework=fsbp("DocumentDB.1"),
        remediation="Set storage_encrypted=True and kms_key_id=<data key ARN> (replacement for an existing cluster).",
        tags=["encryption", "docdb", "checkov:CKV_AWS_74", "cdk-nag:DOC1"]),
]
