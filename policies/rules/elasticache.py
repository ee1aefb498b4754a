"""ElastiCache replication groups: encryption at rest and in transit, multi-AZ failover."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import flag, fsbp, get, resource_policy

ELASTICACHE_RG = "aws:elasticache/replicationGroup:ReplicationGroup"


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


POLICIES = [
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
]
