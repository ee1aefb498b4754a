"""The wiring: every tier, in data-flow order, each given its own settings section and the outputs it needs
from the tiers before it. `__main__.py`, the tests and another region's build all call `build`.

Order: keys and roles, the network, the data stores, the event backbone (its alerts topic is where every
alarm goes), ML (ECR repositories the services run from), the services, the front door, then the tiers that
watch, govern and back up everything above.
"""
from __future__ import annotations

import dataclasses

import pulumi
import pulumi_aws as aws

from .application import ApplicationOutputs, ApplicationTier, ApplicationTierArgs
from .catalog import DEFAULT_SERVICES
from .config import Settings
from .config.application import ApplicationSettings
from .config.dr import DrSettings
from .config.edge import EdgeSettings
from .config.network import NetworkSettings
from .context import Platform, required
from .data import DataOutputs, DataTier, DataTierArgs
from .database_users import DatabaseUsers, DatabaseUsersArgs, DatabaseUsersOutputs
from .database_users import role_arn as bootstrap_role_arn
from .delivery import DeliveredService, DeliveryOutputs, DeliveryTier, DeliveryTierArgs
from .dr import DrOutputs, DrTier, DrTierArgs, replica_origin, replication_alarms
from .dr_region import (
    DrCache,
    DrCacheArgs,
    DrDatabase,
    DrDatabaseArgs,
    DrDatabaseOutputs,
    DrFailover,
    DrFailoverArgs,
    DrImages,
    DrImagesArgs,
    DrKeys,
    DrKeysArgs,
    DrUserSync,
    DrUserSyncArgs,
)
from .edge import EdgeOutputs, EdgeTier, EdgeTierArgs
from .events import EventsOutputs, EventsTier, EventsTierArgs
from .governance import (
    GovernanceOutputs,
    GovernanceTier,
    GovernanceTierArgs,
    RegionBaseline,
    RegionBaselineArgs,
    silent_failure_rules,
)
from .ml import MlOutputs, MlTier, MlTierArgs
from .network import NetworkOutputs, NetworkTier, NetworkTierArgs
from .observability import ObservabilityOutputs, ObservabilityTier, ObservabilityTierArgs
from .security import SecurityOutputs, SecurityTier, SecurityTierArgs
from .service_access import ServiceDependencies


@dataclasses.dataclass(frozen=True)
class PlatformOutputs:
    security: SecurityOutputs
    network: NetworkOutputs
    data: DataOutputs
    events: EventsOutputs
    ml: MlOutputs
    application: ApplicationOutputs
    edge: EdgeOutputs
    observability: ObservabilityOutputs
    governance: GovernanceOutputs
    dr: DrOutputs
    delivery: DeliveryOutputs | None = None   # ai-platform:delivery.enabled
    database_users: DatabaseUsersOutputs | None = None
    dr_region: DrRegionOutputs | None = None   # pilot-light / warm-standby only


def platform_for(settings: Settings, provider: pulumi.ProviderResource | None = None,
                 region: str | None = None, instance: str = "") -> Platform:
    """What every tier shares. With another region's `provider`, pass that `region` too; `instance` names a
    second instance of the same tiers in this program (the DR region's: "dr")."""
    return Platform.create(
        project=settings.project, stack=settings.stack, region=region or settings.region, settings=settings.platform,
        provider=provider, key_deletion_window_days=settings.security.kms_deletion_window_days,
        secret_recovery_window_days=settings.security.secret_recovery_window_days,
        account_baseline=settings.observability.account_baseline, instance=instance)


def build(settings: Settings, provider: pulumi.ProviderResource | None = None, *,
          region: str | None = None) -> PlatformOutputs:
    p = platform_for(settings, provider, region)
    delivered = settings.delivery.delivered([s.name for s in settings.application.catalogue()])

    # The DR region: one provider and one Platform for every resource built there (DR tier, DR keys, the DR instance of the tiers).
    d = settings.dr
    dp = dr_keys = None
    if d.enabled:
        dr_provider = aws.Provider("dr-provider", region=d.region, opts=pulumi.ResourceOptions(
            # It used to be a child of the DR tier: the alias keeps its identity (no replacement of DR resources).
            aliases=[pulumi.Alias(parent=pulumi.create_urn("dr", "ai-platform:tier:Dr"))]))
        dp = platform_for(settings, dr_provider, d.region, instance="dr")
        if d.standby:
            dr_keys = DrKeys("dr-keys", DrKeysArgs(platform=dp)).outputs

    security = SecurityTier("security", SecurityTierArgs(
        platform=p, settings=settings.security, replica_region=d.region if dr_keys else None,
        replica_kms_key_arn=dr_keys.secrets_key_arn if dr_keys else None)).outputs
    network = NetworkTier("network", NetworkTierArgs(
        platform=p, settings=settings.network, logs_key_arn=security.logs_key_arn)).outputs

    data = DataTier("data", DataTierArgs(
        platform=p, settings=settings.data, vpc_id=network.vpc_id, isolated_subnet_ids=network.isolated_subnet_ids,
        data_sg_id=network.data_security_group_id, data_key_arn=security.data_key_arn,
        logs_key_arn=security.logs_key_arn, secrets_key_arn=security.secrets_key_arn,
        # The master credential is read by the database bootstrap (DatabaseUsers, below) and nothing else.
        master_secret_readers=[bootstrap_role_arn(p)],
        replica_region=d.region if dr_keys else None,
        replica_kms_key_arn=dr_keys.secrets_key_arn if dr_keys else None)).outputs

    events = EventsTier("events", EventsTierArgs(
        platform=p, settings=settings.events, data_key_arn=security.data_key_arn,
        analytics_stream=settings.events.analytics_stream)).outputs

    ml = MlTier("ml", MlTierArgs(
        platform=p, settings=settings.ml,
        # Every catalogue service keeps a repository even when disabled (images outlive a paused service; prod's
        # repositories are protected), plus the services the application config adds.
        service_names=list(dict.fromkeys([*DEFAULT_SERVICES, *(s.name for s in settings.application.catalogue())])),
        data_key_arn=security.data_key_arn, logs_key_arn=security.logs_key_arn,
        access_log_bucket_name=data.log_bucket_name,
        sagemaker_role_arn=security.sagemaker_role_arn, sagemaker_role_name=security.sagemaker_role_name,
        data_key_alias=security.key_aliases["data"], sagemaker_role_name_tag=security.sagemaker_role_name_tag,
        private_subnet_ids=network.private_subnet_ids, ml_sg_id=network.ml_security_group_id,
        artifacts_bucket_name=data.bucket_names["ml-artifacts"], artifacts_bucket_arn=data.bucket_arns["ml-artifacts"],
        data_bucket_name=data.bucket_names["data-lake"], data_bucket_arn=data.bucket_arns["data-lake"],
        alarm_topic_arn=events.warnings_topic_arn)).outputs

    dependencies = ServiceDependencies(
        region=p.region, account_id=p.account_id, secret_arns=security.secret_arns,
        secret_arn_patterns=security.secret_arn_patterns, bucket_arns=data.bucket_arns, table_arns=data.table_iam_arns, queue_arns=events.queue_arns, event_bus_arn=events.event_bus_arn,
        event_sources=events.event_sources, db_resource_id=data.db_resource_id, db_address=data.db_address,
        db_reader_address=data.db_replica_address,
        db_reader_resource_id=data.db_replica_resource_id, db_port=data.db_port.apply(str), db_name=data.db_name,
        redis_endpoint=data.redis_endpoint, redis_port=data.redis_port.apply(str),
        redis_auth_secret_arn=data.redis_auth_secret_arn,
        redis_auth_secret_arn_pattern=data.redis_auth_secret_arn_pattern,
        trigger_objects={"data-lake": ml.trigger_object_arns})
    application = ApplicationTier("application", ApplicationTierArgs(
        platform=p, settings=settings.application, vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids, lb_sg_id=network.lb_security_group_id,
        app_sg_id=network.app_security_group_id, batch_sg_id=network.batch_security_group_id,
        logs_key_arn=security.logs_key_arn, data_key_arn=security.data_key_arn,
        data_key_alias=security.key_aliases["data"], repository_urls=ml.repository_urls,
        dependencies=dependencies, log_bucket_name=data.log_bucket_name,
        off_hours_tag=settings.ml.off_hours.tag_key if settings.ml.off_hours.enabled else None,
        delivered_services=delivered,
    )).outputs

    # The services' database users and grants, from the same contracts (functions/db_bootstrap), on the primary.
    users = DatabaseUsers("database-users", DatabaseUsersArgs(
        platform=p, settings=settings.application, db_address=data.db_address, db_port=data.db_port.apply(str),
        db_name=data.db_name, db_resource_id=data.db_resource_id, master_username=settings.data.db_master_username,
        master_secret_arn=data.db_master_secret_arn, master_secret_arn_pattern=data.db_master_secret_arn_pattern,
        private_subnet_ids=network.private_subnet_ids,
        app_sg_id=network.app_security_group_id, data_key_arn=security.data_key_arn,
        logs_key_arn=security.logs_key_arn)).outputs

    delivery = None
    if settings.delivery.enabled:
        delivery = DeliveryTier("delivery", DeliveryTierArgs(
            platform=p, settings=settings.delivery, cluster_name=application.cluster_name,
            alerts_topic_arn=required(events.warnings_topic_arn, "events.warnings_topic_arn"),
            data_key_arn=security.data_key_arn,
            data_key_alias=security.key_aliases["data"], logs_key_arn=security.logs_key_arn,
            access_log_bucket_name=data.log_bucket_name,
            services={svc: DeliveredService(
                repository_arn=ml.repository_arns[svc], repository_url=ml.repository_urls[svc],
                ecs_service_name=application.service_names[svc], task_family=application.task_families[svc],
                pass_role_name_tags=application.role_name_tags[svc], counts=application.service_counts[svc],
                release_parameter_name=application.release_parameters.get(svc))
                for svc in delivered})).outputs

    edge = EdgeTier("edge", EdgeTierArgs(
        platform=p, settings=settings.edge, logs_key_arn=security.logs_key_arn, backend_url=application.backend_url,
        alb_arn=application.alb_arn, vpc_link_subnet_ids=network.private_subnet_ids,
        vpc_link_security_group_id=network.vpc_link_security_group_id,
        routes=application.routes, binary_media_types=application.binary_media_types,
        internal_headers=[settings.application.releases.test_header],
        upload_bucket_names={k: data.bucket_names[k] for k in application.upload_buckets},
        log_bucket_name=data.log_bucket_name, log_bucket_arn=data.log_bucket_arn, alerts_topic_arn=events.alerts_topic_arn,
        warnings_topic_arn=events.warnings_topic_arn,
        # With a DR region: the SPA may call the DR API, and CloudFront falls back to the DR tier's site replica.
        dr_region=d.region if d.standby else None,
        site_failover_origin=replica_origin(p, d.region) if d.enabled else None)).outputs

    observability = ObservabilityTier("observability", ObservabilityTierArgs(
        platform=p, settings=settings.observability, alerts_topic_arn=events.alerts_topic_arn,
        warnings_topic_arn=events.warnings_topic_arn,
        ecs_cluster_name=application.cluster_name, ecs_service_names=application.service_names,
        alb_arn_suffix=application.alb_arn_suffix, target_group_arn_suffixes=application.target_group_arn_suffixes,
        service_parked=application.service_parked, api_name=edge.api_name, api_stage_name=edge.api_stage_name,
        db_instance_identifiers={"primary": data.db_instance_identifier, "replica": data.db_replica_identifier},
        docdb_cluster_identifier=data.docdb_cluster_identifier,
        redis_replication_group_id=data.redis_replication_group_id, redis_node_count=data.redis_node_count,
        dlq_arns=events.dlq_arns, dlq_names={**ml.dlq_names, "db-bootstrap": users.dlq_name, **(
            {"unpark": delivery.unpark_dlq_name} if delivery and delivery.unpark_dlq_name else {})},
        function_names={**ml.function_names, "db-bootstrap": users.function_name, **(
            {"unpark": delivery.unpark_function_name} if delivery and delivery.unpark_function_name else {})},
        external_alarm_arns=[ml.training_failed_alarm_arn])).outputs
    governance = GovernanceTier("governance", GovernanceTierArgs(
        platform=p, settings=settings.observability, logs_key_arn=security.logs_key_arn,
        alerts_topic_arn=events.warnings_topic_arn, access_log_bucket_name=data.log_bucket_name,
        critical_topic_arn=events.alerts_topic_arn)).outputs
    if (dp is not None and governance.config_role_arn is not None and governance.audit_bucket_name is not None
            and governance.audit_key_arn is not None):
        # Every region the stack runs in has the account baseline (Config, GuardDuty, EBS encryption by default),
        # not only the primary: the DR region holds a VPC, databases, caches, services and buckets.
        RegionBaseline("dr-governance", RegionBaselineArgs(
            platform=dp, settings=settings.observability, config_role_arn=governance.config_role_arn,
            audit_bucket_name=governance.audit_bucket_name, audit_key_arn=governance.audit_key_arn))

    dr = DrTier("dr", DrTierArgs(
        platform=p, settings=settings.dr, dr_platform=dp, bucket_ids=data.bucket_ids, bucket_arns=data.bucket_arns,
        bucket_versioning_ids=data.bucket_versioning_ids, db_instance_arn=data.db_instance_arn,
        table_arns=data.table_arns, docdb_cluster_arn=data.docdb_cluster_arn, db_address=data.db_address,
        site_bucket_id=edge.site_bucket_name, site_bucket_arn=edge.site_bucket_arn,
        site_versioning_id=edge.site_versioning_id, site_distribution_arn=edge.distribution_arn,
        ecr_lifecycle_policy=ml.ecr_lifecycle_policy,
        noncurrent_version_days=settings.data.lifecycle_noncurrent_expire_days,
        bucket_kms_key_arn=security.data_key_arn, alerts_topic_arn=events.alerts_topic_arn,
        table_names=data.table_names)).outputs

    dr_region = None
    if dr_keys is not None:
        dr_region = build_dr_region(settings, required(dp, "the DR platform"), dr_keys, dr, security, network, data, ml, application,
                                    dependencies, edge, observability)

    return PlatformOutputs(security=security, network=network, data=data, events=events, ml=ml,
                           application=application, edge=edge, observability=observability, governance=governance,
                           dr=dr, delivery=delivery, dr_region=dr_region, database_users=users)


@dataclasses.dataclass(frozen=True)
class DrRegionOutputs:
    """The DR region's instance of the network and application tiers, and what only the DR region has."""
    network: NetworkOutputs
    application: ApplicationOutputs
    edge: EdgeOutputs            # the DR API (api_only)
    database: DrDatabaseOutputs
    health_check_ids: list
    manifest: pulumi.Output
    events: EventsOutputs | None = None    # the DR instance of the events tier (queues, bus, alerts topic)


def dr_network_settings(d: DrSettings, network: NetworkSettings) -> NetworkSettings:
    """The primary's network section with the DR VPC's CIDR, NAT strategy and (optionally) no interface endpoints."""
    return dataclasses.replace(network, cidr=d.vpc_cidr, nat_strategy=d.nat_strategy,
                               interface_endpoints=network.interface_endpoints if d.interface_endpoints else ())


def dr_application_settings(d: DrSettings, app: ApplicationSettings) -> ApplicationSettings:
    """The primary's application section scaled to the mode: every service at 0 tasks with an autoscaling floor
    of 0 (pilot-light) or at `standbyCount` (warm-standby); the DR certificate; no alias record (the failover
    records own the name); no EKS or Batch."""
    count = 0 if d.mode == "pilot-light" else d.standby_count
    services = {name: dataclasses.replace(s, desired_count=min(count, s.max_count), min_count=min(count, s.max_count))
                for name, s in app.services.items()}
    alb = dataclasses.replace(app.alb, certificate_arn=d.alb_certificate_arn,
                              domain_name=app.alb.domain_name if d.alb_certificate_arn else None, hosted_zone_id=None)
    return dataclasses.replace(app, services=services, alb=alb, eks=dataclasses.replace(app.eks, enabled=False),
                               batch=dataclasses.replace(app.batch, enabled=False))


def dr_edge_settings(d: DrSettings, edge: EdgeSettings) -> EdgeSettings:
    """The primary's edge section for the DR API: same stage, throttling, WAF and logs; the DR certificate for
    the API's custom domain (a regional custom domain reads its own region's certificate)."""
    return dataclasses.replace(edge, api_certificate_arn=d.api_certificate_arn if edge.api_domain_name else None,
                               # the standing DR user pool sends from an SES identity of its own region
                               email_source_arn=d.email_source_arn,
                               email_from=edge.email_from if d.email_source_arn else None)


def in_region(arn_or_url: pulumi.Input[str], primary: str, dr: str) -> pulumi.Output[str]:
    """The same ARN / ECR URL in the DR region (a secret replica keeps its name and suffix; an ECR replica its
    repository name)."""
    return pulumi.Output.from_input(arn_or_url).apply(
        lambda v: v.replace(f":{primary}:", f":{dr}:").replace(f".{primary}.", f".{dr}."))


def build_dr_region(settings: Settings, dp: Platform, keys, dr: DrOutputs, security: SecurityOutputs,
                    network: NetworkOutputs, data: DataOutputs, ml: MlOutputs,
                    application: ApplicationOutputs, dependencies: ServiceDependencies,
                    edge: EdgeOutputs, observability: ObservabilityOutputs) -> DrRegionOutputs:
    """pilot-light / warm-standby: the network and application tiers again, through the DR provider (their own
    component namespace: `dp.instance`), fed with the primary's and the DR components' published outputs."""
    d, app = settings.dr, settings.application
    primary_region = settings.region
    catalogue = app.catalogue()
    dr_key_arn = required(dr.dr_key_arn, "dr.dr_key_arn")
    dr_net = NetworkTier("dr-network", NetworkTierArgs(
        platform=dp, settings=dr_network_settings(d, settings.network), logs_key_arn=keys.logs_key_arn)).outputs
    # The event backbone again (bus, rules, queues with their DLQs, topics; no analytics stream), encrypted with
    # the DR-region data key: the DR services consume DR queues and publish to the DR bus. Its alerts topic is
    # the DR region's (alarms notify topics of their own region). Queues are not replicated: messages in flight
    # in the primary's queues at an outage stay there (docs/dr.md).
    dr_events = EventsTier("dr-events", EventsTierArgs(
        platform=dp, settings=settings.events, data_key_arn=keys.data_key_arn, analytics_stream=False,
        dlq_alarms=True)).outputs
    db = DrDatabase("dr-database", DrDatabaseArgs(
        platform=dp, settings=d, primary_region=primary_region, source_db_identifier=data.db_instance_identifier,
        instance_class=settings.data.db_instance_class, log_exports=tuple(settings.data.db_log_exports),
        isolated_subnet_ids=dr_net.isolated_subnet_ids, data_sg_id=dr_net.data_security_group_id,
        kms_key_arn=dr_key_arn, alerts_topic_arn=dr_events.alerts_topic_arn,
        backup_retention_days=min(35, max(1, settings.data.db_backup_retention_days)),
        parameter_family=data.db_parameter_family, parameters=data.db_parameters, logs_key_arn=keys.logs_key_arn,
    )).outputs
    cache = DrCache("dr-cache", DrCacheArgs(
        platform=dp, settings=d, engine_version=settings.data.redis_engine_version,
        maxmemory_policy=settings.data.redis_maxmemory_policy, multi_az=settings.data.redis_multi_az,
        isolated_subnet_ids=dr_net.isolated_subnet_ids,
        data_sg_id=dr_net.data_security_group_id, kms_key_arn=dr_key_arn, secrets_key_arn=keys.secrets_key_arn,
        logs_key_arn=keys.logs_key_arn)).outputs
    dr_app_settings = dr_application_settings(d, app)
    dr_images = DrImages("dr-images", DrImagesArgs(
        platform=dp, repository_names=ml.repository_names, kms_key_arn=dr_key_arn,
        immutable_tags=settings.ml.immutable_tags, keep_tagged_images=settings.ml.keep_tagged_images,
        untagged_expiry_days=settings.ml.untagged_expiry_days)).outputs
    # The DR services' contracts resolved in the DR region: the replica (promoted on failover) for the database,
    # the secret replicas and ECR replicas in the DR region, the DR standby cache (empty at failover, its own AUTH
    # token), the DR events tier's queues and bus, the DR replica buckets and (dynamodbStrategy replica) the
    # tables' DR replicas. The DR application tier builds its own
    # per-service roles (autonamed) whose execution roles read the DR region's secret copies.
    def here(v):
        return in_region(v, primary_region, dp.region)
    dr_deps = dataclasses.replace(
        dependencies, region=dp.region,
        secret_arns={k: here(v) for k, v in dependencies.secret_arns.items()},
        secret_arn_patterns={k: here(v) for k, v in dependencies.secret_arn_patterns.items()},
        # The DR tier's replica buckets and (dynamodbStrategy replica) the global tables' DR replicas.
        bucket_arns={k: (pulumi.Output.concat("arn:aws:s3:::", dr.replica_bucket_names[k])
                         if k in dr.replica_bucket_names else v) for k, v in dependencies.bucket_arns.items()},
        table_arns={k: (here(v) if d.dynamodb_strategy == "replica" and k in data.table_arns else v)
                    for k, v in dependencies.table_arns.items()},
        queue_arns=dr_events.queue_arns, event_bus_arn=dr_events.event_bus_arn, event_sources=dr_events.event_sources,
        db_resource_id=db.replica_resource_id, db_address=db.replica_address, db_reader_address=db.replica_address,
        db_reader_resource_id=db.replica_resource_id,
        redis_endpoint=cache.endpoint, redis_port=cache.port.apply(str), redis_auth_secret_arn=cache.auth_secret_arn,
        redis_auth_secret_arn_pattern=cache.auth_secret_arn_pattern)
    dr_app = ApplicationTier("dr-application", ApplicationTierArgs(
        platform=dp, settings=dr_app_settings, vpc_id=dr_net.vpc_id,
        private_subnet_ids=dr_net.private_subnet_ids, lb_sg_id=dr_net.lb_security_group_id,
        app_sg_id=dr_net.app_security_group_id, batch_sg_id=dr_net.batch_security_group_id,
        logs_key_arn=keys.logs_key_arn, data_key_arn=dr_key_arn, data_key_alias=dp.namer.kms_alias("dr"),
        # The DR region's own repositories (DrImages): what the "image there yet?" lookup asks must exist
        # before it is asked, and a replicated push lands in them.
        repository_urls=dr_images.repository_urls,
        dependencies=dr_deps, log_bucket_name=dr.dr_access_log_bucket_name,
        # Pipeline-owned like the primary's (their releases reach the DR region through ECR replication): the
        # failover procedure (functions/dr_failover use-current-images) moves them onto the newest replicated
        # image, and `pulumi up` must not move them back to application.imageTag.
        delivered_services=settings.delivery.delivered([s.name for s in catalogue]))).outputs
    # The DR region's front door: the edge tier's API part over a VPC link to the DR region's internal load
    # balancer, behind its own regional WAF ACL, for the primary's SPA. Its authorizer accepts the primary's pool
    # and the DR region's standing pool built here by the edge tier's own pool block (same settings; users kept in
    # step by DrUserSync's hourly import, docs/dr.md), so sign-in in an outage needs no `pulumi up`.
    dr_edge = EdgeTier("dr-edge", EdgeTierArgs(
        platform=dp, settings=dr_edge_settings(d, settings.edge), logs_key_arn=keys.logs_key_arn, api_only=True,
        backend_url=dr_app.backend_url, alb_arn=dr_app.alb_arn, vpc_link_subnet_ids=dr_net.private_subnet_ids,
        vpc_link_security_group_id=dr_net.vpc_link_security_group_id,
        routes=dr_app.routes, binary_media_types=dr_app.binary_media_types,
        internal_headers=[settings.application.releases.test_header],
        user_pool_arns=[required(edge.user_pool_arn, "edge.user_pool_arn"), *([d.user_pool_arn] if d.user_pool_arn else [])],
        standby_user_pool=True,
        site_url=edge.site_url, apigateway_role_arn=edge.apigateway_role_arn,
        alerts_topic_arn=dr_events.alerts_topic_arn)).outputs
    failover_tier = DrFailover("dr-failover", DrFailoverArgs(
        platform=dp, settings=d, alerts_topic_arn=db.alerts_topic_arn, dr_alb_arn_suffix=dr_app.alb_arn_suffix,
        primary_region=primary_region, record_name=settings.edge.api_domain_name,
        primary_api_url=edge.api_endpoint, dr_api_url=dr_edge.api_endpoint,
        primary_api_target=edge.api_domain_target, primary_api_zone_id=edge.api_domain_zone_id,
        dr_api_target=dr_edge.api_domain_target, dr_api_zone_id=dr_edge.api_domain_zone_id,
        primary_health_alarm_name=edge.api_health_alarm_name,
        primary_liveness_alarm_name=observability.liveness_alarm_name,
        manifest={
            "primary_region": primary_region, "db_primary": data.db_instance_identifier,
            "db_replica": db.replica_identifier, "cluster": dr_app.cluster_name, "services": dr_app.service_names,
            "primary_cluster": application.cluster_name, "primary_services": application.service_names,
            "primary_key": security.data_key_arn, "primary_subnets": data.db_subnet_group_name,
            "primary_sg": network.data_security_group_id, "dr_key": dr.dr_key_arn, "dr_subnets": db.subnet_group_name,
            "dr_sg": dr_net.data_security_group_id, "parameter": db.endpoint_parameter,
            "release_parameters": dr_app.release_parameters,
            "primary_pool": edge.user_pool_id, "dr_pool": dr_edge.user_pool_id,
            "primary_params": data.db_parameter_group_name, "readers": data.db_replica_identifier,
            "primary_multi_az": settings.data.db_multi_az, "dr_params": db.parameter_group_name,
            "replica_alarms": dict(db.replica_alarms),
            "desired": {s.name: s.settings.desired_count for s in catalogue},
            "standby": {s.name: s.settings.desired_count for s in dr_app_settings.catalogue()},
            "instance_class": d.db_instance_class or settings.data.db_instance_class,
            "retention": min(35, max(1, settings.data.db_backup_retention_days))}))
    failover = failover_tier.outputs
    # The standing DR pool's users kept in step with the primary's (functions/user_sync, hourly).
    DrUserSync("dr-user-sync", DrUserSyncArgs(
        platform=dp, primary_region=primary_region,
        source_pool_id=required(edge.user_pool_id, "edge.user_pool_id"),
        source_pool_arn=required(edge.user_pool_arn, "edge.user_pool_arn"),
        target_pool_id=required(dr_edge.user_pool_id, "dr_edge.user_pool_id"),
        target_pool_arn=required(dr_edge.user_pool_arn, "dr_edge.user_pool_arn"),
        data_key_arn=keys.data_key_arn, logs_key_arn=keys.logs_key_arn, alerts_topic_arn=dr_events.alerts_topic_arn,
        warnings_topic_arn=required(dr_events.warnings_topic_arn, "dr_events.warnings_topic_arn")))
    # The DR region's silent failures (Backup copy/restore jobs, GuardDuty findings) to its own alerts topic.
    silent_failure_rules(failover_tier, dp, dr_events.alerts_topic_arn)
    # ... and the replication alarms whose metrics live in the DR region (both directions; components/dr.py).
    replication_alarms(failover_tier, dp, rules=dr.replication_rules, tables=dr.replicated_tables,
                       other_region=primary_region, topic=dr_events.alerts_topic_arn)
    return DrRegionOutputs(network=dr_net, application=dr_app, edge=dr_edge, database=db, events=dr_events,
                           health_check_ids=list(failover.health_check_ids), manifest=failover.manifest)
