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
from .config.schema import ConfigError
from .context import Platform
from .ecs_services import EcsService, ServiceWiring, fargate_service
from .eks import eks_cluster

PATH = "ai-platform:application"


@dataclasses.dataclass(frozen=True)
class ApplicationTierArgs:
    platform: Platform
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
    secret_arns: Mapping[str, pulumi.Input[str]]
    # The data tier's access-log bucket (SSE-S3, ELB log delivery allowed). None: no access logs, and
    # the policy alb-access-logs reports it.
    log_bucket_name: Optional[pulumi.Input[str]] = None
    # Service name -> ECR repository URL (ML tier). Absent: the image from config / naming convention.
    repository_urls: Optional[Mapping[str, pulumi.Input[str]]] = None
    # Extra environment for every service (e.g. database and cache endpoints from the data tier).
    service_environment: Optional[Mapping[str, pulumi.Input[str]]] = None
    # Managed policies attached to the shared task role (e.g. the ML tier's Bedrock invoke policy).
    extra_task_policy_arns: Optional[Sequence[pulumi.Input[str]]] = None
    # Services the delivery tier's pipelines deploy (they own the running task definition revision).
    delivered_services: Sequence[str] = ()


class ApplicationTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: ApplicationTierArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("ai-platform:tier:Application", name, None, opts)
        p = args.platform
        app = p.settings.application
        child = pulumi.ResourceOptions(parent=self)
        catalogue = app.catalogue()
        self._check_catalogue(p, catalogue, args)

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
                bucket=args.log_bucket_name, prefix=f"{alb_settings.access_log_prefix}/{p.settings.stack}",
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
        self.https_listener: Optional[aws.lb.Listener] = None
        if alb_settings.certificate_arn:
            self.https_listener = aws.lb.Listener(
                "https", load_balancer_arn=alb.arn, port=443, protocol="HTTPS",
                certificate_arn=alb_settings.certificate_arn, ssl_policy=alb_settings.ssl_policy,
                default_actions=[not_found], tags=p.tags(p.namer.base("alb-https")), opts=child)
            http_action = aws.lb.ListenerDefaultActionArgs(
                type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port="443", status_code="HTTP_301"))
        else:
            http_action = not_found
        self.http_listener = aws.lb.Listener(
            "http", load_balancer_arn=alb.arn, port=80, protocol="HTTP", default_actions=[http_action],
            tags=p.tags(p.namer.base("alb-http")), opts=child)
        rules_listener = self.https_listener or self.http_listener

        # --- services ----------------------------------------------------------------------------
        if args.extra_task_policy_arns:
            for i, arn in enumerate(args.extra_task_policy_arns):
                aws.iam.RolePolicyAttachment(f"task-extra-policy-{i}", role=args.ecs_task_role_name,
                                             policy_arn=arn, opts=child)
        account = p.account_id()
        self.services: dict[str, EcsService] = {}
        for svc in catalogue:
            wiring = ServiceWiring(
                cluster_arn=cluster.arn, cluster_name=cluster.name, listener_arn=rules_listener.arn,
                vpc_id=args.vpc_id, subnet_ids=args.private_subnet_ids, security_group_id=args.app_sg_id,
                execution_role_arn=args.ecs_execution_role_arn, task_role_arn=args.ecs_task_role_arn,
                logs_key_arn=args.logs_key_arn, secret_arns=args.secret_arns,
                image=self._image(p, svc, args, account), environment=dict(args.service_environment or {}),
                alb_arn_suffix=alb.arn_suffix, delivered=svc.name in args.delivered_services,
                repository_url=(args.repository_urls or {}).get(svc.name) if not svc.settings.image else None,
                image_tag=svc.settings.image_tag or app.image_tag)
            self.services[svc.name] = fargate_service(self, p, svc, wiring, depends_on=[capacity_providers])

        # --- EKS and Batch (off in dev by default) ------------------------------------------------
        self.eks = None
        if app.eks.enabled:
            self.eks = eks_cluster(self, p, subnet_ids=args.private_subnet_ids, secrets_key_arn=args.data_key_arn,
                                   logs_key_arn=args.logs_key_arn)
        self.batch = None
        if app.batch.enabled:
            self.batch = batch_environment(self, p, subnet_ids=args.private_subnet_ids,
                                           security_group_id=args.app_sg_id, job_role_arn=args.ecs_task_role_arn,
                                           logs_key_arn=args.logs_key_arn)

        # --- outputs -------------------------------------------------------------------------------
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.alb_arn = alb.arn
        self.alb_arn_suffix = alb.arn_suffix
        self.alb_dns_name = alb.dns_name
        self.alb_zone_id = alb.zone_id
        # The name clients that verify TLS (API Gateway's HTTP proxy) must call: the one the certificate
        # covers. Without a certificate the ALB serves HTTP only and its AWS name is the origin.
        self.alb_origin_name = alb.dns_name
        if alb_settings.domain_name:
            self.alb_origin_name = pulumi.Output.from_input(alb_settings.domain_name)
            if alb_settings.hosted_zone_id:
                record = aws.route53.Record(
                    "alb-alias", zone_id=alb_settings.hosted_zone_id, name=alb_settings.domain_name, type="A",
                    aliases=[aws.route53.RecordAliasArgs(name=alb.dns_name, zone_id=alb.zone_id,
                                                         evaluate_target_health=True)], opts=child)
                self.alb_origin_name = pulumi.Output.all(alb_settings.domain_name, record.urn).apply(lambda v: v[0])
        self.https_listener_arn = self.https_listener.arn if self.https_listener else None
        self.http_listener_arn = self.http_listener.arn
        self.target_group_arn_suffixes = {k: s.target_group.arn_suffix for k, s in self.services.items()}
        self.service_names = {k: s.service.name for k, s in self.services.items()}
        self.eks_cluster_name = self.eks.cluster.name if self.eks else None
        self.batch_job_queue_arn = self.batch.job_queue.arn if self.batch else None
        self.register_outputs({
            "clusterName": self.cluster_name, "clusterArn": self.cluster_arn, "albArn": self.alb_arn,
            "albArnSuffix": self.alb_arn_suffix, "albDnsName": self.alb_dns_name, "albZoneId": self.alb_zone_id,
            "albOriginName": self.alb_origin_name,
            "httpsListenerArn": self.https_listener_arn, "httpListenerArn": self.http_listener_arn,
            "targetGroupArnSuffixes": self.target_group_arn_suffixes, "serviceNames": self.service_names,
            "eksClusterName": self.eks_cluster_name, "batchJobQueueArn": self.batch_job_queue_arn})

    @staticmethod
    def _check_catalogue(p: Platform, catalogue, args: ApplicationTierArgs) -> None:
        """Cross-tier checks the settings parser cannot make: ports the security groups open, secrets
        the security tier creates."""
        n = p.settings.network
        for svc in catalogue:
            if not n.app_port_from <= svc.port <= n.app_port_to:
                raise ConfigError(f"{PATH}.services.{svc.name}.port", svc.port,
                                  f"a port from ai-platform:network.appPortFrom ({n.app_port_from}) to appPortTo "
                                  f"({n.app_port_to}): the application security group opens only those")
            for secret in svc.settings.secrets:
                if secret not in args.secret_arns:
                    raise ConfigError(f"{PATH}.services.{svc.name}.secrets", secret,
                                      f"one of the security tier's secrets ({', '.join(sorted(args.secret_arns))})")

    @staticmethod
    def _image(p: Platform, svc, args: ApplicationTierArgs, account: pulumi.Output[str]) -> pulumi.Input[str]:
        s = svc.settings
        if s.image:
            return s.image
        tag = s.image_tag or p.settings.application.image_tag
        if args.repository_urls and svc.name in args.repository_urls:
            return pulumi.Output.concat(args.repository_urls[svc.name], ":", tag)
        # The ML tier's repository naming convention, in this account and region.
        return account.apply(lambda acct: f"{acct}.dkr.ecr.{p.region}.amazonaws.com/"
                                          f"{p.namer.physical('ecr', svc.name)}:{tag}")
