"""The wiring: every tier, in data-flow order, each given its own settings section and the outputs it needs
from the tiers before it. `__main__.py`, the tests and another region's build all call `build`.

Order: keys and roles, the network, the data stores, the event backbone (its alerts topic is where every
alarm goes), ML (ECR repositories the services run from), the services, the front door, then the tiers that
watch, govern and back up everything above.
"""
from __future__ import annotations

import dataclasses

import pulumi

from .application import ApplicationOutputs, ApplicationTier, ApplicationTierArgs
from .catalog import DEFAULT_SERVICES
from .config import Settings
from .context import Platform
from .data import DataOutputs, DataTier, DataTierArgs
from .delivery import DeliveredService, DeliveryOutputs, DeliveryTier, DeliveryTierArgs
from .dr import DrOutputs, DrTier, DrTierArgs
from .edge import EdgeOutputs, EdgeTier, EdgeTierArgs
from .events import EventsOutputs, EventsTier, EventsTierArgs
from .governance import GovernanceOutputs, GovernanceTier, GovernanceTierArgs
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


def platform_for(settings: Settings, provider: pulumi.ProviderResource | None = None,
                 region: str | None = None) -> Platform:
    """What every tier shares. With another region's `provider`, pass that `region` too."""
    return Platform.create(
        project=settings.project, stack=settings.stack, region=region or settings.region, settings=settings.platform,
        provider=provider, key_deletion_window_days=settings.security.kms_deletion_window_days,
        secret_recovery_window_days=settings.security.secret_recovery_window_days,
        account_baseline=settings.observability.account_baseline)


def build(settings: Settings, provider: pulumi.ProviderResource | None = None, *,
          region: str | None = None) -> PlatformOutputs:
    p = platform_for(settings, provider, region)
    delivered = settings.delivery.delivered([s.name for s in settings.application.catalogue()])

    security = SecurityTier("security", SecurityTierArgs(platform=p, settings=settings.security)).outputs
    network = NetworkTier("network", NetworkTierArgs(
        platform=p, settings=settings.network, logs_key_arn=security.logs_key_arn)).outputs

    data = DataTier("data", DataTierArgs(
        platform=p, settings=settings.data, vpc_id=network.vpc_id, isolated_subnet_ids=network.isolated_subnet_ids,
        data_sg_id=network.data_security_group_id, data_key_arn=security.data_key_arn,
        logs_key_arn=security.logs_key_arn, secrets_key_arn=security.secrets_key_arn)).outputs

    events = EventsTier("events", EventsTierArgs(
        platform=p, settings=settings.events, data_key_arn=security.data_key_arn)).outputs

    ml = MlTier("ml", MlTierArgs(
        platform=p, settings=settings.ml,
        # Every catalogue service keeps a repository even when disabled (images outlive a paused service; prod's
        # repositories are protected), plus the services the application config adds.
        service_names=list(dict.fromkeys([*DEFAULT_SERVICES, *(s.name for s in settings.application.catalogue())])),
        data_key_arn=security.data_key_arn, logs_key_arn=security.logs_key_arn,
        sagemaker_role_arn=security.sagemaker_role_arn, sagemaker_role_name=security.sagemaker_role_name,
        data_key_alias=security.key_aliases["data"], sagemaker_role_name_tag=security.sagemaker_role_name_tag,
        private_subnet_ids=network.private_subnet_ids, ml_sg_id=network.ml_security_group_id,
        artifacts_bucket_name=data.bucket_names["ml-artifacts"], artifacts_bucket_arn=data.bucket_arns["ml-artifacts"],
        data_bucket_name=data.bucket_names["data-lake"], data_bucket_arn=data.bucket_arns["data-lake"],
        alarm_topic_arn=events.alerts_topic_arn)).outputs

    dependencies = ServiceDependencies(
        region=p.region, account_id=p.account_id, secret_arns=security.secret_arns,
        secret_arn_patterns=security.secret_arn_patterns, bucket_arns=data.bucket_arns, table_arns=data.table_iam_arns, queue_arns=events.queue_arns, event_bus_arn=events.event_bus_arn,
        event_sources=events.event_sources, db_resource_id=data.db_resource_id, db_address=data.db_address,
        db_reader_address=data.db_replica_address, db_port=data.db_port.apply(str), db_name=data.db_name,
        redis_endpoint=data.redis_endpoint, redis_port=data.redis_port.apply(str),
        redis_auth_secret_arn=data.redis_auth_secret_arn,
        redis_auth_secret_arn_pattern=data.redis_auth_secret_arn_pattern)
    application = ApplicationTier("application", ApplicationTierArgs(
        platform=p, settings=settings.application, vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids, lb_sg_id=network.lb_security_group_id,
        app_sg_id=network.app_security_group_id, batch_job_role_arn=security.ecs_task_role_arn,
        logs_key_arn=security.logs_key_arn, data_key_arn=security.data_key_arn,
        data_key_alias=security.key_aliases["data"], repository_urls=ml.repository_urls,
        dependencies=dependencies, log_bucket_name=data.log_bucket_name,
        off_hours_tag=settings.ml.off_hours.tag_key if settings.ml.off_hours.enabled else None,
        delivered_services=delivered,
    )).outputs

    delivery = None
    if settings.delivery.enabled:
        delivery = DeliveryTier("delivery", DeliveryTierArgs(
            platform=p, settings=settings.delivery, cluster_name=application.cluster_name,
            alerts_topic_arn=events.alerts_topic_arn, data_key_arn=security.data_key_arn,
            data_key_alias=security.key_aliases["data"], logs_key_arn=security.logs_key_arn,
            access_log_bucket_name=data.log_bucket_name,
            services={svc: DeliveredService(
                repository_arn=ml.repository_arns[svc], repository_url=ml.repository_urls[svc],
                ecs_service_name=application.service_names[svc], task_family=application.task_families[svc],
                pass_role_name_tags=application.role_name_tags[svc])
                for svc in delivered})).outputs

    edge = EdgeTier("edge", EdgeTierArgs(
        platform=p, settings=settings.edge, logs_key_arn=security.logs_key_arn, backend_url=application.backend_url,
        alb_arn=application.alb_arn, vpc_link_subnet_ids=network.private_subnet_ids,
        vpc_link_security_group_id=network.vpc_link_security_group_id,
        log_bucket_name=data.log_bucket_name, log_bucket_arn=data.log_bucket_arn)).outputs

    observability = ObservabilityTier("observability", ObservabilityTierArgs(
        platform=p, settings=settings.observability, alerts_topic_arn=events.alerts_topic_arn,
        ecs_cluster_name=application.cluster_name, ecs_service_names=application.service_names,
        alb_arn_suffix=application.alb_arn_suffix, target_group_arn_suffixes=application.target_group_arn_suffixes,
        db_instance_identifiers={"primary": data.db_instance_identifier, "replica": data.db_replica_identifier},
        docdb_cluster_identifier=data.docdb_cluster_identifier,
        redis_replication_group_id=data.redis_replication_group_id, redis_node_count=data.redis_node_count,
        dlq_arns=events.dlq_arns, dlq_names=ml.dlq_names, function_names=ml.function_names,
        external_alarm_arns=[ml.training_failed_alarm_arn])).outputs
    governance = GovernanceTier("governance", GovernanceTierArgs(
        platform=p, settings=settings.observability, logs_key_arn=security.logs_key_arn,
        alerts_topic_arn=events.alerts_topic_arn, access_log_bucket_name=data.log_bucket_name)).outputs

    dr = DrTier("dr", DrTierArgs(
        platform=p, settings=settings.dr, bucket_ids=data.bucket_ids, bucket_arns=data.bucket_arns,
        bucket_versioning_ids=data.bucket_versioning_ids, db_instance_arn=data.db_instance_arn,
        table_arns=data.table_arns, docdb_cluster_arn=data.docdb_cluster_arn)).outputs

    return PlatformOutputs(security=security, network=network, data=data, events=events, ml=ml,
                           application=application, edge=edge, observability=observability, governance=governance,
                           dr=dr, delivery=delivery)
