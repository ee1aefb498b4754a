"""Application tier: the Gen-AI services on ECS Fargate behind one internet-facing ALB, plus EKS and
AWS Batch when the stack enables them.

Traffic path: internet -> ALB (network tier's load-balancer group, public subnets) -> one path-based
listener rule per service -> target group (ip) -> Fargate tasks in private subnets with the network
tier's application group, which alone reaches the data group.

Everything is plain pulumi-aws rather than awsx.lb.ApplicationLoadBalancer / awsx.ecs.FargateService:
awsx components are remote, so their children (listeners, target groups, services, a default
security group and a default HTTP:80 forward listener) are invisible to the tests and the offline plan
but real to the policy pack in a real preview. Declaring each resource keeps what the tests assert,
what the pack checks and what AWS gets identical.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from .batch import batch_environment
from .config.application import ApplicationSettings
from .config.schema import ConfigError
from .context import Platform, publish
from .ecs_services import EcsService, ServiceWiring, fargate_service
from .eks import eks_cluster

PATH = "ai-platform:application"


@dataclasses.dataclass(frozen=True)
class ApplicationTierArgs:
    platform: Platform
    settings: ApplicationSettings
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[Sequence[str]]
    private_subnet_ids: pulumi.Input[Sequence[str]]
    lb_sg_id: pulumi.Input[str]
    app_sg_id: pulumi.Input[str]
    ecs_execution_role_arn: pulumi.Input[str]
    ecs_task_role_arn: pulumi.Input[str]
    ecs_task_role_name: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]
    # The alias EKS's role names the envelope key by (kms:ResourceAliases: known in a preview).
    data_key_alias: str
    secret_arns: Mapping[str, pulumi.Input[str]]
    # Service name -> ECR repository URL (ML tier): every catalogue service has one.
    repository_urls: Mapping[str, pulumi.Input[str]]
    # The data tier's access-log bucket (SSE-S3, ELB log delivery allowed). None: no access logs, and
    # the policy alb-access-logs reports it.
    log_bucket_name: Optional[pulumi.Input[str]] = None
    # Extra environment for every service (e.g. database and cache endpoints from the data tier).
    service_environment: Optional[Mapping[str, pulumi.Input[str]]] = None
    # Managed policies attached to the shared task role (e.g. the ML tier's Bedrock invoke policy).
    extra_task_policy_arns: Optional[Sequence[pulumi.Input[str]]] = None


@dataclasses.dataclass(frozen=True)
class ApplicationOutputs:
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    alb_arn: pulumi.Output[str]
    alb_arn_suffix: pulumi.Output[str]
    alb_dns_name: pulumi.Output[str]
    alb_zone_id: pulumi.Output[str]
    # What a client of the services calls: scheme (https only with a certificate) :// the name the
    # certificate covers (or the ALB's AWS name). The edge tier's integration uses it as is.
    backend_url: pulumi.Output[str]
    https_listener_arn: Optional[pulumi.Output[str]]
    http_listener_arn: pulumi.Output[str]
    target_group_arn_suffixes: Mapping[str, pulumi.Output[str]]
    service_names: Mapping[str, pulumi.Output[str]]
    eks_cluster_name: Optional[pulumi.Output[str]]
    batch_job_queue_arn: Optional[pulumi.Output[str]]


class ApplicationTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: ApplicationTierArgs, opts: Optional[pulumi.ResourceOptions] = None):
        p = args.platform
        super().__init__(p.tier_type("Application"), name, None, p.tier_options(opts))
        app = args.settings
        child = pulumi.ResourceOptions(parent=self)
        catalogue = app.catalogue()

        # --- ECS cluster -----------------------------------------------------------------------
        cluster = aws.ecs.Cluster(
            "cluster", name=p.namer.physical("ecs", "services"),
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value=app.container_insights)],
            tags=p.tags(p.namer.base("services")), opts=child)
        capacity_providers = aws.ecs.ClusterCapacityProviders(
            "capacity-providers", cluster_name=cluster.name, capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(capacity_provider=k, weight=w)
                for k, w in sorted(app.default_capacity_strategy.items())],
            opts=child)

        # --- load balancer -----------------------------------------------------------------------
        alb_settings = app.alb
        access_logs = None
        if args.log_bucket_name is not None:
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(
                bucket=args.log_bucket_name, prefix=f"{alb_settings.access_log_prefix}/{p.stack}",
                enabled=True)
        alb = aws.lb.LoadBalancer(
            "alb", name=p.namer.physical("alb", "app"), load_balancer_type="application", internal=False,
            subnets=args.public_subnet_ids, security_groups=[args.lb_sg_id],
            drop_invalid_header_fields=True, desync_mitigation_mode="defensive",
            enable_deletion_protection=p.protect, idle_timeout=alb_settings.idle_timeout, enable_http2=True,
            access_logs=access_logs, tags=p.tags(p.namer.base("alb")), opts=child)

        not_found = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response", fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                content_type="application/json", message_body='{"error":"not found"}', status_code="404"))
        https_listener: Optional[aws.lb.Listener] = None
        if alb_settings.certificate_arn:
            https_listener = aws.lb.Listener(
                "https", load_balancer_arn=alb.arn, port=443, protocol="HTTPS",
                certificate_arn=alb_settings.certificate_arn, ssl_policy=alb_settings.ssl_policy,
                default_actions=[not_found], tags=p.tags(p.namer.base("alb-https")), opts=child)
            http_action = aws.lb.ListenerDefaultActionArgs(
                type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port="443", status_code="HTTP_301"))
        else:
            http_action = not_found
        http_listener = aws.lb.Listener(
            "http", load_balancer_arn=alb.arn, port=80, protocol="HTTP", default_actions=[http_action],
            tags=p.tags(p.namer.base("alb-http")), opts=child)
        rules_listener = https_listener or http_listener

        # --- services ----------------------------------------------------------------------------
        if args.extra_task_policy_arns:
            for i, arn in enumerate(args.extra_task_policy_arns):
                aws.iam.RolePolicyAttachment(f"task-extra-policy-{i}", role=args.ecs_task_role_name,
                                             policy_arn=arn, opts=child)
        services: dict[str, EcsService] = {}
        for svc in catalogue:
            wiring = ServiceWiring(
                cluster_arn=cluster.arn, cluster_name=cluster.name, listener_arn=rules_listener.arn,
                vpc_id=args.vpc_id, subnet_ids=args.private_subnet_ids, security_group_id=args.app_sg_id,
                execution_role_arn=args.ecs_execution_role_arn, task_role_arn=args.ecs_task_role_arn,
                logs_key_arn=args.logs_key_arn, secret_arns=args.secret_arns,
                image=self._image(svc, app, args), environment=dict(args.service_environment or {}))
            services[svc.name] = fargate_service(self, p, app, svc, wiring, depends_on=[capacity_providers])

        # --- EKS and Batch (off in dev by default) ------------------------------------------------
        eks = None
        if app.eks.enabled:
            eks = eks_cluster(self, p, app.eks, subnet_ids=args.private_subnet_ids, secrets_key_arn=args.data_key_arn,
                              secrets_key_alias=args.data_key_alias, logs_key_arn=args.logs_key_arn)
        batch = None
        if app.batch.enabled:
            batch = batch_environment(self, p, app.batch, subnet_ids=args.private_subnet_ids,
                                      security_group_id=args.app_sg_id, job_role_arn=args.ecs_task_role_arn,
                                      logs_key_arn=args.logs_key_arn)

        # --- outputs -------------------------------------------------------------------------------
        # The name clients that verify TLS (API Gateway's HTTP proxy) must call: the one the certificate
        # covers. Without a certificate the ALB serves HTTP only and its AWS name is the origin.
        origin_name = alb.dns_name
        if alb_settings.domain_name:
            origin_name = pulumi.Output.from_input(alb_settings.domain_name)
            if alb_settings.hosted_zone_id:
                record = aws.route53.Record(
                    "alb-alias", zone_id=alb_settings.hosted_zone_id, name=alb_settings.domain_name, type="A",
                    aliases=[aws.route53.RecordAliasArgs(name=alb.dns_name, zone_id=alb.zone_id,
                                                         evaluate_target_health=True)], opts=child)
                origin_name = pulumi.Output.all(alb_settings.domain_name, record.urn).apply(lambda v: v[0])
        scheme = "https" if https_listener is not None else "http"
        self.outputs = ApplicationOutputs(
            cluster_name=cluster.name, cluster_arn=cluster.arn, alb_arn=alb.arn, alb_arn_suffix=alb.arn_suffix,
            alb_dns_name=alb.dns_name, alb_zone_id=alb.zone_id,
            backend_url=pulumi.Output.concat(scheme, "://", origin_name),
            https_listener_arn=https_listener.arn if https_listener else None, http_listener_arn=http_listener.arn,
            target_group_arn_suffixes={k: s.target_group.arn_suffix for k, s in services.items()},
            service_names={k: s.service.name for k, s in services.items()},
            eks_cluster_name=eks.cluster.name if eks else None,
            batch_job_queue_arn=batch.job_queue.arn if batch else None)
        publish(self, self.outputs)

    @staticmethod
    def _image(svc, app: ApplicationSettings, args: ApplicationTierArgs) -> pulumi.Input[str]:
        """The configured image, else the ML tier's repository of the service at the configured tag."""
        s = svc.settings
        if s.image:
            return s.image
        if svc.name not in args.repository_urls:
            raise ConfigError(f"{PATH}.services.{svc.name}.image", None,
                              "an image URI: the service has no ECR repository in the ML tier")
        return pulumi.Output.concat(args.repository_urls[svc.name], ":", s.image_tag or app.image_tag)
