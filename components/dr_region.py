"""The standing DR region (`dr.mode` pilot-light or warm-standby): the SAME tier components as the primary,
built through the DR region's provider, plus what only a second region has.

- `DrKeys` (built before the security tier): the DR region's customer-managed keys. Secrets replicas need a key
  of their own region at the time the secret is created, and CloudWatch Logs only uses a key of its region.
  Independent DR-region keys, not multi-Region keys: the primary keys already exist as single-Region keys and
  `multiRegion` cannot be turned on in place (the key would be replaced and every store re-encrypted); every
  service replicating here (S3 CRR, RDS cross-region replica, Secrets Manager replicas, AWS Backup copies,
  DynamoDB global tables) re-encrypts under a destination-region key by itself, so a shared key material brings
  nothing but a wider blast radius (one key policy controlling both regions).
- `DrRegion`: the network tier (DR VPC, its own CIDR), the application tier (ECS cluster, ALB, every catalogue
  service from the DR-region ECR replicas, secrets from the DR-region replicas; desired 0 / autoscaling floor 0
  in pilot-light, `standbyCount` in warm-standby), a cross-region encrypted PostgreSQL read replica that the
  failover promotes, the SSM parameter naming the DB host, Route 53 failover records with a health check (when
  `dr.hostedZoneId` is set), and the manifest `functions/dr_failover` reads (`drManifest`: ids, ARNs, names).

Cache: no ElastiCache Global Datastore. The cache holds derived data (sessions live in the DynamoDB global
table); a Global Datastore would run a second r6g-class cluster 24/7 in a standby region, for a cache that is
rebuilt from the database in minutes. The DR services start with an empty cache (REDIS_HOST unset: the services
treat the cache as optional) - see docs/dr.md for what is not built yet.

Every child is a child of the `ai-platform:tier:DrRegion` component, so its URN type chain differs from the
primary's and the same logical names can be reused; physical names are regional (cluster, ALB, log groups,
aliases) or auto-named, except IAM, which stays the primary's (IAM is global: the DR tasks use the same roles).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from .application import ApplicationOutputs, ApplicationTier, ApplicationTierArgs
from .config.application import ApplicationSettings
from .config.dr import DrSettings
from .config.network import NetworkSettings
from .context import Platform, policy_json, publish
from .network import NetworkOutputs, NetworkTier, NetworkTierArgs
from .recipes.alarms import metric_alarm
from .recipes.keys import data_grants, key_policy, kms_key, logs_grants

POSTGRES_PORT = 5432


# ---------------------------------------------------------------------------------------------- settings
def dr_network_settings(d: DrSettings, network: NetworkSettings) -> NetworkSettings:
    """The primary's network section with the DR VPC's CIDR, NAT strategy and (optionally) no interface endpoints."""
    return dataclasses.replace(network, cidr=d.vpc_cidr, nat_strategy=d.nat_strategy,
                               interface_endpoints=network.interface_endpoints if d.interface_endpoints else ())


def dr_application_settings(d: DrSettings, app: ApplicationSettings) -> ApplicationSettings:
    """The primary's application section scaled to the mode: every service at 0 tasks with an autoscaling floor
    of 0 (pilot-light) or at `standbyCount` (warm-standby); the DR certificate; no alias record (the failover
    records own the name)."""
    count = 0 if d.mode == "pilot-light" else d.standby_count
    services = {name: dataclasses.replace(s, desired_count=min(count, s.max_count), min_count=min(count, s.max_count))
                for name, s in app.services.items()}
    alb = dataclasses.replace(app.alb, certificate_arn=d.alb_certificate_arn,
                              domain_name=app.alb.domain_name if d.alb_certificate_arn else None, hosted_zone_id=None)
    return dataclasses.replace(app, services=services, alb=alb, eks=dataclasses.replace(app.eks, enabled=False),
                               batch=dataclasses.replace(app.batch, enabled=False))


def in_region(arn_or_url: pulumi.Input[str], primary: str, dr: str) -> pulumi.Output[str]:
    """The same ARN / ECR URL in the DR region (a secret replica keeps its name and suffix; an ECR replica its
    repository name)."""
    return pulumi.Output.from_input(arn_or_url).apply(
        lambda v: v.replace(f":{primary}:", f":{dr}:").replace(f".{primary}.", f".{dr}."))


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
    def __init__(self, name: str, args: DrKeysArgs, opts: Optional[pulumi.ResourceOptions] = None):
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


# ---------------------------------------------------------------------------------------------- region
@dataclasses.dataclass(frozen=True)
class PrimarySide:
    """What the DR region needs from the primary: published outputs of its tiers (ids, ARNs, names)."""
    region: str
    db_instance_identifier: pulumi.Input[str]
    db_subnet_group_name: pulumi.Input[str]
    db_security_group_id: pulumi.Input[str]
    db_kms_key_arn: pulumi.Input[str]
    db_instance_class: str
    db_log_exports: Sequence[str]
    db_monitoring_role_arn: Optional[pulumi.Input[str]]
    cluster_name: pulumi.Input[str]
    service_names: Mapping[str, pulumi.Input[str]]
    desired_counts: Mapping[str, int]
    alb_dns_name: pulumi.Input[str]
    alb_zone_id: pulumi.Input[str]
    alb_domain_name: Optional[str]
    health_check_path: str
    ecs_execution_role_arn: pulumi.Input[str]
    ecs_task_role_arn: pulumi.Input[str]
    ecs_task_role_name: pulumi.Input[str]
    secret_arns: Mapping[str, pulumi.Input[str]]
    repository_urls: Mapping[str, pulumi.Input[str]]


@dataclasses.dataclass(frozen=True)
class DrRegionArgs:
    platform: Platform                  # the DR region's
    settings: DrSettings
    network: NetworkSettings            # already the DR variant (dr_network_settings)
    application: ApplicationSettings    # already the DR variant (dr_application_settings)
    primary: PrimarySide
    keys: DrKeysOutputs
    data_key_arn: pulumi.Input[str]     # the DR tier's DR-region key (replicas, backups)
    backup_retention_days: int = 7
    # CloudWatch alarms notify topics of their own region: the DR region's alerts topic gets the same subscribers
    # as the primary's ((protocol, endpoint) pairs).
    alert_subscriptions: Sequence[tuple] = ()
    # ReplicaLag above this (s) alarms: the RPO the replica is meant to give.
    max_replica_lag_seconds: int = 900
    # The DR tier's SSE-S3 bucket in the DR region (ELB delivery allowed): the DR load balancer's access logs.
    log_bucket_name: Optional[pulumi.Input[str]] = None


@dataclasses.dataclass(frozen=True)
class DrRegionOutputs:
    network: NetworkOutputs
    application: ApplicationOutputs
    db_replica_identifier: pulumi.Output[str]
    db_replica_address: pulumi.Output[str]
    db_endpoint_parameter: str
    health_check_ids: Sequence[pulumi.Output[str]]
    manifest: pulumi.Output[dict]


class DrRegion(pulumi.ComponentResource):
    def __init__(self, name: str, args: DrRegionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        p, d, prim = args.platform, args.settings, args.primary
        super().__init__("ai-platform:tier:DrRegion", name, None, p.tier_options(opts))
        child = pulumi.ResourceOptions(parent=self)
        inside = pulumi.ResourceOptions(parent=self)

        # --- the network tier, as in the primary --------------------------------------------------------
        network = NetworkTier("network", NetworkTierArgs(
            platform=p, settings=args.network, logs_key_arn=args.keys.logs_key_arn), opts=inside).outputs

        # --- the promotable database: a cross-region encrypted read replica --------------------------------
        replica_id = p.namer.physical("rds", "postgres", "dr")
        subnets = aws.rds.SubnetGroup(
            "postgres-dr-subnets", name=p.namer.physical("db_subnet_group", "postgres", "dr"),
            subnet_ids=network.isolated_subnet_ids,
            description="DR PostgreSQL replica on the DR VPC's isolated subnets",
            tags=p.tags(p.namer.base("postgres-dr-subnets")), opts=child)
        # The source's ARN from its (explicit, known) identifier: checkable in a preview, and still a dependency on it.
        source_arn = pulumi.Output.all(p.account_id, prim.db_instance_identifier).apply(
            lambda v: f"arn:aws:rds:{prim.region}:{v[0]}:db:{v[1]}")
        # Cross-region: the source is named by ARN, the key must be the DR region's, the subnet group and the
        # security group are the DR VPC's. Engine, credentials and IAM auth come from the source. Backups are
        # on (1+ days) so the replica can be promoted to a primary with point-in-time recovery at once.
        self.replica = aws.rds.Instance(
            "postgres-dr", identifier=replica_id, replicate_source_db=source_arn,
            instance_class=d.db_instance_class or prim.db_instance_class, storage_type="gp3",
            storage_encrypted=True, kms_key_id=args.data_key_arn, db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[network.data_security_group_id], publicly_accessible=False, port=POSTGRES_PORT,
            multi_az=False, backup_retention_period=args.backup_retention_days,
            performance_insights_enabled=True, performance_insights_kms_key_id=args.data_key_arn,
            monitoring_interval=60 if prim.db_monitoring_role_arn else 0,
            monitoring_role_arn=prim.db_monitoring_role_arn,
            enabled_cloudwatch_logs_exports=list(prim.db_log_exports), auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True, deletion_protection=p.protect, skip_final_snapshot=True,
            apply_immediately=not p.protect,
            tags=p.tags(replica_id, Engine="postgres", Role="dr-replica"), opts=p.stateful(self))

        # The DB host the DR services use (and the failover procedure checks): the replica's address, which a
        # promoted replica keeps. One parameter of the same name in each region (the failback writes the primary's).
        parameter_name = p.namer.physical("ssm_parameter", "db-endpoint")
        aws.ssm.Parameter("db-endpoint-dr", name=parameter_name, type="String", value=self.replica.address,
                          description="PostgreSQL host the DR-region services use (dr_failover keeps it current)",
                          tags=p.tags(p.namer.base("db-endpoint")), opts=child)

        # --- alerts: the DR region's topic and the replica's lag ------------------------------------------
        topic_name = p.namer.physical("sns", "alerts")
        topic = aws.sns.Topic("dr-alerts", name=topic_name, kms_master_key_id=args.keys.data_key_arn,
                              tags=p.tags(topic_name, Purpose="alerts"), opts=child)
        topic_arn = p.account_id.apply(lambda a: f"arn:aws:sns:{p.region}:{a}:{topic_name}")
        aws.sns.TopicPolicy("dr-alerts-policy", arn=topic.arn, policy=policy_json(
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": topic_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": "sns:Publish", "Resource": topic_arn,
             "Condition": {"StringEquals": {"aws:SourceAccount": p.account_id},
                           "ArnLike": {"aws:SourceArn": p.account_id.apply(
                               lambda a: f"arn:aws:cloudwatch:{p.region}:{a}:alarm:*")}}}), opts=child)
        for i, (protocol, endpoint) in enumerate(args.alert_subscriptions):
            aws.sns.TopicSubscription(f"dr-alerts-{protocol}-{i}", topic=topic.arn, protocol=protocol,
                                      endpoint=endpoint, opts=child)
        metric_alarm(self, p, "postgres-dr-lag-alarm", "postgres-dr-replica-lag", namespace="AWS/RDS",
                     metric="ReplicaLag", dimensions={"DBInstanceIdentifier": self.replica.identifier}, op=">",
                     threshold=float(args.max_replica_lag_seconds), statistic="Maximum", period=60, periods=5,
                     actions=[topic.arn], missing="breaching",
                     description="DR replica lag above the RPO it is meant to give (or no lag reported: "
                                 "replication broken)")

        # --- the application tier, as in the primary, scaled to the mode ---------------------------------
        secret_arns = {k: in_region(v, prim.region, p.region) for k, v in prim.secret_arns.items()}
        repository_urls = {k: in_region(v, prim.region, p.region) for k, v in prim.repository_urls.items()}
        # No REDIS_HOST: the DR region starts with an empty cache, and none is built yet (docs/dr.md).
        environment = {"DB_HOST": self.replica.address, "DB_PORT": str(POSTGRES_PORT)}
        application = ApplicationTier("application", ApplicationTierArgs(
            platform=p, settings=args.application, vpc_id=network.vpc_id, public_subnet_ids=network.public_subnet_ids,
            private_subnet_ids=network.private_subnet_ids, lb_sg_id=network.lb_security_group_id,
            app_sg_id=network.app_security_group_id, ecs_execution_role_arn=prim.ecs_execution_role_arn,
            ecs_task_role_arn=prim.ecs_task_role_arn, ecs_task_role_name=prim.ecs_task_role_name,
            logs_key_arn=args.keys.logs_key_arn, data_key_arn=args.data_key_arn,
            data_key_alias=p.namer.kms_alias("dr"), secret_arns=secret_arns, repository_urls=repository_urls,
            log_bucket_name=args.log_bucket_name, service_environment=environment, extra_task_policy_arns=None),
            opts=inside).outputs

        # The DR load balancer's own errors (after a failover it is the front door).
        metric_alarm(self, p, "dr-alb-5xx-alarm", "dr-alb-elb-5xx", namespace="AWS/ApplicationELB",
                     metric="HTTPCode_ELB_5XX_Count", dimensions={"LoadBalancer": application.alb_arn_suffix}, op=">",
                     threshold=10.0, statistic="Sum", period=300, actions=[topic.arn], missing="notBreaching",
                     description="DR load balancer 5xx responses (serving only after a failover)")

        # --- DNS: failover records and the primary's health check ----------------------------------------
        health_checks: list[pulumi.Output[str]] = []
        records: list[dict] = []
        if d.hosted_zone_id and prim.alb_domain_name:
            name = prim.alb_domain_name
            https = args.application.alb.certificate_arn is not None
            check = aws.route53.HealthCheck(
                "primary-health-check", type="HTTPS" if https else "HTTP", port=443 if https else 80,
                fqdn=prim.alb_dns_name, resource_path=prim.health_check_path,
                failure_threshold=d.health_check_failure_threshold, request_interval=d.health_check_interval,
                tags=p.tags(p.namer.base("primary-health")), opts=child)
            health_checks.append(check.id)
            for role, target_name, target_zone, hc in (
                    ("PRIMARY", prim.alb_dns_name, prim.alb_zone_id, check.id),
                    ("SECONDARY", application.alb_dns_name, application.alb_zone_id, None)):
                aws.route53.Record(
                    f"failover-{role.lower()}", zone_id=d.hosted_zone_id, name=name, type="A",
                    set_identifier=f"{p.namer.base()}-{role.lower()}", health_check_id=hc,
                    failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=role)],
                    aliases=[aws.route53.RecordAliasArgs(name=target_name, zone_id=target_zone,
                                                         evaluate_target_health=True)], opts=child)
            records.append({"name": name, "type": "A"})

        standby = {k: s.settings.desired_count for k, s in
                   ((s.name, s) for s in args.application.catalogue())}
        manifest = pulumi.Output.all(
            db_primary=prim.db_instance_identifier, db_replica=self.replica.identifier,
            cluster=application.cluster_name, services=pulumi.Output.all(**dict(application.service_names)),
            primary_cluster=prim.cluster_name, primary_services=pulumi.Output.all(**dict(prim.service_names)),
            primary_key=prim.db_kms_key_arn, primary_subnets=prim.db_subnet_group_name,
            primary_sg=prim.db_security_group_id, dr_key=args.data_key_arn, dr_subnets=subnets.name,
            dr_sg=network.data_security_group_id, checks=pulumi.Output.all(*health_checks),
        ).apply(lambda v: manifest_document(
            stack=p.stack, mode=d.mode, state_parameter=p.namer.physical("ssm_parameter", "dr-failover", "state"), primary_region=prim.region, dr_region=p.region, values=v,
            desired=dict(prim.desired_counts), standby=standby, parameter=parameter_name,
            hosted_zone_id=d.hosted_zone_id if records else None, records=records,
            instance_class=d.db_instance_class or prim.db_instance_class, retention=args.backup_retention_days))

        self.outputs = DrRegionOutputs(
            network=network, application=application, db_replica_identifier=self.replica.identifier,
            db_replica_address=self.replica.address, db_endpoint_parameter=parameter_name,
            health_check_ids=health_checks, manifest=manifest)
        self.register_outputs({"dbReplicaIdentifier": self.replica.identifier,
                               "dbEndpointParameter": parameter_name, "drManifest": manifest})


def manifest_document(*, stack: str, mode: str, state_parameter: str, primary_region: str, dr_region: str, values: dict,
                      desired: dict, standby: dict, parameter: str, hosted_zone_id: Optional[str], records: list,
                      instance_class: str, retention: int) -> dict:
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
        "primaryClusterName": values["primary_cluster"],
        "primaryServices": [primary_services[k] for k in sorted(primary_services)],
        "primaryDesiredCounts": {primary_services[k]: desired.get(k, 1) for k in sorted(primary_services)},
        "primaryDbEndpointParameter": parameter,
        "primaryKmsKeyId": values["primary_key"], "primaryDbSubnetGroup": values["primary_subnets"],
        "primarySecurityGroupIds": [values["primary_sg"]],
        "drKmsKeyId": values["dr_key"], "drDbSubnetGroup": values["dr_subnets"], "drSecurityGroupIds": [values["dr_sg"]],
        "stateParameter": state_parameter,
        "dbInstanceClass": instance_class, "backupRetentionDays": retention, "maxReplicaLagSeconds": 0,
    }
    if hosted_zone_id:
        doc["hostedZoneId"] = hosted_zone_id
        doc["records"] = records
    return doc
