"""The standing DR region (`dr.mode` pilot-light or warm-standby): what only a second region has. The network
and application tiers themselves are the primary's components, built a second time through the DR region's
provider by components/platform.py (`Platform.instance = "dr"` gives them their own component-type namespace,
so no child URN collides with the primary's); these components sit around them:

- `DrKeys` (built before the security tier): the DR region's customer-managed keys. Secrets replicas need a key
  of their own region when the secret is created, and CloudWatch Logs only uses a key of its region.
  Independent DR-region keys, not multi-Region keys: the primary keys already exist as single-Region keys and
  `multiRegion` cannot be turned on in place (the key would be replaced and every store re-encrypted); every
  service replicating here (S3 CRR, RDS cross-region replica, Secrets Manager replicas, AWS Backup copies,
  DynamoDB global tables) re-encrypts under a destination-region key by itself, so shared key material brings
  nothing but a wider blast radius (one key policy governing both regions).
- `DrDatabase` (after the DR network): a cross-region encrypted PostgreSQL read replica the failover promotes,
  the SSM parameter naming the DB host, the DR region's alerts topic and the replica-lag alarm that bounds the RPO.
- `DrFailover` (after the DR application tier): Route 53 failover records with a health check on the primary
  (when `dr.hostedZoneId` is set), the DR load balancer's alarm, and the manifest `functions/dr_failover` reads
  (`drManifest`: ids, ARNs, names, never a secret).

- `DrImages`: the DR region's image repositories, created by the stack with the primary's names, settings and
  a DR-region key. ECR registry replication copies each push into the existing repository of the same name (it
  only creates one when there is none), and the DR services' "is an image there yet?" lookup
  (components/ecs_services.py `parked`) then asks a repository the same deployment created: before, it asked
  one that only the first replicated push would create, and `RepositoryNotFoundException` failed the first
  `pulumi up` (issue 24; `python -m plan --first-up` reports such lookups).
- `DrUserSync` (after the DR API): the scheduled job (functions/user_sync) that keeps the standing DR user pool
  in step with the primary's: new users imported (RESET_REQUIRED), removed or disabled ones disabled.
- `DrCache` (after the DR network): a small standby Redis, empty at failover (not a Global Datastore: the
  cache holds derived data - sessions live in the DynamoDB global table - and a Global Datastore would run a
  second r/m-class cluster 24/7 for data the services rebuild from the database in minutes).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from .config.dr import DrSettings
from .context import Platform, policy_json, publish, required
from .recipes.alarms import metric_alarm
from .recipes.caches import REDIS_PORT, RedisSpec, redis_cache
from .recipes.functions import LambdaSpec, platform_function
from .recipes.images import repository
from .recipes.keys import data_grants, key_policy, kms_key, logs_grants
from .recipes.log_groups import log_group
from .recipes.roles import service_role

POSTGRES_PORT = 5432


# ---------------------------------------------------------------------------------------------- keys
@dataclasses.dataclass(frozen=True)
class DrKeysArgs:
    platform: Platform          # the DR region's


@dataclasses.dataclass(frozen=True)
class DrKeysOutputs:
    secrets_key_arn: pulumi.Output[str]
    logs_key_arn: pulumi.Output[str]
    data_key_arn: pulumi.Output[str]      # services encrypting on their own behalf (the DR alerts topic)


class DrKeys(pulumi.ComponentResource):
    def __init__(self, name: str, args: DrKeysArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:DrKeys", name, None, p.tier_options(opts))
        account = p.account_id
        secrets = kms_key(self, p, "dr-secrets-key", purpose="secrets", alias="secrets",
                          description=f"{p.namer.base()} DR-region secrets key (Secrets Manager replicas)",
                          policy=account.apply(key_policy))
        logs = kms_key(self, p, "dr-logs-key", purpose="logs", alias="logs",
                       description=f"{p.namer.base()} DR-region logs key (flow logs, ECS logs)",
                       policy=account.apply(lambda a: key_policy(a, *logs_grants(a, p.region))))
        data = kms_key(self, p, "dr-data-key", purpose="data", alias="data",
                       description=f"{p.namer.base()} DR-region data key (alerts topic)",
                       policy=account.apply(lambda a: key_policy(a, *data_grants(a, p.region))))
        self.outputs = DrKeysOutputs(secrets_key_arn=secrets.arn, logs_key_arn=logs.arn, data_key_arn=data.arn)
        publish(self, self.outputs)


# ---------------------------------------------------------------------------------------------- images
@dataclasses.dataclass(frozen=True)
class DrImagesArgs:
    platform: Platform                                  # the DR region's
    repository_names: Mapping[str, pulumi.Input[str]]   # the ML tier's (the replication source), by image
    kms_key_arn: pulumi.Input[str]                      # a DR-region key
    immutable_tags: bool
    keep_tagged_images: int
    untagged_expiry_days: int


@dataclasses.dataclass(frozen=True)
class DrImagesOutputs:
    repository_urls: Mapping[str, pulumi.Output[str]]


def _replica_tags(p: Platform, image: str):
    def tags(name: str) -> dict[str, str]:
        return p.tags(name, Image=image, Role="dr-replica")
    return tags


class DrImages(pulumi.ComponentResource):
    """The replication targets, as the primary's repositories are built (scan on push, KMS, lifecycle), protected
    as they are: the images a failover runs live here."""

    def __init__(self, name: str, args: DrImagesArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:DrImages", name, None, p.tier_options(opts))
        urls = {}
        for image, repo_name in args.repository_names.items():
            repo = repository(
                f"dr-repo-{image}", name=repo_name, immutable_tags=args.immutable_tags, kms_key_arn=args.kms_key_arn,
                keep_tagged=args.keep_tagged_images, untagged_days=args.untagged_expiry_days,
                force_delete=not p.protect, tags=pulumi.Output.from_input(repo_name).apply(_replica_tags(p, image)),
                opts=p.stateful(self), child=pulumi.ResourceOptions(parent=self))
            urls[image] = repo.repository_url
        self.outputs = DrImagesOutputs(repository_urls=urls)
        publish(self, self.outputs)


# ---------------------------------------------------------------------------------------------- database
@dataclasses.dataclass(frozen=True)
class DrDatabaseArgs:
    platform: Platform                      # the DR region's
    settings: DrSettings
    primary_region: str
    source_db_identifier: pulumi.Input[str]  # the primary's (explicit, known in a preview)
    instance_class: str
    log_exports: Sequence[str]
    isolated_subnet_ids: pulumi.Input[Sequence[str]]     # the DR network tier's
    data_sg_id: pulumi.Input[str]                        # the DR network tier's data group
    kms_key_arn: pulumi.Input[str]          # the DR tier's DR-region key (replicas, backups)
    # CloudWatch alarms notify topics of their own region: the DR events tier's alerts topic (the primary's
    # subscribers, encrypted with DrKeys' data key).
    alerts_topic_arn: pulumi.Input[str]
    backup_retention_days: int = 7
    max_replica_lag_seconds: int = 900      # ReplicaLag above this alarms: the RPO the replica is meant to give
    # the primary's parameter group (family, parameters): the replica gets the same group in its region (issue 26)
    parameter_family: str | None = None
    parameters: Sequence[dict] = ()
    # DrKeys' logs key: the groups of the logs the replica exports (CloudWatch Logs uses a key of its own region)
    logs_key_arn: pulumi.Input[str] | None = None


@dataclasses.dataclass(frozen=True)
class DrDatabaseOutputs:
    replica_identifier: pulumi.Output[str]
    replica_address: pulumi.Output[str]
    # The replica's own resource id: the DR services' rds-db:connect grants name it (dbuser:<resource-id>/<user>).
    replica_resource_id: pulumi.Output[str]
    subnet_group_name: pulumi.Output[str]
    endpoint_parameter: str
    alerts_topic_arn: pulumi.Output[str]
    parameter_group_name: pulumi.Output[str] | None = None   # the failback re-creates the DR replica with it
    # Alarms on a metric only a replica emits (ReplicaLag) -> their treatMissingData: the failover's promotion
    # ends that metric, so the procedure sets them notBreaching at promote-replica and back at replicate-to-dr.
    replica_alarms: Mapping[str, str] = dataclasses.field(default_factory=dict)


class DrDatabase(pulumi.ComponentResource):
    def __init__(self, name: str, args: DrDatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        p, d = args.platform, args.settings
        super().__init__("ai-platform:tier:DrDatabase", name, None, p.tier_options(opts))
        child = pulumi.ResourceOptions(parent=self)

        replica_id = p.namer.physical("rds", "postgres", "dr")
        subnets = aws.rds.SubnetGroup(
            "postgres-dr-subnets", name=p.namer.physical("db_subnet_group", "postgres", "dr"),
            subnet_ids=args.isolated_subnet_ids, description="DR PostgreSQL replica on the DR VPC's isolated subnets",
            tags=p.tags(p.namer.base("postgres-dr-subnets")), opts=child)
        # The source's ARN from its (explicit, known) identifier: checkable in a preview, still a dependency on it.
        source_arn = pulumi.Output.all(p.account_id, args.source_db_identifier).apply(
            lambda v: f"arn:aws:rds:{args.primary_region}:{v[0]}:db:{v[1]}")
        # Cross-region: the source is named by ARN, the key must be the DR region's, the subnet group and the
        # security group are the DR VPC's. Engine, credentials and IAM auth come from the source. Backups are
        # on (1+ days) so the replica can be promoted to a primary with point-in-time recovery at once.
        params = None
        if args.parameter_family:
            params = aws.rds.ParameterGroup(
                "postgres-dr-params", family=args.parameter_family,
                description=f"{p.namer.base()} {args.parameter_family} DR replica: the primary's settings",
                parameters=[aws.rds.ParameterGroupParameterArgs(**kw) for kw in args.parameters],
                tags=p.tags(p.namer.base("postgres-dr-params")), opts=child)
        self.parameter_group_name = params.name if params is not None else None
        # The groups of the logs the replica exports, built before it (as the primary's: KMS, audit retention), so
        # RDS does not create plain ones (no key, kept forever) at the replica's first export (issue 26).
        if args.log_exports and args.logs_key_arn is None:
            raise ValueError("DrDatabaseArgs.logs_key_arn is required when the replica exports logs")
        log_groups = [log_group(self, p, f"postgres-dr-logs-{log}",
                                p.namer.service_log_group("/aws/rds/instance", replica_id, log),
                                kms_key_arn=required(args.logs_key_arn, "DrKeys.logs_key_arn"), retention="audit",
                                tags=p.tags(p.namer.base(f"postgres-dr-logs-{log}")))
                      for log in args.log_exports]
        self.replica = aws.rds.Instance(
            "postgres-dr", identifier=replica_id, replicate_source_db=source_arn,
            parameter_group_name=params.name if params is not None else None,
            instance_class=d.db_instance_class or args.instance_class, storage_type="gp3",
            storage_encrypted=True, kms_key_id=args.kms_key_arn, db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[args.data_sg_id], publicly_accessible=False, port=POSTGRES_PORT,
            # the services connect as their own IAM-authenticated users, as on the primary
            iam_database_authentication_enabled=True,
            multi_az=False, backup_retention_period=args.backup_retention_days,
            performance_insights_enabled=True, performance_insights_kms_key_id=args.kms_key_arn,
            enabled_cloudwatch_logs_exports=list(args.log_exports), auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True, deletion_protection=p.protect, skip_final_snapshot=True,
            apply_immediately=not p.protect,
            tags=p.tags(replica_id, Engine="postgres", Role="dr-replica"), opts=p.stateful(self, depends_on=log_groups))

        # The DB host the DR services use (and the failover procedure keeps current): the replica's address, which
        # a promoted replica keeps. The DR tier keeps a parameter of the same name in the primary region.
        parameter_name = p.namer.physical("ssm_parameter", "db-endpoint")
        aws.ssm.Parameter("db-endpoint-dr", name=parameter_name, type="String", value=self.replica.address,
                          description="PostgreSQL host the DR-region services use (dr_failover keeps it current)",
                          tags=p.tags(p.namer.base("db-endpoint")), opts=child)

        # missing = breaching: a replica that reports no lag is not replicating. A promoted replica reports none
        # either: functions/dr_failover relaxes it at promote-replica and restores it once the replica is back
        # (replicate-to-dr), from the manifest's drReplicaAlarms (plan/dr.py alarm_recovery checks every alarm).
        lag_alarm = p.namer.physical("alarm", "postgres-dr-replica-lag")
        metric_alarm(self, p, "postgres-dr-lag-alarm", "postgres-dr-replica-lag", namespace="AWS/RDS",
                     metric="ReplicaLag", dimensions={"DBInstanceIdentifier": self.replica.identifier}, op=">",
                     threshold=float(args.max_replica_lag_seconds), statistic="Maximum", period=60, periods=5,
                     actions=[args.alerts_topic_arn], missing="breaching", severity="critical",
                     description="DR replica lag above the RPO it is meant to give (or no lag reported: "
                                 "replication broken)")

        self.outputs = DrDatabaseOutputs(
            replica_identifier=self.replica.identifier, replica_address=self.replica.address,
            replica_resource_id=self.replica.resource_id,
            subnet_group_name=subnets.name, endpoint_parameter=parameter_name,
            alerts_topic_arn=pulumi.Output.from_input(args.alerts_topic_arn),
            parameter_group_name=self.parameter_group_name, replica_alarms={lag_alarm: "breaching"})
        publish(self, self.outputs)


# ---------------------------------------------------------------------------------------------- cache
@dataclasses.dataclass(frozen=True)
class DrCacheArgs:
    platform: Platform                      # the DR region's
    settings: DrSettings
    engine_version: str                     # the primary's (clients see the same Redis)
    maxmemory_policy: str
    multi_az: bool                          # as the primary's (a standby that becomes the cache keeps its resilience)
    isolated_subnet_ids: pulumi.Input[Sequence[str]]     # the DR network tier's
    data_sg_id: pulumi.Input[str]                        # the DR network tier's data group
    kms_key_arn: pulumi.Input[str]          # the DR tier's DR-region key
    secrets_key_arn: pulumi.Input[str]      # DrKeys' secrets key (the AUTH token secret)
    logs_key_arn: pulumi.Input[str]         # DrKeys' logs key


@dataclasses.dataclass(frozen=True)
class DrCacheOutputs:
    endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    auth_secret_arn: pulumi.Output[str]
    auth_secret_arn_pattern: pulumi.Output[str]


class DrCache(pulumi.ComponentResource):
    """The DR region's standby cache: small nodes (two across AZs when the primary is Multi-AZ, as the pack
    demands in prod) built by the same recipe as the primary's (TLS, AUTH, encryption, logs), empty at failover. Not a Global Datastore: that needs r/m-class nodes in both regions
    (a second large cluster running 24/7) to replicate data the services rebuild from the database; a small
    standby keeps the DR services' contract (REDIS_HOST + AUTH token) identical to the primary's for a few
    dollars a month, and is resized online after a failover if the load needs it."""

    def __init__(self, name: str, args: DrCacheArgs, opts: pulumi.ResourceOptions | None = None):
        p, d = args.platform, args.settings
        super().__init__("ai-platform:tier:DrCache", name, None, p.tier_options(opts))
        cache = redis_cache(self, p, RedisSpec(engine_version=args.engine_version, node_type=d.cache_node_type,
                                               nodes=2 if args.multi_az else 1, multi_az=args.multi_az,
                                               snapshot_retention_days=0,
                                               maxmemory_policy=args.maxmemory_policy),
                            subnet_ids=args.isolated_subnet_ids, security_group_id=args.data_sg_id,
                            kms_key_arn=args.kms_key_arn, secrets_key_arn=args.secrets_key_arn,
                            logs_key_arn=args.logs_key_arn)
        self.outputs = DrCacheOutputs(
            endpoint=cache.group.primary_endpoint_address, port=pulumi.Output.from_input(REDIS_PORT),
            auth_secret_arn=cache.secret.arn, auth_secret_arn_pattern=cache.secret_arn_pattern)
        publish(self, self.outputs)


# ---------------------------------------------------------------------------------------------- failover
@dataclasses.dataclass(frozen=True)
class DrFailoverArgs:
    platform: Platform                      # the DR region's
    settings: DrSettings
    alerts_topic_arn: pulumi.Input[str]     # DrDatabase's
    dr_alb_arn_suffix: pulumi.Input[str]    # the DR application tier's (its 5xx alarm)
    primary_region: str
    # The front doors are the two regions' APIs (the load balancers are internal): their invoke URLs (where
    # clients go without a zone), and with edge.apiDomainName their regional custom domains (alias targets).
    primary_api_url: pulumi.Input[str]
    dr_api_url: pulumi.Input[str]
    record_name: str | None = None          # edge.apiDomainName
    primary_api_target: pulumi.Input[str] | None = None
    primary_api_zone_id: pulumi.Input[str] | None = None
    dr_api_target: pulumi.Input[str] | None = None
    dr_api_zone_id: pulumi.Input[str] | None = None
    primary_health_alarm_name: pulumi.Input[str] | None = None   # the primary API's 5xx alarm (edge tier)
    primary_liveness_alarm_name: pulumi.Input[str] | None = None  # the primary region's liveness (observability)
    # What the manifest names (docs/dr-failover.md): the other tiers' published ids, ARNs and names.
    manifest: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class DrFailoverOutputs:
    health_check_ids: Sequence[pulumi.Output[str]]
    manifest: pulumi.Output[dict]


class DrFailover(pulumi.ComponentResource):
    def __init__(self, name: str, args: DrFailoverArgs, opts: pulumi.ResourceOptions | None = None):
        p, d = args.platform, args.settings
        super().__init__("ai-platform:tier:DrFailover", name, None, p.tier_options(opts))
        child = pulumi.ResourceOptions(parent=self)

        # The DR load balancer's own errors (after a failover it serves the DR API).
        metric_alarm(self, p, "dr-alb-5xx-alarm", "dr-alb-elb-5xx", namespace="AWS/ApplicationELB",
                     metric="HTTPCode_ELB_5XX_Count", dimensions={"LoadBalancer": args.dr_alb_arn_suffix}, op=">",
                     threshold=10.0, statistic="Sum", period=300, actions=[args.alerts_topic_arn],
                     missing="notBreaching", severity="critical", description="DR load balancer 5xx responses (serving only after a failover)")

        health_checks: list[pulumi.Output[str]] = []
        records: list[dict] = []
        if d.hosted_zone_id and args.record_name and args.primary_api_target is not None \
                and args.dr_api_target is not None:
            # The primary API's health as Route 53 sees it: its 5xx alarm (a GET health probe cannot pass the
            # Cognito authorizer every method but OPTIONS requires). With the primary region's CloudWatch
            # unreachable the alarm has no data: unhealthy, so a regional outage moves the name by itself; the
            # failover procedure forces it by inverting this check.
            check = aws.route53.HealthCheck(
                "primary-health-check", type="CLOUDWATCH_METRIC", cloudwatch_alarm_name=args.primary_health_alarm_name,
                cloudwatch_alarm_region=args.primary_region, insufficient_data_health_status="Unhealthy",
                tags=p.tags(p.namer.base("primary-health")), opts=child)
            if args.primary_liveness_alarm_name is not None:
                # The 5xx alarm treats missing data as fine (a quiet API is healthy), so a region that emits no
                # metrics at all would look healthy through it alone: the region's liveness alarm (no ECS service
                # reporting = breaching) is the second child, and the record's check is healthy only with both.
                live = aws.route53.HealthCheck(
                    "primary-liveness-check", type="CLOUDWATCH_METRIC",
                    cloudwatch_alarm_name=args.primary_liveness_alarm_name,
                    cloudwatch_alarm_region=args.primary_region, insufficient_data_health_status="Unhealthy",
                    tags=p.tags(p.namer.base("primary-liveness")), opts=child)
                check = aws.route53.HealthCheck(
                    "primary-region-health", type="CALCULATED", child_healthchecks=[check.id, live.id],
                    child_health_threshold=2, tags=p.tags(p.namer.base("primary-region-health")), opts=child)
            health_checks.append(check.id)
            for role, target_name, target_zone, hc in (
                    ("PRIMARY", args.primary_api_target, args.primary_api_zone_id, check.id),
                    ("SECONDARY", args.dr_api_target, args.dr_api_zone_id, None)):
                aws.route53.Record(
                    f"failover-{role.lower()}", zone_id=d.hosted_zone_id, name=args.record_name, type="A",
                    set_identifier=f"{p.namer.base()}-{role.lower()}", health_check_id=hc,
                    failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=role)],
                    aliases=[aws.route53.RecordAliasArgs(name=target_name, zone_id=required(target_zone, f"{role} API zone id"),
                                                         evaluate_target_health=False)], opts=child)
            records.append({"name": args.record_name, "type": "A"})

        m = dict(args.manifest)
        values = {k: m[k] for k in ("db_primary", "db_replica", "cluster", "primary_cluster", "primary_key",
                                    "primary_subnets", "primary_sg", "dr_key", "dr_subnets", "dr_sg")}
        # failback restores these on the new primary (and re-creates its same-region replica); preflight checks
        # the DR region's standing user pool (sign-in after the move)
        values.update({k: m[k] for k in ("primary_pool", "dr_pool", "primary_params", "readers", "dr_params",
                                         "replica_alarms") if m.get(k) is not None})
        manifest = pulumi.Output.all(
            api_urls=pulumi.Output.all(primary=args.primary_api_url, dr=args.dr_api_url),
            services=pulumi.Output.all(**dict(m["services"])),
            release_parameters=pulumi.Output.all(**dict(m.get("release_parameters") or {})),
            primary_services=pulumi.Output.all(**dict(m["primary_services"])),
            checks=pulumi.Output.all(*health_checks), **values,
        ).apply(lambda v: manifest_document(
            stack=p.stack, mode=d.mode, state_parameter=p.namer.physical("ssm_parameter", "dr-failover", "state"),
            primary_region=m["primary_region"], dr_region=p.region, values=v, desired=dict(m["desired"]),
            standby=dict(m["standby"]), parameter=m["parameter"],
            hosted_zone_id=d.hosted_zone_id if records else None, records=records,
            api_domain_name=args.record_name,
            instance_class=m["instance_class"], retention=m["retention"],
            primary_multi_az=bool(m.get("primary_multi_az"))))
        self.outputs = DrFailoverOutputs(health_check_ids=health_checks, manifest=manifest)
        publish(self, self.outputs)


def manifest_document(*, stack: str, mode: str, state_parameter: str, primary_region: str, dr_region: str, values: dict,
                      desired: dict, standby: dict, parameter: str, hosted_zone_id: str | None, records: list,
                      instance_class: str, retention: int, api_domain_name: str | None = None,
                      primary_multi_az: bool = False) -> dict:
    """The DR manifest `functions/dr_failover` reads (docs/dr-failover.md): identifiers only, never a secret."""
    services = values["services"]            # catalogue key -> DR ECS service name
    primary_services = values["primary_services"]
    doc: dict[str, Any] = {
        "version": 1, "stack": stack, "mode": mode, "primaryRegion": primary_region, "drRegion": dr_region,
        "dbPrimaryId": values["db_primary"], "dbReplicaId": values["db_replica"], "dbEndpointParameter": parameter,
        "clusterName": values["cluster"], "services": [services[k] for k in sorted(services)],
        "desiredCounts": {services[k]: desired.get(k, 1) for k in sorted(services)},
        "standbyCounts": {services[k]: standby.get(k, 0) for k in sorted(services)},
        "healthCheckIds": list(values["checks"]),
        # DR service -> the SSM parameter its task definition takes its image from (day two): use-current-images
        # records the image it moves the service onto, so a later `pulumi up` keeps it.
        "releaseParameters": {services[k]: (values.get("release_parameters") or {})[k]
                              for k in sorted(services) if k in (values.get("release_parameters") or {})},
        "primaryClusterName": values["primary_cluster"],
        "primaryServices": [primary_services[k] for k in sorted(primary_services)],
        "primaryDesiredCounts": {primary_services[k]: desired.get(k, 1) for k in sorted(primary_services)},
        "primaryDbEndpointParameter": parameter,
        "primaryKmsKeyId": values["primary_key"], "primaryDbSubnetGroup": values["primary_subnets"],
        "primarySecurityGroupIds": [values["primary_sg"]],
        "drKmsKeyId": values["dr_key"], "drDbSubnetGroup": values["dr_subnets"], "drSecurityGroupIds": [values["dr_sg"]],
        "stateParameter": state_parameter,
        "dbInstanceClass": instance_class, "backupRetentionDays": retention,
        # the failback's lag gate (functions/dr_failover wait-replica-caught-up): a commit made after the fence
        # replayed, at a lag an idle PostgreSQL source reaches (RDS heartbeat every 5 min) plus a minute
        "maxReplicaLagSeconds": 360,
        "primaryMultiAz": primary_multi_az,
        "primaryReaderIds": [values["readers"]] if values.get("readers") else [],
        "userPoolIds": {k: values[v] for k, v in (("primary", "primary_pool"), ("dr", "dr_pool")) if values.get(v)},
    }
    if values.get("replica_alarms"):
        doc["drReplicaAlarms"] = dict(values["replica_alarms"])
    for key, value in (("primaryDbParameterGroup", "primary_params"), ("drDbParameterGroup", "dr_params")):
        if values.get(value):
            doc[key] = values[value]
    # Where clients go in each region (the DNS step names it when the stack owns no record to move).
    doc["apiEndpoints"] = {"primary": values["api_urls"]["primary"], "dr": values["api_urls"]["dr"]}
    if api_domain_name:
        doc["apiDomainName"] = api_domain_name
    if hosted_zone_id:
        doc["hostedZoneId"] = hosted_zone_id
        doc["records"] = records
    return doc


# ---------------------------------------------------------------------------------------------- users
USER_SYNC_SCHEDULE = "rate(1 hour)"     # a user added in the primary can sign in in the DR region within the hour


@dataclasses.dataclass(frozen=True)
class DrUserSyncArgs:
    platform: Platform                      # the DR region's
    primary_region: str
    source_pool_id: pulumi.Input[str]       # the primary edge tier's pool
    source_pool_arn: pulumi.Input[str]
    target_pool_id: pulumi.Input[str]       # the DR edge tier's standing pool
    target_pool_arn: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]         # DrKeys' data key (the function's dead-letter queue)
    logs_key_arn: pulumi.Input[str]         # DrKeys' logs key
    alerts_topic_arn: pulumi.Input[str]     # the DR region's alerts topic (the job's errors page)
    warnings_topic_arn: pulumi.Input[str]   # the DR region's warnings topic (its dead-letter queue informs)


@dataclasses.dataclass(frozen=True)
class DrUserSyncOutputs:
    function_name: pulumi.Output[str]
    import_logs_role_arn: pulumi.Output[str]


class DrUserSync(pulumi.ComponentResource):
    """The standing DR pool's users kept in step (docs/dr.md, Cognito): an hourly run of functions/user_sync in the
    DR region (it reads the primary pool across regions; in an outage nothing is there to copy, and the last run's
    users are what the DR pool has). Grants: ListUsers on the primary pool; the import job's calls and
    AdminDisableUser on the DR pool; PassRole of the import job's log role to Cognito only."""

    def __init__(self, name: str, args: DrUserSyncArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:DrUserSync", name, None, p.tier_options(opts))
        n = p.namer
        logs_role_name = n.physical("iam_role", "cognito-import-logs")
        # Cognito writes the import job's logs with this role (CreateUserImportJob's CloudWatchLogsRoleArn;
        # Cognito Developer Guide, "Creating the CloudWatch Logs IAM role" for user import)
        logs_role = service_role(
            self, p, "cognito-import-logs-role", service="cognito-idp.amazonaws.com", name=logs_role_name,
            tag_name=logs_role_name, description="Cognito user import jobs write their logs (DR user sync)",
            inline={"cognito-import-logs": policy_json({
                "Sid": "ImportJobLogs", "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": p.arn("logs", "log-group:/aws/cognito/*")})}).role
        statements: list[dict] = [
            {"Sid": "ReadPrimaryUsers", "Effect": "Allow", "Action": ["cognito-idp:ListUsers"],
             "Resource": args.source_pool_arn},
            {"Sid": "ImportIntoStandbyPool", "Effect": "Allow",
             "Action": ["cognito-idp:ListUsers", "cognito-idp:GetCSVHeader", "cognito-idp:ListUserImportJobs",
                        "cognito-idp:CreateUserImportJob", "cognito-idp:StartUserImportJob",
                        "cognito-idp:AdminDisableUser"],
             "Resource": args.target_pool_arn},
            {"Sid": "PassImportLogsRole", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": logs_role.arn,
             "Condition": {"StringEquals": {"iam:PassedToService": "cognito-idp.amazonaws.com"}}},
        ]
        fn = platform_function(
            self, p, LambdaSpec(name="user-sync", handler="handler.handler", source_dir="user_sync", timeout=300,
                                memory=256, reserved_concurrency=1,
                                environment={"SOURCE_POOL_ID": args.source_pool_id, "SOURCE_REGION": args.primary_region,
                                             "TARGET_POOL_ID": args.target_pool_id, "TARGET_REGION": p.region,
                                             "IMPORT_LOGS_ROLE_ARN": logs_role.arn}),
            data_key_arn=args.data_key_arn, logs_key_arn=args.logs_key_arn, statements=statements)
        schedule = service_role(
            self, p, "user-sync-schedule-role", service="scheduler.amazonaws.com",
            description="EventBridge Scheduler invokes the DR user sync", tag_name=n.base("user-sync-schedule"),
            inline={"user-sync-schedule-invoke": policy_json(
                {"Sid": "InvokeUserSync", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                 "Resource": p.arn("lambda", f"function:{fn.name}")})})
        aws.scheduler.Schedule(
            "user-sync", name=n.physical("eventbridge_rule", "user-sync"),
            description="Keep the standing DR user pool in step with the primary's (functions/user_sync)",
            schedule_expression=USER_SYNC_SCHEDULE,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=fn.function.arn, role_arn=schedule.role.arn,
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_event_age_in_seconds=3600,
                                                                         maximum_retry_attempts=3)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[fn.function,
                                                                 schedule.policies["user-sync-schedule-invoke"]]))
        # a failing sync is silent until the outage it was meant for: its errors page in this region
        metric_alarm(self, p, "user-sync-errors-alarm", "user-sync-errors", namespace="AWS/Lambda", metric="Errors",
                     dimensions={"FunctionName": fn.function.name}, op=">", threshold=0.0, statistic="Sum",
                     period=3600, actions=[args.alerts_topic_arn], missing="notBreaching", severity="critical",
                     description="The DR user sync failed: the standing DR pool falls behind the primary's users")
        # as every dead-letter queue (tests/test_stacks.py): a message there is a run the scheduler gave up on
        metric_alarm(self, p, "alarm-dlq-user-sync-depth", "dlq-user-sync-depth", namespace="AWS/SQS",
                     metric="ApproximateNumberOfMessagesVisible", dimensions={"QueueName": fn.dlq.name}, op=">",
                     threshold=0.0, statistic="Maximum", period=300, actions=[args.warnings_topic_arn],
                     missing="notBreaching", severity="warning", description="Dead-letter queue user-sync has messages")
        self.outputs = DrUserSyncOutputs(function_name=fn.function.name, import_logs_role_arn=logs_role.arn)
        publish(self, self.outputs)
