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


# --- auth (issue 31): transit encryption is not authentication ------------------------------------------------
def _user_groups_set(props) -> bool:
    """userGroupIds names at least one group, known or computed (an unknown entry is a group another resource
    creates), without reading unknown values."""
    from pulumi_policy.proxy import _is_unknown

    from ._compliance import is_unknown, raw
    if is_unknown(props, "userGroupIds"):
        return True
    groups = raw(props).get("userGroupIds") if "userGroupIds" in list(props) else None
    return isinstance(groups, list) and any(_is_unknown(g) or g for g in groups)


def _redis_auth(props, report, args):
    from ._shared import present
    engine = str(get(props, "engine", "redis")).lower()
    if engine not in ("redis", "valkey"):
        return
    if present(props, "authToken") or _user_groups_set(props):
        return  # set (known or computed): the secret's value is never read
    report("no authToken (Redis AUTH) and no userGroupIds (RBAC): any client that reaches the port can read and "
           "write every key" + ("" if flag(props, "transitEncryptionEnabled") is True else
                                 " (and AUTH needs transitEncryptionEnabled=true)") + ".")


POLICIES.append(resource_policy(
    "elasticache-redis-auth", "ElastiCache Redis/Valkey replication groups must authenticate clients (AUTH token "
    "or RBAC user group).", (ELASTICACHE_RG,), _redis_auth, severity=Severity.HIGH, framework=fsbp("ElastiCache.6"),
    remediation="transit_encryption_enabled=True with auth_token=<secret from config --secret> (or user_group_ids "
                "with IAM-authenticated users).",
    refs={"checkov": "CKV_AWS_31", "cdk-nag": "AwsSolutions-AEC6"}, tags=["elasticache", "authentication"]))


# ------------------------------------------------------------------ deployability (issue 24)
_EC_DOCS = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/"


def _version(value) -> tuple:
    out = []
    for part in str(value).split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def _auth_needs_transit(props, report, args):
    from ._shared import present
    if present(props, "authToken") and flag(props, "transitEncryptionEnabled") is not True:
        report("authToken is set but transitEncryptionEnabled is not true: ElastiCache accepts an AUTH token only "
               "with in-transit encryption enabled, so CreateReplicationGroup fails.")
    if flag(props, "transitEncryptionEnabled") is True and str(get(props, "engine", "redis")).lower() == "redis":
        version = get(props, "engineVersion")
        if version is not None and _version(version) < (3, 2, 6):
            report(f"transitEncryptionEnabled needs Redis OSS 3.2.6 or later (engineVersion {version}).")


def _failover_needs_replicas(props, report, args):
    nodes = get(props, "numCacheClusters")
    if get(props, "numNodeGroups") is not None or get(props, "replicasPerNodeGroup") is not None:
        nodes = 1 + int(get(props, "replicasPerNodeGroup", 0))
    failover = flag(props, "automaticFailoverEnabled")
    if failover is True and nodes is not None and int(nodes) < 2:
        report(f"automaticFailoverEnabled needs a replica (at least 2 nodes per shard, has {int(nodes)}): "
               "CreateReplicationGroup fails.")
    if flag(props, "multiAzEnabled") is True and failover is not True:
        report("multiAzEnabled needs automaticFailoverEnabled=true: CreateReplicationGroup fails.")


POLICIES += [
    resource_policy(
        "elasticache-auth-token-requires-transit-encryption",
        "An ElastiCache AUTH token requires in-transit encryption (and TLS a Redis OSS engine of 3.2.6 or later) "
        f"(ElastiCache User Guide, \"Authenticating with the Valkey and Redis OSS AUTH command\": {_EC_DOCS}auth.html; "
        f"\"ElastiCache in-transit encryption (TLS)\": {_EC_DOCS}in-transit-encryption.html).",
        (ELASTICACHE_RG,), _auth_needs_transit, severity=Severity.HIGH,
        remediation="Set transit_encryption_enabled=True (a replacement of an existing group on older engines).",
        tags=["elasticache", "deployability"]),
    resource_policy(
        "elasticache-failover-requires-replicas",
        "ElastiCache automatic failover requires a replica, and Multi-AZ requires automatic failover "
        f"(ElastiCache User Guide, \"Minimizing downtime in ElastiCache by using Multi-AZ\": {_EC_DOCS}AutoFailover.html).",
        (ELASTICACHE_RG,), _failover_needs_replicas, severity=Severity.HIGH,
        remediation="num_cache_clusters >= 2 with automatic_failover_enabled=True and multi_az_enabled=True, or "
                    "all three off for a single node.",
        tags=["elasticache", "deployability"]),
]
