"""ai-platform: one ComponentResource per tier, wired by their outputs. No resource logic here.

Order follows the data flow: keys and roles, the network, the data stores, the event backbone (its alerts
topic is where every alarm goes), ML (ECR repositories the services run from), the services, the front
door, then the tiers that watch, govern and back up everything above.
"""
import pulumi

from components.application import ApplicationTier, ApplicationTierArgs
from components.catalog import DEFAULT_SERVICES
from components.config import load_settings
from components.context import Platform
from components.data import DataTier, DataTierArgs
from components.delivery import DeliveredService, DeliveryTier, DeliveryTierArgs
from components.dr import DrTier, DrTierArgs
from components.edge import EdgeTier, EdgeTierArgs
from components.events import EventsTier, EventsTierArgs
from components.governance import GovernanceTier, GovernanceTierArgs
from components.ml import MlTier, MlTierArgs
from components.network import NetworkTier, NetworkTierArgs
from components.observability import ObservabilityTier, ObservabilityTierArgs
from components.security import SecurityTier, SecurityTierArgs

settings = load_settings()
platform = Platform.from_settings(settings)
enabled_services = [svc.name for svc in settings.application.catalogue()]
settings.delivery.check_against("ai-platform:delivery", enabled_services, settings.application.cpu_architecture,
                                settings.application.longest_release_minutes())
delivered = settings.delivery.delivered(enabled_services)

security = SecurityTier("security", SecurityTierArgs(platform=platform))
network = NetworkTier("network", NetworkTierArgs(platform=platform, logs_key_arn=security.logs_key_arn))

data = DataTier("data", DataTierArgs(
    platform=platform, vpc_id=network.vpc_id, isolated_subnet_ids=network.isolated_subnet_ids,
    data_sg_id=network.data_sg.id, data_key_arn=security.data_key_arn, logs_key_arn=security.logs_key_arn,
    secrets_key_arn=security.secrets_key_arn))

events = EventsTier("events", EventsTierArgs(platform=platform, data_key_arn=security.data_key_arn))

ml = MlTier("ml", MlTierArgs(
    platform=platform,
    # Every catalogue service keeps a repository even when disabled (images outlive a paused service; prod's
    # repositories are protected), plus the services the application config adds.
    service_names=list(dict.fromkeys([*DEFAULT_SERVICES, *(svc.name for svc in settings.application.catalogue())])),
    data_key_arn=security.data_key_arn, logs_key_arn=security.logs_key_arn,
    sagemaker_role_arn=security.sagemaker_role.arn, sagemaker_role_name=security.sagemaker_role.name,
    private_subnet_ids=network.private_subnet_ids, app_sg_id=network.app_sg.id,
    artifacts_bucket_name=data.bucket_names["ml-artifacts"], artifacts_bucket_arn=data.bucket_arns["ml-artifacts"],
    data_bucket_name=data.bucket_names["data-lake"], data_bucket_arn=data.bucket_arns["data-lake"],
    alarm_topic_arn=events.alerts_topic_arn))

application = ApplicationTier("application", ApplicationTierArgs(
    platform=platform, vpc_id=network.vpc_id, public_subnet_ids=network.public_subnet_ids,
    private_subnet_ids=network.private_subnet_ids, lb_sg_id=network.lb_sg.id, app_sg_id=network.app_sg.id,
    ecs_execution_role_arn=security.ecs_execution_role.arn, ecs_task_role_arn=security.ecs_task_role.arn,
    ecs_task_role_name=security.ecs_task_role.name, logs_key_arn=security.logs_key_arn,
    data_key_arn=security.data_key_arn, secret_arns=security.secret_arns,
    log_bucket_name=data.log_bucket_name,
    repository_urls=ml.repository_urls,
    service_environment={"DB_HOST": data.db_address, "DB_PORT": data.db_port.apply(str),
                         "REDIS_HOST": data.redis_endpoint},
    extra_task_policy_arns=[ml.bedrock_invoke_policy_arn] if ml.bedrock_invoke_policy_arn is not None else None,
    delivered_services=delivered))

delivery = None
if settings.delivery.enabled:
    delivery = DeliveryTier("delivery", DeliveryTierArgs(
        platform=platform, settings=settings.delivery, cluster_name=application.cluster_name,
        alerts_topic_arn=events.alerts_topic_arn, data_key_arn=security.data_key_arn,
        logs_key_arn=security.logs_key_arn, access_log_bucket_name=data.log_bucket_name,
        services={svc: DeliveredService(
            repository_name=ml.repositories[svc].name, repository_arn=ml.repository_arns[svc],
            repository_url=ml.repository_urls[svc], ecs_service_name=application.service_names[svc],
            task_family=application.services[svc].task_definition.family,
            task_role_arn=security.ecs_task_role.arn, execution_role_arn=security.ecs_execution_role.arn)
            for svc in delivered}))

edge = EdgeTier("edge", EdgeTierArgs(
    platform=platform, data_key_arn=security.data_key_arn, logs_key_arn=security.logs_key_arn,
    alb_dns_name=application.alb_origin_name,
    log_bucket_name=data.log_bucket_name, log_bucket_arn=data.log_bucket_arn,
    log_bucket_domain_name=data.log_bucket_domain_name))

observability = ObservabilityTier("observability", ObservabilityTierArgs(
    platform=platform, alerts_topic_arn=events.alerts_topic_arn,
    ecs_cluster_name=application.cluster_name, ecs_service_names=application.service_names,
    alb_arn_suffix=application.alb_arn_suffix, target_group_arn_suffixes=application.target_group_arn_suffixes,
    db_instance_identifiers={"primary": data.db_instance_identifier, "replica": data.db_replica_identifier},
    docdb_cluster_identifier=data.docdb_cluster_identifier,
    redis_replication_group_id=data.redis_replication_group_id, redis_node_count=settings.data.redis_nodes,
    dlq_arns=events.dlq_arns, dlq_names=ml.dlq_names, function_names=ml.function_names,
    external_alarm_arns=[ml.training_failed_alarm.arn]))
governance = GovernanceTier("governance", GovernanceTierArgs(
    platform=platform, logs_key_arn=security.logs_key_arn, alerts_topic_arn=events.alerts_topic_arn,
    access_log_bucket_name=data.log_bucket_name))

dr = DrTier("dr", DrTierArgs(
    platform=platform,
    # bucket.id (not the name computed from the account id) so each replication config depends on its bucket
    bucket_names={k: b.id for k, b in data.buckets.items()}, bucket_arns=data.bucket_arns,
    bucket_versioning=data.bucket_versioning,
    db_instance_arn=data.db_instance_arn, table_arns=data.table_arns,
    docdb_cluster_arn=data.docdb_cluster_arn))

# Stack outputs: identifiers other stacks and operators need. Never a secret value.
pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("dataKeyArn", security.data_key_arn)
pulumi.export("secretArns", security.secret_arns)
pulumi.export("albDnsName", application.alb_dns_name)
pulumi.export("ecsClusterName", application.cluster_name)
pulumi.export("siteUrl", edge.distribution_domain_name.apply(lambda d: f"https://{d}"))
pulumi.export("apiEndpoint", edge.api_endpoint)
pulumi.export("userPoolId", edge.user_pool_id)
pulumi.export("userPoolClientId", edge.user_pool_client_id)
pulumi.export("eventBusName", events.event_bus_name)
pulumi.export("alertsTopicArn", events.alerts_topic_arn)
pulumi.export("ecrRepositoryUrls", ml.repository_urls)
pulumi.export("mlFunctionNames", ml.function_names)
pulumi.export("bedrockInvokePolicyArn", ml.bedrock_invoke_policy_arn)
pulumi.export("datasetUploaderPolicyArn", ml.uploader_policy_arn)
pulumi.export("budgetName", governance.budget.name)
pulumi.export("backupVaultName", dr.vault.name if dr.vault else None)
pulumi.export("pipelineNames", delivery.outputs.pipeline_names if delivery else None)
pulumi.export("gitConnectionArn", delivery.outputs.connection_arn if delivery else None)
pulumi.export("pipelineArtifactsBucket", delivery.outputs.artifacts_bucket_name if delivery else None)
