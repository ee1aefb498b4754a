"""Data tier: what each store registers (dev and prod), its wiring to the network and security tiers, the
protection of every stateful resource in prod, and the prod policies failing a dev-like config.

The plans are the whole program's (the real wiring), one per variant for the test run (conftest.plan_for, shared
with the other modules), with the data tier's published outputs as their exports; the DR region's instance of the
tiers is left out (conftest.primary).
"""
from __future__ import annotations

import copy
import functools
import json

import pytest

from conftest import (
    DEV_ALTERNATIVES,
    PROD_STANDBY_ALTERNATIVES,
    ROOT,
    dev_alternatives,
    everything_on,
    plan_for,
    primary,
    prod_standby_alternatives,
)
from conftest import stack_plan as stack_plan_of
from plan.analyze import analyze, load_policy_config
from plan.engine import UNKNOWN, is_secret
from plan.stackfile import load_stack_config, stack_file_path
from policies.rules import policies_of
from policies.rules import s3 as s3_rules

RDS = "aws:rds/instance:Instance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
DOCDB = "aws:docdb/cluster:Cluster"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DATA_POLICIES = {p.name for p in policies_of("rds", "elasticache", "dynamodb", "docdb", "s3")} - {
    "s3-data-buckets-replicated"}  # replication is the DR tier's
CONTRACT = ["db_address", "db_port", "db_master_secret_arn", "db_instance_identifier", "db_instance_arn",
            "db_replica_identifier", "redis_endpoint", "redis_port", "redis_auth_secret_arn",
            "redis_replication_group_id", "table_names", "table_arns", "table_stream_arns", "docdb_endpoint",
            "bucket_names", "bucket_arns", "log_bucket_name", "log_bucket_arn", "log_bucket_domain_name"]


def stack_config(stack: str, **data_overrides) -> dict:
    name, path = stack_file_path(stack, None)
    config, _ = load_stack_config(name, path)
    config = copy.deepcopy(config)
    for tier, values in data_overrides.items():
        config[f"ai-platform:{tier}"] = {**config.get(f"ai-platform:{tier}", {}), **values}
    return config


@functools.cache
def plan_of(variant: str):
    # "prod" is the prod stack with DocumentDB and one more table switched on (conftest.everything_on): a
    # superset of the default prod plan (same settings otherwise), so one plan serves the prod assertions.
    if variant in ("prod", "dev-full"):
        stack, preview = ("prod", True) if variant == "prod" else ("dev", False)
        return primary(plan_for(everything_on(stack), stack=stack, preview=preview, contracts=True))
    if variant == "prod-unprotected":
        # A dev-like prod: protection and Multi-AZ off (conftest.PROD_STANDBY_ALTERNATIVES: in update mode, with
        # warm-standby, a smaller standby cache and no DNS settings, which the primary's data tier does not read).
        assert {k: PROD_STANDBY_ALTERNATIVES[f"ai-platform:{k}"] for k in ("platform", "data")} == {
            "platform": {"protect": False}, "data": {"dbMultiAz": False, "redisMultiAz": False, "redisNodes": 1}}
        return primary(prod_standby_alternatives(contracts=True))
    variants = {
        "dev": ("dev", {}, True),
        "prod-update": ("prod", {}, False),
    }
    stack, overrides, preview = variants[variant]
    # the whole program (the real wiring), with the data tier's published outputs as the plan's exports
    return primary(plan_for(stack_config(stack, **overrides), stack=stack, preview=preview, contracts=True))


def data_resources(plan, token=None):
    return [r for r in plan.resources if "ai-platform:tier:Data" in r.parent and (token is None or r.type == token)]


def urn_of(plan, name, token=None):
    return plan.named(name, token).urn


def depends(resource, prop, target_urn) -> bool:
    return target_urn in resource.propertyDependencies.get(prop, [])


# --- PostgreSQL ---------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_postgres_is_private_encrypted_and_managed(stack):
    plan = plan_of(stack)
    db = plan.named("postgres", RDS)
    props = db.props
    assert props["engine"] == "postgres" and props["engineVersion"] == "17"
    assert props["instanceClass"] == {"dev": "db.t4g.micro", "prod": "db.r6g.large"}[stack]
    assert props["storageType"] == "gp3" and props["maxAllocatedStorage"] > props["allocatedStorage"]
    assert props["storageEncrypted"] is True and depends(db, "kmsKeyId", urn_of(plan, "data-key", KEY))
    assert props["publiclyAccessible"] is False
    # a stack-generated password (RDS refuses replicas of a managed-password source), kept in the stack's secret
    assert not props.get("manageMasterUserPassword") and "password" in db.inputs
    assert "password" in db.options["ignoreChanges"]
    secret = plan.named("postgres-master", "aws:secretsmanager/secret:Secret")
    assert depends(secret, "kmsKeyId", urn_of(plan, "secrets-key", KEY))
    assert props["iamDatabaseAuthenticationEnabled"] is True
    assert props["performanceInsightsEnabled"] is True
    assert depends(db, "performanceInsightsKmsKeyId", urn_of(plan, "data-key", KEY))
    assert props["monitoringInterval"] in (1, 5, 10, 15, 30, 60)
    assert depends(db, "monitoringRoleArn", urn_of(plan, "postgres-monitoring-role"))
    assert depends(db, "vpcSecurityGroupIds", urn_of(plan, "data-sg"))
    assert props["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    assert props["backupWindow"] and props["maintenanceWindow"]


def test_postgres_dev_is_small_and_disposable():
    db = plan_of("dev").named("postgres", RDS)
    assert db.props["multiAz"] is False and db.props["deletionProtection"] is False
    assert db.props["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in db.props
    assert db.props["backupRetentionPeriod"] >= 1
    assert [r.name for r in data_resources(plan_of("dev"), RDS)] == ["postgres"]
    assert not db.options["protect"]


def test_postgres_prod_is_highly_available_and_recoverable():
    plan = plan_of("prod")
    db = plan.named("postgres", RDS)
    props = db.props
    assert props["multiAz"] is True and props["deletionProtection"] is True
    assert props["skipFinalSnapshot"] is False and props["finalSnapshotIdentifier"] == "ai-platform-prod-postgres-final"
    assert props["backupRetentionPeriod"] >= 7 and props["deleteAutomatedBackups"] is False
    assert set(props["enabledCloudwatchLogsExports"]) >= {"postgresql", "upgrade"}
    # Export targets exist first, KMS-encrypted, named as RDS names them.
    for log in props["enabledCloudwatchLogsExports"]:
        group = plan.named(f"postgres-logs-{log}", LOG_GROUP)
        assert group.props["name"] == f"/aws/rds/instance/ai-platform-prod-postgres/{log}"
        assert depends(group, "kmsKeyId", urn_of(plan, "logs-key", KEY)) and group.props["retentionInDays"] >= 365
        assert group.urn in db.options["dependsOn"]
    replica = plan.named("postgres-replica", RDS)
    assert replica.props["replicateSourceDb"] == props["identifier"] and depends(replica, "replicateSourceDb", db.urn)
    assert replica.props["deletionProtection"] is True and replica.props["publiclyAccessible"] is False
    assert replica.props["storageEncrypted"] is True and "username" not in replica.props
    # Same-region replica by identifier: valid only without a subnet group of its own (with one, RDS needs the
    # source's ARN); it inherits the source's. No final snapshot of a replica, no backups of its own.
    assert "dbSubnetGroupName" not in replica.props and "engine" not in replica.props
    assert replica.props["backupRetentionPeriod"] == 0 and replica.props["multiAz"] is False
    # A change of postgresVersion (a major version) upgrades in place instead of being refused at `up`.
    assert props["allowMajorVersionUpgrade"] is True


def test_postgres_parameter_group_enforces_tls_and_logging():
    plan = plan_of("prod")
    db = plan.named("postgres", RDS)
    [group] = data_resources(plan, "aws:rds/parameterGroup:ParameterGroup")
    assert group.props["family"] == "postgres17" and depends(db, "parameterGroupName", group.urn)
    params = {p["name"]: p["value"] for p in group.props["parameters"]}
    assert params["rds.force_ssl"] == "1" and params["log_statement"] == "ddl"
    assert params["log_connections"] == "1" and params["log_disconnections"] == "1"


def test_postgres_and_redis_sit_on_the_isolated_subnets():
    plan = plan_of("prod-update")
    vpc = [r for r in plan.resources if r.type == "awsx:ec2:Vpc"][0]
    isolated = vpc.outputs["isolatedSubnetIds"]
    assert len(isolated) == 3
    for name, token in (("postgres-subnets", "aws:rds/subnetGroup:SubnetGroup"),
                        ("redis-subnets", "aws:elasticache/subnetGroup:SubnetGroup")):
        assert plan.named(name, token).props["subnetIds"] == isolated


def test_monitoring_role_trusts_rds_monitoring_only():
    plan = plan_of("dev")
    role = plan.named("postgres-monitoring-role", "aws:iam/role:Role")
    [st] = json.loads(role.props["assumeRolePolicy"])["Statement"]
    assert st["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert st["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    attach = plan.named("postgres-monitoring-managed", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attach.props["policyArn"].endswith("service-role/AmazonRDSEnhancedMonitoringRole")


# --- Redis --------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_redis_is_encrypted_and_authenticated(stack):
    plan = plan_of(stack)
    redis = plan.named("redis", CACHE)
    props = redis.props
    assert props["engine"] == "redis" and props["atRestEncryptionEnabled"] is True
    assert depends(redis, "kmsKeyId", urn_of(plan, "data-key", KEY))
    assert props["transitEncryptionEnabled"] is True and props["transitEncryptionMode"] == "required"
    assert is_secret(redis.inputs["authToken"]) and "authToken" in redis.options["ignoreChanges"]
    version = plan.named("redis-auth-initial", "aws:secretsmanager/secretVersion:SecretVersion")
    assert is_secret(version.inputs["secretString"]) and version.props["secretString"] == props["authToken"]
    secret = plan.named("redis-auth", "aws:secretsmanager/secret:Secret")
    assert depends(secret, "kmsKeyId", urn_of(plan, "secrets-key", KEY))
    assert props["snapshotRetentionLimit"] >= 1 and props["snapshotWindow"]
    assert depends(redis, "securityGroupIds", urn_of(plan, "data-sg"))
    [params] = data_resources(plan, "aws:elasticache/parameterGroup:ParameterGroup")
    assert params.props["family"] == "redis7" and depends(redis, "parameterGroupName", params.urn)
    kinds = {c["logType"]: c["destination"] for c in props["logDeliveryConfigurations"]}
    assert set(kinds) == {"slow-log", "engine-log"}
    for kind, destination in kinds.items():
        group = plan.named(f"redis-{kind}", LOG_GROUP)
        assert group.props["name"] == destination and depends(group, "kmsKeyId", urn_of(plan, "logs-key", KEY))


def test_redis_auth_token_is_drawn_within_elasticache_constraints():
    """AUTH tokens: 16-128 printable characters without @, " or / (CreateReplicationGroup rejects others). The
    mock invoke returns a fixed value whatever it is asked, so check what the program asks Secrets Manager for
    (the plan records every invoke with its arguments)."""
    plan = stack_plan_of("dev", True)
    asked = [i["args"] for i in plan.invokes if i["token"] == "aws:secretsmanager/getRandomPassword:getRandomPassword"]
    # the security tier's generated secrets and the Redis token: every draw must be a valid AUTH token
    assert len(asked) >= 2
    for args in asked:
        assert 16 <= args["passwordLength"] <= 128
        excluded = args.get("excludeCharacters") or ""
        assert args.get("excludePunctuation") is True or {"@", '"', "/"} <= set(excluded)


def test_redis_6_gets_its_own_family_and_no_transit_encryption_mode():
    plan = dev_alternatives()
    assert DEV_ALTERNATIVES["ai-platform:data"] == {"redisEngineVersion": "6.2"}
    redis = plan.named("redis", CACHE).props
    assert redis["engineVersion"] == "6.2" and redis["transitEncryptionEnabled"] is True
    assert "transitEncryptionMode" not in redis  # only Redis 7.0.5+ accepts it
    [params] = data_resources(plan, "aws:elasticache/parameterGroup:ParameterGroup")
    assert params.props["family"] == "redis6.x"


def test_redis_fails_over_across_azs_in_prod_only():
    prod, dev = plan_of("prod").named("redis", CACHE).props, plan_of("dev").named("redis", CACHE).props
    assert prod["automaticFailoverEnabled"] is True and prod["multiAzEnabled"] is True
    assert prod["numCacheClusters"] >= 2 and prod["nodeType"] == "cache.r6g.large"
    assert prod["finalSnapshotIdentifier"] == "ai-platform-prod-redis-final"
    assert dev["numCacheClusters"] == 1 and dev["automaticFailoverEnabled"] is False
    assert dev["nodeType"] == "cache.t4g.micro" and "finalSnapshotIdentifier" not in dev


# --- DynamoDB -----------------------------------------------------------------------------------
def test_synthetic_data_table_follows_the_design():
    table = plan_of("prod").named("table-synthetic-data", TABLE)
    props = table.props
    assert props["name"] == "ai-platform-prod-synthetic-data"
    assert (props["hashKey"], props["rangeKey"]) == ("id", "timestamp")
    assert {a["name"]: a["type"] for a in props["attributes"]} == {"id": "S", "timestamp": "N", "status": "S"}
    [gsi] = props["globalSecondaryIndexes"]
    assert [(k["attributeName"], k["keyType"]) for k in gsi["keySchemas"]] == [("status", "HASH"),
                                                                               ("timestamp", "RANGE")]
    assert gsi["projectionType"] == "ALL"
    assert props["billingMode"] == "PAY_PER_REQUEST" and props["pointInTimeRecovery"] == {"enabled": True}
    assert props["streamEnabled"] is True and props["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["serverSideEncryption"]["enabled"] is True
    assert depends(table, "serverSideEncryption", urn_of(plan_of("prod"), "data-key", KEY))
    assert props["deletionProtectionEnabled"] is True
    assert plan_of("dev").named("table-synthetic-data", TABLE).props["deletionProtectionEnabled"] is False


def test_tables_from_config_get_the_same_defaults():
    plan = plan_of("dev-full")
    extra = plan.named("table-documents-index", TABLE).props
    assert extra["hashKey"] == "documentId" and "rangeKey" not in extra
    assert extra["attributes"] == [{"name": "documentId", "type": "S"}]
    assert extra["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    base = plan.named("table-synthetic-data", TABLE).props
    for key in ("billingMode", "pointInTimeRecovery", "streamEnabled", "streamViewType"):
        assert extra[key] == base[key]
    assert extra["serverSideEncryption"]["enabled"] is True


# --- DocumentDB ---------------------------------------------------------------------------------
def test_docdb_is_off_unless_enabled():
    assert data_resources(plan_of("dev"), DOCDB) == []
    assert plan_of("dev").exports.get("docdb_endpoint") is None
    assert plan_of("prod-update").exports.get("docdb_endpoint") is None


@pytest.mark.parametrize("variant", ["dev-full", "prod"])
def test_docdb_is_encrypted_tls_only_audited_and_backed_up(variant):
    plan = plan_of(variant)
    cluster = plan.named("docdb", DOCDB)
    props = cluster.props
    assert props["storageEncrypted"] is True and depends(cluster, "kmsKeyId", urn_of(plan, "data-key", KEY))
    assert props["enabledCloudwatchLogsExports"] == ["audit", "profiler"]
    assert props["manageMasterUserPassword"] is True and "masterPassword" not in props
    assert props["backupRetentionPeriod"] >= 1 and props["preferredBackupWindow"]
    [group] = data_resources(plan, "aws:docdb/clusterParameterGroup:ClusterParameterGroup")
    params = {p["name"]: p["value"] for p in group.props["parameters"]}
    assert params["tls"] == "enabled" and params["audit_logs"] == "enabled"
    assert depends(cluster, "dbClusterParameterGroupName", group.urn)
    instances = data_resources(plan, "aws:docdb/clusterInstance:ClusterInstance")
    assert len(instances) == (2 if variant == "prod" else 1)
    assert all(depends(i, "clusterIdentifier", cluster.urn) for i in instances)
    prod = variant == "prod"
    assert props["deletionProtection"] is prod and props["skipFinalSnapshot"] is (not prod)
    if variant == "dev-full":
        assert plan.exports["docdb_endpoint"].startswith("ai-platform-dev-docdb.cluster-")


# --- S3 -----------------------------------------------------------------------------------------
def configs(plan, bucket, token):
    return [r for r in data_resources(plan, token) if depends(r, "bucket", bucket.urn)]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_bucket_is_private_versioned_encrypted_tls_only_with_lifecycle(stack):
    plan = plan_of(stack)
    buckets = {b.name: b for b in data_resources(plan, BUCKET)}
    assert set(buckets) == {"access-logs-bucket", "data-lake-bucket", "documents-bucket", "ml-artifacts-bucket"}
    data_key, log_bucket = urn_of(plan, "data-key", KEY), buckets["access-logs-bucket"]
    for name, bucket in buckets.items():
        # Known in a preview: explicit, account- and region-scoped, within S3's 63 characters.
        assert bucket.props["bucket"] == f"ai-platform-{stack}-{name[:-7]}-123456789012-us-east-1"
        assert len(bucket.props["bucket"]) <= 63 and bucket.props["forceDestroy"] is (stack == "dev")
        [own] = configs(plan, bucket, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
        assert own.props["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
        [pab] = configs(plan, bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        assert all(pab.props[k] is True for k in s3_rules.PAB_FLAGS)
        [ver] = configs(plan, bucket, "aws:s3/bucketVersioning:BucketVersioning")
        assert ver.props["versioningConfiguration"]["status"] == "Enabled"
        [sse] = configs(plan, bucket, "aws:s3/bucketServerSideEncryptionConfiguration:"
                                      "BucketServerSideEncryptionConfiguration")
        [rule] = sse.props["rules"]
        if bucket is log_bucket:  # ALB access logs only support SSE-S3
            assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
        else:
            assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
            assert rule["bucketKeyEnabled"] is True and depends(sse, "rules", data_key)
        [policy] = configs(plan, bucket, "aws:s3/bucketPolicy:BucketPolicy")
        assert s3_rules.denies_insecure_transport(json.loads(policy.props["policy"]))
        assert pab.urn in policy.options["dependsOn"]
        [life] = configs(plan, bucket, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        [lrule] = life.props["rules"]
        assert lrule["status"] == "Enabled" and lrule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7
        logging = configs(plan, bucket, "aws:s3/bucketLogging:BucketLogging")
        if bucket is log_bucket:
            assert logging == [] and lrule["expiration"]["days"] == (90 if stack == "dev" else 365)
        else:
            [log] = logging
            assert depends(log, "targetBucket", log_bucket.urn) and log.props["targetPrefix"] == f"s3/{name[:-7]}/"
            # issue 12: Glacier Instant Retrieval (GetObject works), never Flexible Retrieval (restore first)
            assert [(t["days"], t["storageClass"]) for t in lrule["transitions"]] == [(30, "STANDARD_IA"),
                                                                                    (90, "GLACIER_IR")]
            assert lrule["noncurrentVersionExpiration"]["noncurrentDays"] == 180


def test_log_bucket_policy_admits_each_log_writer_scoped_to_the_account():
    plan = plan_of("prod")
    policy = plan.named("access-logs-policy", "aws:s3/bucketPolicy:BucketPolicy")
    doc = json.loads(policy.props["policy"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    arn = "arn:aws:s3:::ai-platform-prod-access-logs-123456789012-us-east-1"
    assert by_sid["S3ServerAccessLogs"]["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert by_sid["S3ServerAccessLogs"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert by_sid["S3ServerAccessLogs"]["Resource"] == f"{arn}/s3/*"
    # us-east-1 predates Aug 2022: ALB logs arrive as the regional ELB account.
    assert by_sid["AlbAccessLogs"]["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert by_sid["AlbAccessLogs"]["Resource"] == [f"{arn}/AWSLogs/123456789012/*", f"{arn}/*/AWSLogs/123456789012/*"]
    assert by_sid["VendedLogsWrite"]["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert by_sid["VendedLogsWrite"]["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert by_sid["VendedLogsAclCheck"]["Action"] == "s3:GetBucketAcl"
    assert all(s["Effect"] == "Allow" for sid, s in by_sid.items() if sid != "DenyInsecureTransport")


# --- Protection: every stateful resource in prod ------------------------------------------------
def service_protection(r) -> list[str]:
    """What is missing from the service's own protection of `r` (empty when protected)."""
    p = r.props
    missing = []
    if r.type == RDS:
        if p.get("deletionProtection") is not True:
            missing.append("deletionProtection")
        if "replicateSourceDb" not in p and (p.get("skipFinalSnapshot") is not False
                                             or not p.get("finalSnapshotIdentifier")):
            missing.append("final snapshot")
    elif r.type == DOCDB:
        if p.get("deletionProtection") is not True:
            missing.append("deletionProtection")
        if p.get("skipFinalSnapshot") is not False or not p.get("finalSnapshotIdentifier"):
            missing.append("final snapshot")
    elif r.type == CACHE:
        if not p.get("finalSnapshotIdentifier") or not p.get("snapshotRetentionLimit"):
            missing.append("final snapshot and snapshot retention")
    elif r.type == TABLE:
        if p.get("deletionProtectionEnabled") is not True or p.get("pointInTimeRecovery") != {"enabled": True}:
            missing.append("deletionProtectionEnabled and PITR")
    elif r.type == BUCKET:
        if p.get("forceDestroy") is not False:
            missing.append("forceDestroy false")
    elif r.type == KEY:
        if p.get("deletionWindowInDays", 30) < 30:
            missing.append("a 30-day deletion window")
    return missing


STATEFUL = (RDS, DOCDB, CACHE, TABLE, BUCKET, KEY)


def test_every_stateful_resource_in_prod_is_protected_twice():
    plan = plan_of("prod")
    # The data tier's stores and the security tier's keys (the program is the whole stack: other tiers' stores
    # are checked in test_stacks.py).
    stateful = [r for r in plan.resources if r.type in STATEFUL
                and ("tier:Data" in r.parent or "tier:Security" in r.parent)]
    # Not vacuous: every kind the tier creates is present (database, replica, cache, tables, docdb, buckets, keys).
    assert {r.type for r in stateful} == set(STATEFUL)
    assert {r.name for r in stateful} >= {"postgres", "postgres-replica", "redis", "table-synthetic-data",
                                          "table-documents-index", "docdb", "access-logs-bucket", "data-key"}
    problems = {}
    for r in stateful:
        missing = service_protection(r)
        if not r.options.get("protect"):
            missing.append("Pulumi protect")
        if not r.options.get("retainOnDelete"):
            missing.append("retainOnDelete")
        if missing:
            problems[r.name] = missing
    assert problems == {}
    # S3's own protection of the data is versioning (checked per bucket above, and by s3-versioning-enabled).
    buckets = data_resources(plan, BUCKET)
    assert all(configs(plan, b, "aws:s3/bucketVersioning:BucketVersioning") for b in buckets)


def test_nothing_is_protected_in_dev():
    plan = plan_of("dev-full")
    protected = [r.name for r in data_resources(plan) if r.options.get("protect") or r.options.get("retainOnDelete")]
    assert protected == []


def test_service_protection_check_catches_an_unprotected_resource():
    # The protection test's own checker fails on the dev plan: it can fail.
    plan = plan_of("dev-full")
    names = {r.name for r in plan.resources if r.type in STATEFUL and service_protection(r)}
    assert {"postgres", "docdb", "redis", "table-synthetic-data", "data-lake-bucket"} <= names


# --- Policies -----------------------------------------------------------------------------------
@functools.cache
def findings(variant: str, config: str):
    return analyze(plan_of(variant), policy_config=load_policy_config(ROOT / "policies" / "config" / f"{config}.json"))


@pytest.mark.parametrize("variant", ["prod", "prod-update"])
def test_prod_has_no_violation_of_the_data_policies(variant):
    result = findings(variant, "prod")
    # The program is the whole stack: a stack policy that cannot run in a preview because of another tier's
    # unknown value (the SPA bucket's policy names the distribution) is not a data-tier finding.
    mine = [(v.policy, v.urn.split("::")[-1]) for v in result.violations if v.policy in DATA_POLICIES
            and not (v.urn == "" and "can't run policy" in v.message)]
    assert mine == []


def test_a_dev_like_prod_fails_the_prod_policies():
    result = findings("prod-unprotected", "prod")
    failed = {(v.policy, v.urn.split("::")[-1]) for v in result.mandatory}
    assert {("rds-deletion-protection", "postgres"), ("rds-deletion-protection", "postgres-replica"),
            ("rds-multi-az", "postgres"), ("elasticache-multi-az", "redis"),
            ("dynamodb-deletion-protection", "table-synthetic-data")} <= failed


def test_dev_shows_the_same_findings_as_advisories():
    result = findings("dev", "dev")
    mine = {v.policy for v in result.violations if v.policy in DATA_POLICIES}
    assert {"rds-multi-az", "rds-deletion-protection", "elasticache-multi-az"} <= mine
    assert not [v for v in result.mandatory if v.policy in DATA_POLICIES]


def test_data_tier_resources_carry_the_required_tags():
    result = findings("prod", "prod")
    assert [v.urn for v in result.violations if v.policy == "required-tags" and "tier:Data" in v.urn] == []


# --- Outputs ------------------------------------------------------------------------------------
def test_contract_outputs_resolve_after_update():
    out = plan_of("prod-update").exports
    assert set(CONTRACT) <= set(out)
    assert out["db_address"].startswith("ai-platform-prod-postgres.") and out["db_port"] == 5432
    assert out["db_master_secret_arn"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ai-platform/prod/postgres-master-")
    assert out["db_instance_identifier"] == "ai-platform-prod-postgres"
    assert out["db_replica_identifier"] == "ai-platform-prod-postgres-replica"
    assert out["redis_endpoint"].startswith("master.ai-platform-prod-redis.") and out["redis_port"] == 6379
    assert out["redis_auth_secret_arn"].startswith("arn:aws:secretsmanager:")
    assert out["table_names"] == {"synthetic-data": "ai-platform-prod-synthetic-data"}
    assert "/stream/" in out["table_stream_arns"]["synthetic-data"]
    assert set(out["bucket_names"]) == {"data-lake", "documents", "ml-artifacts"}
    assert out["bucket_arns"]["data-lake"] == "arn:aws:s3:::" + out["bucket_names"]["data-lake"]
    assert out["log_bucket_domain_name"] == out["log_bucket_name"] + ".s3.us-east-1.amazonaws.com"
    assert out["docdb_endpoint"] is None


def test_names_policies_refer_to_are_known_in_a_preview():
    out = plan_of("prod").exports
    for key in ("bucket_names", "bucket_arns"):
        assert UNKNOWN not in json.dumps(out[key])
    assert out["log_bucket_name"] != UNKNOWN and out["db_instance_identifier"] == "ai-platform-prod-postgres"
    assert out["db_replica_identifier"] == "ai-platform-prod-postgres-replica"
    assert plan_of("dev").exports["db_replica_identifier"] is None


# --- Config validation --------------------------------------------------------------------------
@pytest.mark.parametrize("data, path", [
    ({"dbInstanceClass": "db.m5.large"}, "ai-platform:data.dbInstanceClass"),
    ({"redisNodeType": "cache.t3.micro"}, "ai-platform:data.redisNodeType"),
    # r6gd nodes require data tiering, which the tier does not enable; there is no cache.t4g.large
    ({"redisNodeType": "cache.r6gd.xlarge"}, "ai-platform:data.redisNodeType"),
    ({"redisNodeType": "cache.t4g.large"}, "ai-platform:data.redisNodeType"),
    ({"postgresVersion": "13"}, "ai-platform:data.postgresVersion"),
    ({"redisMultiAz": True, "redisNodes": 1}, "ai-platform:data.redisNodes"),
    ({"dbAllocatedStorageGb": 100, "dbMaxAllocatedStorageGb": 100}, "ai-platform:data.dbMaxAllocatedStorageGb"),
    ({"dbBackupWindow": "04:00-05:00", "dbMaintenanceWindow": "sun:04:30-sun:05:30"},
     "ai-platform:data.dbBackupWindow"),
    ({"lifecycleIaDays": 60, "lifecycleGlacierDays": 45}, "ai-platform:data.lifecycleGlacierDays"),
    ({"tables": {"synthetic-data": {}}}, "ai-platform:data.tables.synthetic-data"),
    ({"tables": {"t1": {"partitionKey": "id", "partitionKeyType": "S", "indexes": {
        "by-id": {"partitionKey": "id", "partitionKeyType": "N"}}}}}, "ai-platform:data.tables.t1.indexes.by-id"),
    ({"dbMultiAZ": True}, "ai-platform:data.dbMultiAZ"),
])
def test_bad_data_config_fails_with_one_line_naming_the_key(data, path):
    from components.config import ConfigError, load_settings
    with pytest.raises(ConfigError) as err:
        load_settings({"platform": {"environment": "prod"}, "data": data}, stack="prod", region="us-east-1")
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"config error: {path}")


# --- The master credential (issue 24: RDS refuses a read replica of a managed-password source) ---------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_postgres_master_credential_is_the_stacks_own_secret_denied_to_everyone_but_its_readers(stack):
    plan = plan_of(stack)
    db = plan.named("postgres", RDS)
    secret = plan.named("postgres-master", "aws:secretsmanager/secret:Secret")
    version = plan.named("postgres-master-initial", "aws:secretsmanager/secretVersion:SecretVersion")
    assert is_secret(db.inputs["password"]) and is_secret(version.inputs["secretString"])
    assert "secretString" in version.options["ignoreChanges"] and "password" in db.options["ignoreChanges"]
    assert secret.props["tags"]["Purpose"] == "db-master"
    [statement] = json.loads(plan.named("postgres-master-policy").props["policy"])["Statement"]
    # every principal but the database bootstrap's role (components/database_users.py) is denied the value
    assert statement == {"Sid": "OnlyTheDatabaseBootstrapReads", "Effect": "Deny", "Principal": "*",
                         "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {"ArnNotEquals": {
                             "aws:PrincipalArn": [f"arn:aws:iam::123456789012:role/ai-platform-{stack}-db-bootstrap"]}}}
    assert plan.named("db-bootstrap-role", "aws:iam/role:Role").props["name"] == f"ai-platform-{stack}-db-bootstrap"


def test_no_replica_source_manages_its_master_password_in_either_region():
    plan = stack_plan_of("prod", False)
    instances = plan.of_type(RDS)
    replicas = [r for r in instances if r.props.get("replicateSourceDb")]
    assert {r.name for r in replicas} == {"postgres-replica", "postgres-dr"}
    assert not any(r.props.get("manageMasterUserPassword") for r in instances)
    # the promoted DR replica keeps the master password: the credential is replicated to the DR region
    secret = plan.named("postgres-master", "aws:secretsmanager/secret:Secret")
    assert [r["region"] for r in secret.props["replicas"]] == ["us-west-2"]
