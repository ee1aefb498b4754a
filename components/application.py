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
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from .batch import batch_environment
from .config.application import ApplicationSettings, ResolvedService, route_path
from .config.schema import ConfigError
from .context import Platform, policy_json, publish
from .ecs_services import XRAY_STATEMENT, EcsService, ServiceWiring, fargate_service
from .eks import eks_cluster
from .recipes.roles import MANAGED, service_role
from .service_access import (
    ServiceDependencies,
    database_statements,
    environment,
    execution_statements,
    secrets,
    task_statements,
    uses_statements,
)

PATH = "ai-platform:application"


@dataclasses.dataclass(frozen=True)
class ApplicationTierArgs:
    platform: Platform
    settings: ApplicationSettings
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[str]]
    lb_sg_id: pulumi.Input[str]
    app_sg_id: pulumi.Input[str]
    # Batch container instances' own group (HTTPS out only): not the application group, which reaches the data ports.
    batch_sg_id: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]
    # The alias EKS's role names the envelope key by (kms:ResourceAliases: known in a preview).
    data_key_alias: str
    # Service name -> ECR repository URL (ML tier): every catalogue service has one.
    repository_urls: Mapping[str, pulumi.Input[str]]
    # What the services' contracts may name: the other tiers' ARNs, endpoints and secrets.
    dependencies: ServiceDependencies
    # The data tier's access-log bucket (SSE-S3, ELB log delivery allowed). None: no access logs, and
    # the policy alb-access-logs reports it.
    log_bucket_name: pulumi.Input[str] | None = None
    # The off-hours scheduler's tag key when it runs in this stack (ML tier); None: no service is tagged.
    off_hours_tag: str | None = None
    # Services the delivery tier's pipelines deploy: they own the running task-definition revision.
    delivered_services: Sequence[str] = ()


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
    task_role_arns: Mapping[str, pulumi.Output[str]]        # each service's own
    execution_role_arns: Mapping[str, pulumi.Output[str]]
    https_listener_arn: pulumi.Output[str] | None
    http_listener_arn: pulumi.Output[str]
    target_group_arn_suffixes: Mapping[str, pulumi.Output[str]]
    service_names: Mapping[str, pulumi.Output[str]]
    eks_cluster_name: pulumi.Output[str] | None
    batch_job_queue_arn: pulumi.Output[str] | None
    # Task-definition family per service (the delivery tier's pipelines register revisions in it).
    task_families: Mapping[str, pulumi.Output[str]] = dataclasses.field(default_factory=dict)
    # Each service's (task role, execution role) Name tags: its pipeline may pass exactly these two roles
    # (by tag: the roles' ARNs are unknown in a preview).
    role_name_tags: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    # Delivered services: the SSM parameter holding the last release's image (the pipeline writes it after a
    # successful deploy; the task definition reads it: docs/delivery.md, "Day two").
    release_parameters: Mapping[str, pulumi.Output[str]] = dataclasses.field(default_factory=dict)
    # How the API serves each service with a route of its own (streamed, longer timeout, prompts): plain data,
    # service -> {path, response, timeoutMs, binaryMediaTypes, prompts, maxBodyKb} (routes()).
    routes: Mapping[str, dict] = dataclasses.field(default_factory=dict)
    # Every service's binary media types (the API's binaryMediaTypes are their union).
    binary_media_types: Sequence[str] = ()
    # Data-tier buckets the SPA uploads into directly (some service's `uploads`): CORS and CSP at the edge.
    upload_buckets: Sequence[str] = ()
    # service -> whether it is parked (0 tasks until its first image): observability silences its
    # zero-healthy-hosts alarm meanwhile.
    service_parked: Mapping[str, pulumi.Output[bool]] = dataclasses.field(default_factory=dict)
    # Each service's counts once unparked ({"desired", "min", "max"}): what its pipeline's unpark action restores.
    service_counts: Mapping[str, dict] = dataclasses.field(default_factory=dict)


KEEPALIVE_MARGIN_SECONDS = 5


def route_environment(svc: ResolvedService, app: ApplicationSettings) -> dict[str, str]:
    """What the container needs to serve its route: how long a request may take, whether to stream, and a
    keep-alive above the load balancer's idle timeout (ALB: a target that closes an idle connection first turns
    the next request on it into a 502)."""
    r = svc.settings.route
    return {"REQUEST_TIMEOUT_SECONDS": str(r.timeout_seconds), "RESPONSE_MODE": r.response,
            "KEEPALIVE_TIMEOUT_SECONDS": str(app.alb_idle_timeout() + KEEPALIVE_MARGIN_SECONDS)}


def routes(catalogue: Sequence[ResolvedService]) -> dict[str, dict]:
    """The services the API serves on a route of their own: anything but a buffered 29 s text route."""
    out = {}
    for svc in catalogue:
        r = svc.settings.route
        if r.response == "BUFFERED" and r.timeout_seconds == 29 and not r.prompts:
            continue
        out[svc.name] = {"path": route_path(svc), "response": r.response, "timeoutMs": r.timeout_seconds * 1000,
                         "binaryMediaTypes": list(r.binary_media_types), "prompts": r.prompts,
                         "maxBodyKb": r.max_body_kb}
    return out


class ApplicationTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: ApplicationTierArgs, opts: pulumi.ResourceOptions | None = None):
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
        # Internal: the only way in is the API (private integration over a VPC link; the load balancer's
        # group admits only the VPC link's group), so nobody skips the authorizer, WAF and throttling.
        alb = aws.lb.LoadBalancer(
            "alb", name=p.namer.physical("alb", "app"), load_balancer_type="application", internal=True,
            subnets=args.private_subnet_ids, security_groups=[args.lb_sg_id],
            drop_invalid_header_fields=True, desync_mitigation_mode="defensive",
            enable_deletion_protection=p.protect, idle_timeout=app.alb_idle_timeout(), enable_http2=True,
            access_logs=access_logs, tags=p.tags(p.namer.base("alb")), opts=child)

        not_found = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response", fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                content_type="application/json", message_body='{"error":"not found"}', status_code="404"))
        https_listener: aws.lb.Listener | None = None
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
        services: dict[str, EcsService] = {}
        task_roles, execution_roles, role_name_tags = {}, {}, {}
        deps = args.dependencies
        for svc in catalogue:
            # Each service its own roles: the task role holds exactly its contract's grants; the execution
            # role pulls the image, writes the logs and reads exactly the secrets injected into it.
            grants, db = task_statements(svc, deps), database_statements(svc, deps)
            if app.tracing:   # the X-Ray daemon beside the container runs as the task role
                grants = [*grants, XRAY_STATEMENT]
            inline = {f"{svc.name}-task-policy": policy_json(*grants)} if grants else {}
            if db:   # its own policy: the instance's resource id is AWS-computed (unknown in a preview)
                inline[f"{svc.name}-task-db"] = policy_json(*db)
            task = service_role(
                self, p, f"{svc.name}-task", service="ecs-tasks.amazonaws.com",
                description=f"Containers of {svc.name}: its contract's grants only",
                tag_name=p.namer.base(svc.name, "task"), tags=p.tags(p.namer.base(svc.name, "task"), Service=svc.name),
                inline=inline or None)
            reads = execution_statements(svc, deps)
            execution = service_role(
                self, p, f"{svc.name}-execution", service="ecs-tasks.amazonaws.com",
                description=f"ECS agent for {svc.name}: pull its image, write its logs, read its secrets",
                tag_name=p.namer.base(svc.name, "execution"),
                tags=p.tags(p.namer.base(svc.name, "execution"), Service=svc.name),
                managed={f"{svc.name}-execution-managed": MANAGED + "service-role/AmazonECSTaskExecutionRolePolicy"},
                inline={f"{svc.name}-execution-secrets": policy_json(*reads)} if reads else None)
            task_roles[svc.name], execution_roles[svc.name] = task.role.arn, execution.role.arn
            wiring = ServiceWiring(
                cluster_arn=cluster.arn, cluster_name=cluster.name, listener_arn=rules_listener.arn,
                vpc_id=args.vpc_id, subnet_ids=args.private_subnet_ids, security_group_id=args.app_sg_id,
                execution_role_arn=execution.role.arn, task_role_arn=task.role.arn,
                logs_key_arn=args.logs_key_arn, secrets=secrets(svc, deps), image=self._image(svc, app, args),
                environment={**environment(svc, deps), **route_environment(svc, app)},
                off_hours_tag=args.off_hours_tag,
                queue_names=[pulumi.Output.from_input(deps.queue_arns[q]).apply(lambda a: a.split(":")[-1])
                             for q in svc.settings.uses.queues],
                alb_arn_suffix=alb.arn_suffix, delivered=svc.name in args.delivered_services,
                repository_url=None if svc.settings.image else args.repository_urls[svc.name],
                image_tag=svc.settings.image_tag or app.image_tag, tracing=app.tracing)
            role_name_tags[svc.name] = (p.namer.base(svc.name, "task"), p.namer.base(svc.name, "execution"))
            services[svc.name] = fargate_service(
                self, p, app, svc, wiring, depends_on=[capacity_providers, *execution.grants, *task.grants])

        # --- EKS and Batch (off in dev by default) ------------------------------------------------
        eks = None
        if app.eks.enabled:
            eks = eks_cluster(self, p, app.eks, subnet_ids=args.private_subnet_ids, secrets_key_arn=args.data_key_arn,
                              secrets_key_alias=args.data_key_alias, logs_key_arn=args.logs_key_arn)
        batch = None
        if app.batch.enabled:
            # The jobs' role derived like a service's task role: the batch.uses contract -> exact grants (the
            # security tier's generic task role had none: any job touching S3 got AccessDenied).
            job_grants = uses_statements(app.batch.uses, deps)
            job_role = service_role(
                self, p, "batch-job-role", service="ecs-tasks.amazonaws.com",
                description="Batch jobs: the batch.uses contract's grants only",
                tag_name=p.namer.base("batch", "job"), tags=p.tags(p.namer.base("batch", "job"), Service="batch"),
                inline={"batch-job-policy": policy_json(*job_grants)} if job_grants else None)
            batch = batch_environment(self, p, app.batch, subnet_ids=args.private_subnet_ids,
                                      security_group_id=args.batch_sg_id, job_role_arn=job_role.role.arn,
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
            task_role_arns=task_roles, execution_role_arns=execution_roles,
            https_listener_arn=https_listener.arn if https_listener else None, http_listener_arn=http_listener.arn,
            # blue/green services' second groups too (key "<service>-alt"): traffic moves there on a release.
            target_group_arn_suffixes={
                **{k: s.target_group.arn_suffix for k, s in services.items()},
                **{f"{k}-alt": s.alternate_target_group.arn_suffix for k, s in services.items()
                   if s.alternate_target_group is not None}},
            service_names={k: s.service.name for k, s in services.items()},
            task_families={k: s.task_definition.family for k, s in services.items()},
            role_name_tags=role_name_tags, routes=routes(catalogue),
            release_parameters={k: s.release_parameter.name for k, s in services.items()
                                if s.release_parameter is not None},
            binary_media_types=sorted({t for svc in catalogue for t in svc.settings.route.binary_media_types}),
            upload_buckets=sorted({b for svc in catalogue for b in svc.settings.uses.uploads}),
            service_parked={k: s.parked for k, s in services.items() if s.parked is not None},
            service_counts={k: s.counts for k, s in services.items()},
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
