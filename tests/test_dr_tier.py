"""DR tier: the second region (every DR resource on the DR provider), replication, and AWS Backup."""
from __future__ import annotations

import functools
import json

import pulumi_aws as aws
import pytest

from conftest import (
    EVERYTHING_ON_DR,
    everything_on,
    plan_for,
    prod_standby_alternatives,
    shared_program,
    stack_analysis,
    stack_plan,
)
from plan.engine import PlanError, run_program

PROVIDER = "pulumi:providers:aws"
# Resources that live in the DR region (IAM is global; the replication role is created there with them).
DR_TYPES = {"aws:kms/key:Key", "aws:kms/alias:Alias", "aws:s3/bucket:Bucket", "aws:s3/bucketVersioning:BucketVersioning",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPolicy:BucketPolicy",
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLogging:BucketLogging",
            "aws:iam/role:Role",
            "aws:iam/rolePolicy:RolePolicy", "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
            "aws:dynamodb/tableReplica:TableReplica", "aws:backup/vault:Vault",
            "aws:backup/vaultLockConfiguration:VaultLockConfiguration"}
DR_POLICIES = {"s3-data-buckets-replicated", "backup-plan-covers-stateful"}


def _config(env: str, dr: dict | None = None, observability: dict | None = None) -> dict:
    return {"aws:region": "us-east-1", "ai-platform:platform": {"environment": env},
            "ai-platform:events": {"alertEmails": ["ops@example.com"]},
            "ai-platform:dr": dr or {}, "ai-platform:observability": observability or {}}


def _program():
    from components.config import load_settings
    from components.dr import DrTier, DrTierArgs
    from components.platform import platform_for

    settings = load_settings()
    p = platform_for(settings)
    dp = None
    if settings.dr.enabled:
        provider = aws.Provider("dr-provider", region=settings.dr.region)
        dp = platform_for(settings, provider, settings.dr.region, instance="dr")
    tags = p.tags()
    bucket = aws.s3.Bucket("fake-data-lake", bucket="fake-data-lake", tags=tags)
    versioning = aws.s3.BucketVersioning("fake-data-lake-versioning", bucket=bucket.id,
                                         versioning_configuration={"status": "Enabled"})
    db = aws.rds.Instance("fake-db", identifier="fake-db", instance_class="db.t4g.micro", tags=tags)
    table = aws.dynamodb.Table("fake-table", name="fake-table", tags=tags)
    DrTier("dr", DrTierArgs(platform=p, settings=settings.dr, dr_platform=dp, bucket_ids={"data-lake": bucket.id},
                            bucket_arns={"data-lake": bucket.arn},
                            bucket_versioning_ids={"data-lake": versioning.id}, db_instance_arn=db.arn,
                            table_arns={"sessions": table.arn}, table_names={"sessions": table.name},
                            bucket_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/data",
                            alerts_topic_arn="arn:aws:sns:us-east-1:123456789012:alerts"))


def isolated(env: str = "prod", dr: str = "{}", obs: str = "{}", preview: bool = False):
    return _isolated(env, dr, obs, preview)   # one cache entry however the arguments are spelled


@functools.cache
def _isolated(env: str, dr: str, obs: str, preview: bool):
    return shared_program(f"{__name__}.isolated:{env}:{dr}:{obs}:{preview}", lambda: run_program(
        _program, config=_config(env, json.loads(dr), json.loads(obs)), stack=env, preview=preview))


# The isolated program's non-default choices that do not touch each other, in one run: another DR region, the
# vault lock in compliance mode, DynamoDB copied by AWS Backup instead of a replica, no account baseline. Each test
# reads its own choice (the DR provider's region, the lock's cooling-off days, no table replica, no ECR
# replication) and each was a program of its own; the defaults are `isolated()`'s.
ALTERNATIVES = {"dr": json.dumps({"region": "eu-west-1", "vaultLockMode": "compliance", "vaultLockCoolingOffDays": 14,
                                  "dynamodbStrategy": "backup-copy"}),
                "obs": json.dumps({"accountBaseline": False})}


def in_tier(plan) -> list:
    return [r for r in plan.resources if "tier:Dr$" in r.urn]


def dr_provider(plan):
    [provider] = [r for r in plan.of_type(PROVIDER) if r.name == "dr-provider"]
    return provider


def out(plan, name: str, prop: str):
    return plan.named(name).outputs[prop]


def test_dr_provider_is_in_the_configured_second_region():
    assert dr_provider(isolated()).props["region"] == "us-west-2"
    assert dr_provider(isolated(**ALTERNATIVES)).props["region"] == "eu-west-1"


def test_every_dr_region_resource_uses_the_dr_provider_and_primary_ones_do_not():
    plan = isolated()
    provider = dr_provider(plan).urn
    on_dr = {r.name for r in in_tier(plan) if r.provider == provider}
    expected = {"dr-key", "dr-key-alias", "rds-backups-dr", "dynamodb-sessions-dr", "dr-backup-vault",
                "dr-backup-vault-lock", "s3-replication-role", "s3-replication-policy", "ai-platform-prod-dr-data-lake",
                "dr-data-lake-versioning", "dr-data-lake-sse", "dr-data-lake-public-access-block",
                "dr-data-lake-ownership", "dr-data-lake-policy", "dr-data-lake-lifecycle", "dr-data-lake-access-logs",
                # two-way (pilot-light, prod's default): the replica replicates back with its own DR-side role
                "replication-data-lake-back", "s3-replication-back-role", "s3-replication-back-policy"}
    expected |= {"ai-platform-prod-dr-access-logs"} | {f"dr-access-logs-{x}" for x in (
        "versioning", "sse", "public-access-block", "ownership", "policy", "lifecycle")}
    assert on_dr == expected
    assert all(r.type in DR_TYPES for r in in_tier(plan) if r.provider == provider)
    # Configuration of primary-region resources stays on the default provider.
    for name in ("replication-data-lake", "ecr-replication", "backup-vault", "backup-plan", "backup-stateful"):
        assert plan.named(name).provider != provider, name


def test_data_buckets_replicate_to_kms_encrypted_replicas():
    plan = isolated()
    repl = plan.named("replication-data-lake")
    assert repl.propertyDependencies["bucket"] == [plan.named("fake-data-lake").urn]
    [rule] = repl.props["rules"]
    assert rule["status"] == "Enabled" and rule["deleteMarkerReplication"] == {"status": "Enabled"}
    dest = rule["destination"]
    assert dest["bucket"] == out(plan, "ai-platform-prod-dr-data-lake", "arn")
    assert dest["encryptionConfiguration"]["replicaKmsKeyId"] == out(plan, "dr-key", "arn")
    assert dest["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    replica = plan.named("ai-platform-prod-dr-data-lake")
    assert replica.props["bucket"].endswith("-us-west-2") and replica.options["protect"]
    sse = plan.named("dr-data-lake-sse").props["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": out(plan, "dr-key", "arn")}
    policy = json.loads(plan.named("s3-replication-policy").props["policy"])
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"s3:ReplicateObject", "s3:GetObjectVersionForReplication", "kms:Decrypt", "kms:Encrypt"} <= actions
    assert plan.named("s3-replication-role").props["assumeRolePolicy"].count("s3.amazonaws.com") == 1


def test_replication_waits_for_versioning_on_both_sides_and_for_the_role_permissions():
    # S3 rejects PutBucketReplication until the source's versioning is Enabled; the configuration only takes
    # the bucket's id, so the ordering must be explicit.
    plan = isolated()
    waits_for = set(plan.named("replication-data-lake").options["dependsOn"])
    assert {plan.named("fake-data-lake-versioning").urn, plan.named("dr-data-lake-versioning").urn,
            plan.named("s3-replication-policy").urn, plan.named("dr-data-lake-policy").urn} <= waits_for
    policy = json.loads(plan.named("s3-replication-policy").props["policy"])
    # delete-marker replication needs ReplicateDelete; SSE-KMS sources need the decrypt/encrypt pair per region
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert "s3:ReplicateDelete" in by_sid["WriteReplicas"]["Action"]
    assert by_sid["EncryptReplicas"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}
    assert by_sid["DecryptSources"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_database_and_table_copies_in_the_dr_region_use_the_dr_key():
    plan = isolated()
    rds = plan.named("rds-backups-dr").props
    assert rds["sourceDbInstanceArn"] == out(plan, "fake-db", "arn") and rds["kmsKeyId"] == out(plan, "dr-key", "arn")
    replica = plan.named("dynamodb-sessions-dr").props
    assert replica["globalTableArn"] == out(plan, "fake-table", "arn")
    assert replica["kmsKeyArn"] == out(plan, "dr-key", "arn") and replica["pointInTimeRecovery"] is True


def test_backup_plan_daily_with_retention_and_cross_region_copy_in_prod():
    plan = isolated()
    [rule] = plan.named("backup-plan").props["rules"]
    assert rule["schedule"].startswith("cron(") and rule["lifecycle"] == {"deleteAfter": 35}
    assert rule["targetVaultName"] == out(plan, "backup-vault", "name")
    [copy] = rule["copyActions"]
    assert copy["destinationVaultArn"] == out(plan, "dr-backup-vault", "arn") and copy["lifecycle"]["deleteAfter"] == 35
    vault = plan.named("backup-vault")
    assert vault.props["kmsKeyArn"] == out(plan, "backup-key", "arn") and vault.options["protect"]


def test_backup_selection_covers_the_stateful_resources_by_arn_and_opt_in_tag():
    plan = isolated()
    sel = plan.named("backup-stateful")
    assert sorted(sel.props["resources"]) == sorted([out(plan, "fake-db", "arn"), out(plan, "fake-table", "arn")])
    assert set(sel.propertyDependencies["resources"]) == {plan.named("fake-db").urn, plan.named("fake-table").urn}
    tagged = plan.named("backup-tagged").props
    assert tagged["selectionTags"] == [{"type": "STRINGEQUALS", "key": "Backup", "value": "true"}]
    role = sel.props["iamRoleArn"]
    assert role == out(plan, "backup-role", "arn")
    managed = {plan.named(f"backup-managed-{i}").props["policyArn"].rsplit("/", 1)[-1] for i in (0, 1)}
    assert managed == {"AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"}


def test_vault_lock_is_governance_mode_by_default_and_compliance_only_when_asked():
    plan = isolated()
    for name in ("backup-vault-lock", "dr-backup-vault-lock"):
        lock = plan.named(name).props
        assert "changeableForDays" not in lock and lock["minRetentionDays"] == 7
    compliance = isolated(**ALTERNATIVES)
    assert compliance.named("backup-vault-lock").props["changeableForDays"] == 14


def test_dev_has_backups_only_no_second_region():
    plan = isolated("dev")
    assert [r for r in plan.of_type(PROVIDER) if r.name == "dr-provider"] == []
    assert [r.type for r in in_tier(plan) if r.provider] == []
    [rule] = plan.named("backup-plan").props["rules"]
    assert rule["lifecycle"] == {"deleteAfter": 7} and "copyActions" not in rule
    assert plan.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration") == []


def test_account_singletons_follow_the_baseline_flag():
    assert isolated("prod", **ALTERNATIVES).of_type(
        "aws:ecr/replicationConfiguration:ReplicationConfiguration") == []
    ecr = isolated("prod").named("ecr-replication").props["replicationConfiguration"]["rules"][0]
    assert ecr["destinations"] == [{"region": "us-west-2", "registryId": "123456789012"}]
    # issue 12: registry-wide rule, so it names this stack's repositories only (never dev's images)
    assert ecr["repositoryFilters"] == [{"filter": "ai-platform/prod/", "filterType": "PREFIX_MATCH"}]


def test_dr_region_equal_to_the_primary_is_a_config_error():
    with pytest.raises(PlanError, match=r"dr\.region = 'us-east-1'"):
        isolated("prod", dr=json.dumps({"region": "us-east-1"}))


def test_dr_without_automated_db_backups_is_a_config_error():
    # the DR region receives the database's automated backups: with retention 0 there are none to replicate
    config = _config("prod")
    config["ai-platform:data"] = {"dbBackupRetentionDays": 0, "dbReadReplica": False}
    with pytest.raises(PlanError, match=r"data\.dbBackupRetentionDays = 0"):
        run_program(_program, config=config, stack="prod", preview=True)


def test_dynamodb_backup_copy_strategy_drops_the_replica():
    plan = isolated(**ALTERNATIVES)
    assert plan.of_type("aws:dynamodb/tableReplica:TableReplica") == []


# --- the whole stack -------------------------------------------------------------------------
def test_prod_stack_dr_resources_are_on_the_dr_provider():
    plan = stack_plan("prod")
    provider = dr_provider(plan)
    assert provider.props["region"] == "us-west-2"
    dr_children = [r for r in in_tier(plan) if r.provider == provider.urn]
    assert {r.type for r in dr_children} >= {"aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
                                             "aws:dynamodb/tableReplica:TableReplica", "aws:backup/vault:Vault",
                                             "aws:s3/bucket:Bucket"}
    # One replica per data bucket, each replication config tied to its source bucket.
    sources = {b.urn for b in plan.of_type("aws:s3/bucket:Bucket") if "tier:Data" in b.urn
               and any(k in b.name for k in ("data-lake", "documents", "ml-artifacts"))}
    # ... and the edge tier's site bucket (CloudFront's secondary origin is its replica: test_dr_front_door.py)
    sources |= {b.urn for b in plan.of_type("aws:s3/bucket:Bucket") if "tier:Edge$" in b.urn}
    configs = [c for c in plan.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
               if c.provider != provider.urn]    # (the DR replicas' rules back: test_dr_two_way.py)
    assert {c.propertyDependencies["bucket"][0] for c in configs} == sources and len(sources) == 4
    # ... and each waits for its own source bucket's versioning (the data tier's resource, wired in __main__)
    for c in configs:
        [versioning] = [v for v in plan.of_type("aws:s3/bucketVersioning:BucketVersioning")
                        if v.propertyDependencies.get("bucket") == c.propertyDependencies["bucket"]]
        assert versioning.urn in c.options["dependsOn"], c.name
    # Every table of the data tier has a replica.
    tables = plan.of_type("aws:dynamodb/table:Table")
    assert len(plan.of_type("aws:dynamodb/tableReplica:TableReplica")) == len(tables) > 0


def test_prod_stack_backup_and_replication_policies_hold():
    analysis = stack_analysis("prod")
    assert [v for v in analysis.violations if v.policy in DR_POLICIES] == []
    dev = stack_plan("dev")
    assert [r for r in dev.of_type(PROVIDER) if r.name == "dr-provider"] == []
    assert len(dev.of_type("aws:backup/plan:Plan")) == 1


def test_prod_with_documentdb_is_backed_up_and_alarmed():
    """DocumentDB is off in both stack files: prod with every optional feature on (conftest.everything_on, the run
    the data tier's tests read too) wires it."""
    plan = plan_for(everything_on("prod"), stack="prod", preview=True)
    [docdb] = plan.of_type("aws:docdb/cluster:Cluster")
    [sel] = [r for r in plan.of_type("aws:backup/selection:Selection") if r.name == "backup-stateful"]
    assert docdb.urn in sel.propertyDependencies["resources"]
    docdb_alarms = [r for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                    if docdb.urn in r.propertyDependencies.get("dimensions", [])]
    # exactly the correlations backup-plan-covers-stateful and alarms-for-load-balancers-and-databases check
    assert {r.props["metricName"] for r in docdb_alarms} == {"CPUUtilization", "DatabaseConnections"}


# --- dr.mode: the standing DR region (components/dr_region.py) ------------------------------------


ECS_SERVICE = "aws:ecs/service:Service"
SCALING = "aws:appautoscaling/target:Target"
RDS = "aws:rds/instance:Instance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
SECRET = "aws:secretsmanager/secret:Secret"


def prod_with(mode: str, preview: bool = True, extra: str = "{}", released: bool = False):
    """The whole prod program with dr.mode switched (and other sections' overrides as JSON), through conftest's
    `plan_for` (one run per distinct config in the test run: `prod_with("pilot-light")` is the prod stack's own
    plan). `released`: as after the first release (every ECR repository holds an image), part of the key."""
    from conftest import plan_for, stack_config_with
    sections = json.loads(extra)
    name, config, secrets = stack_config_with("prod", {**sections, "ai-platform:dr": {
        "mode": mode, **sections.get("ai-platform:dr", {})}})
    return plan_for(config, stack=name, preview=preview, released=released, secret_keys=secrets)


def dr_side(plan) -> list:
    """Resources created through the DR provider."""
    provider = dr_provider(plan).urn
    return [r for r in plan.resources if r.provider == provider]


def test_prod_defaults_to_pilot_light_and_dev_to_backup_restore():
    from components.config import load_settings
    prod_config = {"platform": {"environment": "prod"}, "events": {"alertEmails": ["ops@example.com"]}}
    assert load_settings(prod_config, stack="prod", region="us-east-1").dr.mode == "pilot-light"
    assert load_settings({"platform": {"environment": "dev"}}, stack="dev", region="us-east-1").dr.mode == "backup-restore"
    prod, dev = stack_plan("prod"), stack_plan("dev")
    assert [r for r in prod.resources if r.type == "ai-platform:tier:DrDatabase"]
    assert not [r for r in dev.resources if "DrDatabase" in r.type or r.name == "dr-provider"]


def test_no_urn_is_built_twice_in_any_mode():
    """The DR region reuses the network and application tiers: their children must not collide with the
    primary's (a real `pulumi up` rejects a duplicate URN; the mocks would not)."""
    import collections
    for plan in (stack_plan("prod"), prod_with("warm-standby", False, released=True)):
        dups = [u for u, n in collections.Counter(r.urn for r in plan.resources).items() if n > 1]
        assert dups == []


def test_pilot_light_builds_the_same_tiers_in_the_dr_region_at_zero_tasks():
    # after the first release (images pushed): the primary's services run, the DR side's stay at 0
    from conftest import images_present_plan
    plan = images_present_plan("prod")
    dr = dr_side(plan)
    types = {r.type for r in dr}
    assert {"awsx:ec2:Vpc", "aws:ecs/cluster:Cluster", "aws:lb/loadBalancer:LoadBalancer", ECS_SERVICE, RDS,
            "aws:ssm/parameter:Parameter", "aws:sns/topic:Topic"} <= types or "awsx:ec2:Vpc" not in types
    # the reused tiers are the primary's component classes, in their own namespace under the DR region
    assert {r.type for r in plan.resources if r.type.startswith("ai-platform:dr:")} == {
        "ai-platform:dr:Network", "ai-platform:dr:Events", "ai-platform:dr:Application", "ai-platform:dr:Edge",
        # issue 32: the account baseline (Config, GuardDuty, EBS encryption by default) in the DR region too
        "ai-platform:dr:Governance"}
    services = [r for r in dr if r.type == ECS_SERVICE]
    primary = [r for r in plan.of_type(ECS_SERVICE) if r not in services]
    assert len(services) == len(primary) > 0
    assert {r.props["desiredCount"] for r in services} == {0}
    assert {r.props["minCapacity"] for r in dr if r.type == SCALING} == {0}
    assert min(r.props["desiredCount"] for r in primary) >= 1
    # the DR cluster, ALB and services are in the DR VPC's subnets (the DR network tier's outputs)
    [vpc] = [r for r in plan.resources if r.type == "awsx:ec2:Vpc" and r.name == "dr-vpc"]
    assert vpc.props["cidrBlock"] == "10.30.0.0/16" and vpc.props["natGateways"] == {"strategy": "Single"}


def test_the_dr_replica_is_cross_region_encrypted_promotable_and_protected():
    plan = stack_plan("prod", preview=False)
    [replica] = [r for r in dr_side(plan) if r.type == RDS]
    primary = plan.named("postgres", RDS)
    p = replica.props
    assert p["replicateSourceDb"] == primary.outputs["arn"]
    assert primary.urn in replica.propertyDependencies["replicateSourceDb"]
    assert p["storageEncrypted"] is True and p["kmsKeyId"] == out(plan, "dr-key", "arn")
    assert plan.named("dr-key").provider == replica.provider
    assert p["backupRetentionPeriod"] >= 1 and p["deletionProtection"] is True and replica.options["protect"]
    assert p["publiclyAccessible"] is False
    subnets = plan.named("postgres-dr-subnets")
    assert p["dbSubnetGroupName"] == subnets.outputs["name"] and subnets.provider == replica.provider
    # the DR data security group, not the primary's
    [dr_data_sg] = [r for r in dr_side(plan) if r.name == "data-sg"]
    assert p["vpcSecurityGroupIds"] == [dr_data_sg.id]
    # the replica's lag alarms on the DR region's own topic (alarms notify topics of their region)
    [lag] = [r for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if r.props.get("metricName") == "ReplicaLag"
             and r.provider == replica.provider]
    assert lag.provider == replica.provider and lag.props["threshold"] == 900
    [dr_alerts] = [t for t in dr_side(plan) if t.type == "aws:sns/topic:Topic" and t.name == "topic-alerts"]
    assert lag.props["alarmActions"] == [dr_alerts.outputs["arn"]]


def test_dr_services_use_dr_region_images_secrets_logs_and_the_replica():
    plan = stack_plan("prod", preview=False)
    [replica] = [r for r in dr_side(plan) if r.type == RDS]
    defs = [r for r in dr_side(plan) if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    assert defs
    [dr_cache] = [r for r in dr_side(plan) if r.type == CACHE]
    [dr_cache_secret] = [r for r in dr_side(plan) if r.type == SECRET and r.name == "redis-auth"]
    db_users = caches = 0
    for d in defs:
        c = json.loads(d.props["containerDefinitions"])[0]
        assert ".dkr.ecr.us-west-2.amazonaws.com/" in c["image"], c["image"]
        assert all(":us-west-2:" in s["valueFrom"] for s in c.get("secrets") or [])
        env = {e["name"]: e["value"] for e in c["environment"]}
        assert env["AWS_REGION"] == "us-west-2"
        if "DB_HOST" in env:   # the services whose contract uses the database (issue 12)
            db_users += 1
            assert env["DB_HOST"] == replica.outputs["address"]
        secrets = {s["name"]: s["valueFrom"] for s in c.get("secrets") or []}
        if "REDIS_HOST" in env:   # the services whose contract uses the cache: the DR standby cache, its own token
            caches += 1
            assert env["REDIS_HOST"] == dr_cache.outputs["primaryEndpointAddress"] and env["REDIS_TLS"] == "true"
            assert secrets["REDIS_AUTH_TOKEN"] == dr_cache_secret.outputs["arn"]
        else:
            assert "REDIS_AUTH_TOKEN" not in secrets
        assert c["logConfiguration"]["options"]["awslogs-region"] == "us-west-2"
    # every secret is replicated to the DR region under the DR secrets key, and the execution role reads both
    key = out(plan, "dr-secrets-key", "arn")
    for s in plan.of_type("aws:secretsmanager/secret:Secret"):
        if "tier:Security" in s.urn:
            assert s.props["replicas"] == [{"region": "us-west-2", "kmsKeyId": key}], s.name
    assert db_users > 0 and caches > 0
    # each region's per-service execution role reads that region's copies (issue 12: no shared role)
    for policy_res in [r for r in plan.resources if r.name == "search-execution-secrets"]:
        policy = json.loads(policy_res.props["policy"])
        read = next(st for st in policy["Statement"] if st["Sid"] == "ReadInjectedSecrets")["Resource"]
        region = "us-west-2" if policy_res in dr_side(plan) else "us-east-1"
        assert read and all(f":{region}:" in r for r in read), read
    # the DR services connect to the replica as their own IAM-authenticated users
    assert replica.props["iamDatabaseAuthenticationEnabled"] is True
    [connect] = [r for r in dr_side(plan) if r.name == "search-task-db"]
    doc = json.loads(connect.props["policy"])
    assert doc["Statement"][0]["Resource"] == f"arn:aws:rds-db:us-west-2:123456789012:dbuser:{replica.outputs['resourceId']}/search"
    # the DB endpoint parameter in each region (the failover and failback write it)
    params = {r.provider == replica.provider: r for r in plan.of_type("aws:ssm/parameter:Parameter")}
    assert params[True].props["value"] == replica.outputs["address"]
    assert params[True].props["name"] == params[False].props["name"] == "/ai-platform/prod/db-endpoint"
    assert params[False].props["value"] == plan.named("postgres", RDS).outputs["address"]


@pytest.mark.parametrize("mode", ["pilot-light", "warm-standby"])
def test_the_dr_standby_cache_is_built_like_the_primary_and_sized_as_configured(mode):
    """Empty at failover, not a Global Datastore (components/dr_region.py): the same recipe as the primary's
    cache (TLS, AUTH from a DR-region secret, encryption, logs), on the DR VPC's isolated subnets behind the DR data
    group, two small nodes across AZs because prod's primary is Multi-AZ. (warm-standby: as after the first
    release, the plan the mode's other tests read; the cache does not depend on it.)"""
    plan = stack_plan("prod", preview=False) if mode == "pilot-light" else prod_with(mode, False, released=True)
    [primary] = [r for r in plan.of_type(CACHE) if r not in dr_side(plan)]
    [cache] = [r for r in dr_side(plan) if r.type == CACHE]
    p = cache.props
    assert p["nodeType"] == "cache.t4g.micro" and p["numCacheClusters"] == 2
    assert p["multiAzEnabled"] is True and p["automaticFailoverEnabled"] is True
    assert p["transitEncryptionEnabled"] is True and p["atRestEncryptionEnabled"] is True
    assert p["kmsKeyId"] == out(plan, "dr-key", "arn") and p["engineVersion"] == primary.props["engineVersion"]
    [dr_data_sg] = [r for r in dr_side(plan) if r.name == "data-sg"]
    assert p["securityGroupIds"] == [dr_data_sg.id]
    [subnets] = [r for r in dr_side(plan) if r.type == "aws:elasticache/subnetGroup:SubnetGroup"]
    [vpc] = [r for r in plan.resources if r.type == "awsx:ec2:Vpc" and r.name == "dr-vpc"]
    assert subnets.props["subnetIds"] == vpc.outputs["isolatedSubnetIds"]
    assert {d["destinationType"] for d in p["logDeliveryConfigurations"]} == {"cloudwatch-logs"}
    [secret] = [r for r in dr_side(plan) if r.type == SECRET and r.name == "redis-auth"]
    assert secret.props["kmsKeyId"] == out(plan, "dr-secrets-key", "arn")
    assert cache.options["protect"]
    # the node type is a setting; a class outside the accepted list is one config error
    # (pilot-light: prod with every optional feature on, conftest.EVERYTHING_ON_DR, a preview: the node type is an
    # input; warm-standby: conftest.PROD_STANDBY_ALTERNATIVES)
    assert EVERYTHING_ON_DR == {"cacheNodeType": "cache.t4g.small"}
    smaller = (plan_for(everything_on("prod"), stack="prod", preview=True) if mode == "pilot-light" else
               prod_standby_alternatives())
    assert {r.props["nodeType"] for r in dr_side(smaller) if r.type == CACHE} == {"cache.t4g.small"}
    with pytest.raises(PlanError, match=r"dr\.cacheNodeType = 'cache\.t2\.micro'"):
        prod_with(mode, extra=json.dumps({"ai-platform:dr": {"cacheNodeType": "cache.t2.micro"}}))


def test_the_ecr_replication_covers_the_dr_region_and_every_service_repository():
    plan = stack_plan("prod", preview=False)
    rule = plan.named("ecr-replication").props["replicationConfiguration"]["rules"][0]
    assert rule["destinations"][0]["region"] == "us-west-2"
    prefix = rule["repositoryFilters"][0]["filter"]
    repos = [r.props["name"] for r in plan.of_type("aws:ecr/repository:Repository")]
    assert repos and all(name.startswith(prefix) for name in repos)


def test_warm_standby_runs_the_standby_count():
    # after the first release (images in ECR, so no service is parked: components/ecs_services.py); the DR
    # services are pipeline-delivered like the primary's, so any tagged image unparks them
    plan = prod_with("warm-standby", preview=False, released=True)
    dr = dr_side(plan)
    assert {r.props["desiredCount"] for r in dr if r.type == ECS_SERVICE} == {1}
    assert {r.props["minCapacity"] for r in dr if r.type == SCALING} == {1}
    assert [r for r in dr if r.type == RDS]
    analysis = __import__("plan.analyze", fromlist=["analyze"])
    result = analysis.analyze(plan, policy_config=analysis.load_policy_config(analysis.default_policy_config("prod")))
    assert result.mandatory == []


def test_backup_restore_has_no_standing_dr_region():
    plan = prod_with("backup-restore", False, released=True)   # the plan the mode table prices
    dr = dr_side(plan)
    assert dr, "data copies stay in the DR region"
    assert not [r for r in dr if r.type in ("awsx:ec2:Vpc", ECS_SERVICE, RDS, CACHE, "aws:lb/loadBalancer:LoadBalancer")]
    # (the DR region's account baseline, ai-platform:dr:Governance, stays: data copies live there; issue 32)
    assert not [r for r in plan.resources if r.type.rsplit(":", 1)[-1] in ("DrDatabase", "DrKeys", "DrCache")
                or (":dr:" in r.type and r.type != "ai-platform:dr:Governance")]
    assert all("replicas" not in s.props for s in plan.of_type("aws:secretsmanager/secret:Secret"))
    # what it keeps: replicated buckets, the DynamoDB replica, automated backups replication, the DR vault
    assert {r.type for r in dr} >= {"aws:s3/bucket:Bucket", "aws:dynamodb/tableReplica:TableReplica",
                                   "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
                                   "aws:backup/vault:Vault"}


def test_a_standing_mode_without_the_second_region_is_one_config_error():
    with pytest.raises(PlanError, match=r"dr\.mode = 'pilot-light'.*enabled is true"):
        isolated("dev", dr=json.dumps({"mode": "pilot-light"}))
    with pytest.raises(PlanError, match=r"dr\.vpcCidr = '10\.20\.0\.0/16'"):
        prod_with("pilot-light", extra=json.dumps({"ai-platform:dr": {"vpcCidr": "10.20.0.0/16"}}))


def test_the_manifest_is_what_the_failover_procedure_reads():
    from functions.dr_failover.manifest import parse
    plan = stack_plan("prod", preview=False)
    doc = plan.exports["drManifest"]
    m = parse(doc)
    [replica] = [r for r in dr_side(plan) if r.type == RDS]
    assert (m.mode, m.primary_region, m.dr_region) == ("pilot-light", "us-east-1", "us-west-2")
    assert m.db_replica_id == replica.props["identifier"] and m.db_primary_id == "ai-platform-prod-postgres"
    assert m.dr_kms_key_id == out(plan, "dr-key", "arn") and m.db_endpoint_parameter == "/ai-platform/prod/db-endpoint"
    dr_services = {r.props["name"] for r in dr_side(plan) if r.type == ECS_SERVICE}
    assert set(m.services) == dr_services and set(m.standby_counts.values()) == {0}
    assert min(m.desired_counts.values()) >= 1
    # failback restores the primary's settings and its same-region replica (issue 26); the lag gate an idle
    # PostgreSQL source can pass; preflight checks the DR region's standing user pool
    [params] = [r for r in plan.of_type("aws:rds/parameterGroup:ParameterGroup") if r not in dr_side(plan)]
    assert m.primary_db_parameter_group == params.outputs["name"] and m.primary_multi_az is True
    assert m.primary_reader_ids == ("ai-platform-prod-postgres-replica",) and m.max_replica_lag_seconds == 360
    pools = {("dr" if r in dr_side(plan) else "primary"): r.id
             for r in plan.of_type("aws:cognito/userPool:UserPool")}
    assert m.user_pool_ids == pools and set(pools) == {"primary", "dr"}
    assert set(m.release_parameters) == set(m.services)   # every DR service ships its released image
    # identifiers only: nothing secret-looking
    text = json.dumps(doc)
    assert "secret_string" not in text.lower() and "password" not in text.lower()


# The failover records (the API's name between the two regions' API custom domains) and their health check:
# tests/test_dr_front_door.py.


def test_the_dr_region_has_its_own_event_backbone_on_the_dr_data_key():
    """The events tier again through the DR provider: bus, rules, queues with DLQs and topics (no analytics stream),
    every queue and topic on DrKeys' data key; the DR services' contracts resolve to the DR queues and bus."""
    plan = stack_plan("prod", preview=False)
    dr = dr_side(plan)
    dr_key = out(plan, "dr-data-key", "arn")
    queues = {r.props["name"]: r for r in dr if r.type == "aws:sqs/queue:Queue"}
    assert set(queues) == {f"ai-platform-prod-{q}{d}" for q in ("document-processing", "inference-requests",
                                                               "notifications") for d in ("", "-dlq")} | {
        "ai-platform-prod-user-sync-dlq"}    # the DR user sync's (DrUserSync, issue 26)
    assert {r.props["kmsMasterKeyId"] for r in queues.values()} == {dr_key}
    assert {r.props["kmsMasterKeyId"] for r in dr if r.type == "aws:sns/topic:Topic"} == {dr_key}
    [bus] = [r for r in dr if r.type == "aws:cloudwatch/eventBus:EventBus"]
    rules = {r.props["name"] for r in dr if r.type == "aws:cloudwatch/eventRule:EventRule"}
    assert rules == {"ai-platform-prod-document-uploaded", "ai-platform-prod-inference-requested",
                     "ai-platform-prod-domain-events",   # the last feeds the domain-events topic (issue 24)
                     # the DR region's silent failures, on the default bus (issue 26)
                     "ai-platform-prod-backup-job-failures", "ai-platform-prod-guardduty-findings"}
    assert not [r for r in dr if r.type == "aws:kinesis/stream:Stream"]
    # the primary's analytics stream is opt-in (events.analyticsStream, issue 32): prod has none either
    assert not [r for r in plan.resources if r.type == "aws:kinesis/stream:Stream"]
    # DLQ depth alarms inform the DR warnings topic (the primary's DLQs: the observability tier's alarms)
    [alerts] = [t for t in dr if t.type == "aws:sns/topic:Topic" and t.name == "topic-warnings"]
    dlq_alarms = [r for r in dr if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
                  and r.props.get("metricName") == "ApproximateNumberOfMessagesVisible"]
    assert sorted(a.props["dimensions"]["QueueName"] for a in dlq_alarms) == sorted(
        n for n in queues if n.endswith("-dlq"))
    assert all(a.props["alarmActions"] == [alerts.outputs["arn"]] for a in dlq_alarms)
    # the DR services' environment and grants name the DR queues and bus, never the primary's
    env = {}
    for d in (r for r in dr if r.type == "aws:ecs/taskDefinition:TaskDefinition"):
        c = json.loads(d.props["containerDefinitions"])[0]
        env[c["name"]] = {e["name"]: e["value"] for e in c["environment"]}
    assert env["conversational"]["QUEUE_INFERENCE_REQUESTS_ARN"] == \
        "arn:aws:sqs:us-west-2:123456789012:ai-platform-prod-inference-requests"
    assert env["document-extraction"]["EVENT_BUS_ARN"] == \
        "arn:aws:events:us-west-2:123456789012:event-bus/ai-platform-prod-platform" == bus.outputs["arn"]
    [consume] = [r for r in dr if r.name == "workflow-task-policy"]
    text = consume.props["policy"]
    assert "arn:aws:sqs:us-west-2:123456789012:ai-platform-prod-notifications" in text and ":us-east-1:" not in text


def test_the_dr_services_are_pipeline_owned_so_up_does_not_revert_the_failover_image():
    """At failover functions/dr_failover registers revisions with the newest replicated image and records it in the
    service's release parameter (the manifest's releaseParameters): the stack's task definition takes its image from
    that parameter, which the stack never overwrites, so `up` does not move the DR services back to
    application.imageTag, and still rolls out every other setting (day two, issue 24: no ignored taskDefinition)."""
    plan = stack_plan("prod", preview=False)
    dr = dr_side(plan)
    dr_services = [r for r in dr if r.type == ECS_SERVICE]
    assert dr_services and all("taskDefinition" not in r.options["ignoreChanges"] for r in dr_services)
    params = {r.urn: r for r in dr if r.type == "aws:ssm/parameter:Parameter" and r.name.endswith("-release")}
    for td in (r for r in dr if r.type == "aws:ecs/taskDefinition:TaskDefinition"):
        [source] = [params[u] for u in td.propertyDependencies["containerDefinitions"] if u in params]
        assert "insecureValue" in source.options["ignoreChanges"]
    doc = plan.exports["drManifest"]
    assert set(doc["releaseParameters"]) == set(doc["services"])
    assert set(doc["releaseParameters"].values()) == {p.props["name"] for p in params.values()}


def test_dr_region_ecr_replicas_get_the_primarys_lifecycle_through_a_creation_template():
    """Issue 30: replication creates the DR region's repositories itself, with no lifecycle policy; the creation
    template (in the DR region, for REPLICATION, this stack's prefix) gives them the primary's."""
    from conftest import primary_plan
    plan = primary_plan("prod", False)
    [template] = plan.of_type("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    replication = plan.named("ecr-replication").props["replicationConfiguration"]["rules"][0]
    assert template.props["appliedFors"] == ["REPLICATION"]
    assert replication["repositoryFilters"][0]["filter"].startswith(template.props["prefix"] + "/")
    assert template.provider == dr_provider(plan).urn
    lifecycles = {r.props["policy"] for r in plan.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
                  if r.provider != dr_provider(plan).urn}
    assert lifecycles == {template.props["lifecyclePolicy"]}


def test_silent_failures_reach_each_regions_alerts_topic():
    """Issue 26: a failed Backup job, copy or restore, and a GuardDuty finding (medium and up) page through the
    alerts topic of the region they happen in, both regions; a rule that matched nothing would be silent, so each
    pattern is matched against a sample event of its kind (EventBridge's own matching rules, by hand: source,
    detail-type, detail fields) and must not match the success case."""
    plan = stack_plan("prod", preview=False)
    dr = {r.urn for r in dr_side(plan)}
    rules = {(r.name, r.urn in dr): r for r in plan.of_type("aws:cloudwatch/eventRule:EventRule")
             if r.name in ("backup-job-failures", "guardduty-findings")}
    assert set(rules) == {(n, side) for n in ("backup-job-failures", "guardduty-findings") for side in (False, True)}
    targets = [t for t in plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
               if t.name in ("backup-job-failures-alerts", "guardduty-findings-alerts")]
    assert len(targets) == 4
    for t in targets:
        region = ":us-west-2:" if t.urn in dr else ":us-east-1:"
        assert region in t.props["arn"] and t.props["arn"].endswith("alerts"), t.props["arn"]

    def matches(pattern, event) -> bool:
        for key, want in pattern.items():
            value = event.get(key)
            if isinstance(want, dict):
                if not isinstance(value, dict) or not matches(want, value):
                    return False
            elif not any((isinstance(w, dict) and w["numeric"][0] == ">=" and isinstance(value, (int, float))
                          and value >= w["numeric"][1]) or w == value for w in want):
                return False
        return True
    backup = json.loads(rules[("backup-job-failures", True)].props["eventPattern"])
    assert matches(backup, {"source": "aws.backup", "detail-type": "Copy Job State Change",
                            "detail": {"state": "FAILED"}})
    assert not matches(backup, {"source": "aws.backup", "detail-type": "Copy Job State Change",
                                "detail": {"state": "COMPLETED"}})
    guard = json.loads(rules[("guardduty-findings", False)].props["eventPattern"])
    assert matches(guard, {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"severity": 7.5}})
    assert not matches(guard, {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"severity": 2}})


BUCKET_T = "aws:s3/bucket:Bucket"


def test_dr_copies_keep_old_versions_as_long_as_their_sources():
    """Issue 26: the DR replicas of the data buckets expired noncurrent versions after 30 days where the primary
    keeps 180: each replica's lifecycle keeps them as long as its source bucket's."""
    plan = stack_plan("prod", preview=False)
    dr = {r.urn for r in dr_side(plan)}
    lifecycles = {r.name: r for r in plan.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")}

    def keep(r) -> int:
        return max(rule["noncurrentVersionExpiration"]["noncurrentDays"] for rule in r.props["rules"]
                   if rule.get("noncurrentVersionExpiration"))
    replica_of = {b.props["bucket"]: b.props["tags"]["ReplicaOf"] for b in plan.of_type(BUCKET_T)
                  if b.urn in dr and (b.props.get("tags") or {}).get("Purpose") == "dr-replica"
                  and b.props["tags"]["ReplicaOf"] != "site"}
    replicas = {replica_of[r.props["bucket"]]: r for r in lifecycles.values() if r.props.get("bucket") in replica_of}
    assert replicas and set(replicas) == set(replica_of.values())
    for key, replica in replicas.items():
        assert keep(replica) >= keep(lifecycles[f"{key}-lifecycle"]) == 180, key


def test_the_dr_replica_has_the_primarys_parameter_group_in_its_region():
    """Issue 26: the DR database had no parameter group (TLS-only and logging settings lost at promotion); its
    replica now gets a group of the same family and parameters in the DR region, and the failback re-creates the
    DR replica with it (manifest drDbParameterGroup)."""
    from functions.dr_failover.manifest import parse
    plan = stack_plan("prod", preview=False)
    dr = {r.urn for r in dr_side(plan)}
    groups = plan.of_type("aws:rds/parameterGroup:ParameterGroup")
    [primary] = [g for g in groups if g.urn not in dr]
    [standby] = [g for g in groups if g.urn in dr]
    assert standby.props["family"] == primary.props["family"]
    assert standby.props["parameters"] == primary.props["parameters"]
    assert {"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"} in standby.props["parameters"]
    [replica] = [r for r in dr_side(plan) if r.type == RDS]
    assert replica.props["parameterGroupName"] == standby.outputs["name"]
    assert parse(plan.exports["drManifest"]).dr_db_parameter_group == standby.outputs["name"]
