"""One Fargate service of the catalogue: log group, task definition, target group, listener rule,
service and its target-tracking autoscaling.

Plain pulumi-aws, not awsx.ecs.FargateService: awsx is a remote component whose children (the real
aws.ecs.Service, task definition, log group) are invisible to unit tests and to the offline plan, and
it does not expose everything set here per container (read-only root, user, secrets by ARN) without
passing the same raw container definitions anyway.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from .config.application import ApplicationSettings, ResolvedService
from .context import Platform, required
from .naming import AUTONAME_SUFFIX
from .recipes.alarms import metric_alarm
from .recipes.log_groups import log_group as make_log_group
from .recipes.roles import MANAGED, service_role

TMP_VOLUME = "tmp"


@dataclasses.dataclass(frozen=True)
class ServiceWiring:
    """What every service shares: the cluster, the listener its rule attaches to, networking and roles."""
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    listener_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    security_group_id: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]       # the service's own: reads exactly `secrets`
    task_role_arn: pulumi.Input[str]            # the service's own: its contract's grants
    logs_key_arn: pulumi.Input[str]
    secrets: Mapping[str, pulumi.Input[str]]    # env var -> secret ARN
    image: pulumi.Input[str]
    environment: Mapping[str, pulumi.Input[str]]
    # The load balancer's ARN suffix: a dimension of the 5xx alarms that roll a staged release back.
    alb_arn_suffix: pulumi.Input[str] | None = None
    # The service's ECR repository when the image comes from it: a service whose image is not there yet is
    # created parked (0 tasks) instead of failing to pull (see parked()).
    repository_url: pulumi.Input[str] | None = None
    image_tag: str | None = None
    # True when the delivery tier's pipeline deploys the service: the pipeline then owns the running task
    # definition revision (its image is the released commit), so the stack must not roll it back.
    delivered: bool = False
    off_hours_tag: str | None = None         # tag key of the off-hours scheduler, when it runs
    queue_names: Sequence[pulumi.Input[str]] = ()   # the queues it consumes: it scales on their backlog per task
    tracing: bool = False                    # an X-Ray daemon beside the container (application.tracing)


@dataclasses.dataclass
class EcsService:
    service: aws.ecs.Service
    task_definition: aws.ecs.TaskDefinition
    target_group: aws.lb.TargetGroup
    listener_rule: aws.lb.ListenerRule
    log_group: aws.cloudwatch.LogGroup
    scaling_target: aws.appautoscaling.Target
    # blue_green, canary and linear only: the second target group, the header-matched test rule, the alarms
    # that roll the deployment back, and the role ECS uses to shift the listener rules.
    alternate_target_group: aws.lb.TargetGroup | None = None
    test_listener_rule: aws.lb.ListenerRule | None = None
    rollback_alarms: tuple = ()
    infrastructure_role: aws.iam.Role | None = None
    parked: pulumi.Output[bool] | None = None   # 0 tasks until its first image (parked())
    # The counts it runs at once unparked: {"desired", "min" (0 under the off-hours scheduler), "max"}; the
    # delivery tier's unpark action restores them after the first release (functions/unpark).
    counts: dict = dataclasses.field(default_factory=dict)
    release_parameter: aws.ssm.Parameter | None = None   # delivered services: the last release's image


def env_name(secret: str) -> str:
    return secret.upper().replace("-", "_")


def container_definition(p: Platform, svc: ResolvedService, w: ServiceWiring, log_group_name: str,
                         image: pulumi.Input[str] | None = None) -> dict:
    s = svc.settings
    environment = {"SERVICE_NAME": svc.name, "PORT": str(svc.port), "ENVIRONMENT": p.environment,
                   "AWS_REGION": p.region, "BASE_PATH": f"/{svc.name}", **dict(w.environment), **dict(s.environment)}
    if w.tracing:   # the X-Ray SDKs send segments here: the daemon beside the container (xray_daemon())
        environment.setdefault("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{XRAY_PORT}")
    health = list(s.health_check_command) if s.health_check_command else [
        "CMD-SHELL", f"curl -fsS http://localhost:{svc.port}{s.health_check_path} || exit 1"]
    return {
        "name": svc.name,
        "image": w.image if image is None else image,
        "essential": True,
        "portMappings": [{"containerPort": svc.port, "protocol": "tcp", "name": svc.name, "appProtocol": "http"}],
        "environment": [{"name": k, "value": environment[k]} for k in sorted(environment)],
        "secrets": [{"name": k, "valueFrom": w.secrets[k]} for k in sorted(w.secrets)],
        "readonlyRootFilesystem": s.read_only_root_filesystem,
        "user": s.user,
        # No "privileged" key: the parameter is not supported on Fargate (false is the default anyway).
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "mountPoints": [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp", "readOnly": False}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group_name, "awslogs-region": p.region, "awslogs-stream-prefix": svc.name,
            "mode": "non-blocking", "max-buffer-size": "25m"}},
        "healthCheck": {"command": health, "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60},
        "stopTimeout": 30,
    }


XRAY_PORT = 2000
# What the daemon needs (it has no resource-level permissions: "*" is the only valid Resource).
XRAY_STATEMENT = {"Sid": "Tracing", "Effect": "Allow", "Resource": "*",
                  "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                             "xray:GetSamplingTargets"]}


def xray_daemon(p: Platform, svc: ResolvedService, image: str, log_group_name: str) -> dict:
    """The X-Ray daemon beside a service's container (issue 30: traces stopped at API Gateway): UDP 2000 on the
    task's loopback, the task role's tracing grant, not essential (the service runs on if the daemon stops)."""
    return {
        "name": "xray-daemon", "image": image, "essential": False, "cpu": 32, "memoryReservation": 64,
        "portMappings": [{"containerPort": XRAY_PORT, "protocol": "udp"}],
        "readonlyRootFilesystem": True,
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group_name, "awslogs-region": p.region, "awslogs-stream-prefix": "xray",
            "mode": "non-blocking", "max-buffer-size": "4m"}},
    }


ECS_STRATEGY = {"blue_green": "BLUE_GREEN", "canary": "CANARY", "linear": "LINEAR"}
LB_INFRASTRUCTURE_POLICY = MANAGED + "AmazonECSInfrastructureRolePolicyForLoadBalancers"


def image_available(p: Platform, repository_url: pulumi.Input[str], tag: str | None) -> pulumi.Output[bool]:
    """Whether the repository holds the service's image: the tag itself, or (tag None: a pipeline-delivered
    service, whose running revision names a commit tag) any tagged image.

    Asked at every `pulumi up`. In the preview of a new stack the repository URL is unknown, so is the
    answer (nothing is decided on it); in the `up` the repository exists by the time the query runs."""
    url = pulumi.Output.from_input(repository_url)
    images = aws.ecr.get_images_output(registry_id=url.apply(lambda u: u.split(".", 1)[0]),
                                       repository_name=url.apply(lambda u: u.split("/", 1)[1]),
                                       opts=p.invoke_options())

    def found(ids) -> bool:
        tags = {getattr(i, "image_tag", None) for i in (ids or [])} - {None, ""}
        return bool(tags) if tag is None else tag in tags
    return images.image_ids.apply(found)


def parked(p: Platform, w: ServiceWiring) -> pulumi.Output[bool]:
    """A service is parked (desired count and autoscaling minimum 0) while its image does not exist yet: a
    fresh stack converges (no task fails to pull, no circuit breaker trips) and the next `pulumi up` after
    the first image is pushed (by the pipeline, or `python -m functions.images push`) unparks it."""
    if w.repository_url is None:
        return pulumi.Output.from_input(False)   # an explicit image reference: assumed to exist
    return image_available(p, w.repository_url, None if w.delivered else w.image_tag).apply(lambda ok: not ok)


def work_scaling(parent, p: Platform, app: ApplicationSettings, svc: ResolvedService, w: ServiceWiring,
                 target: aws.appautoscaling.Target, service: aws.ecs.Service, groups: Sequence) -> None:
    """Scaling on work, not CPU (a service blocked on Bedrock or holding streams is saturated at 5% CPU):
    requests per task per target group (a staged service's second group too: target tracking scales in only
    when every policy agrees, and the idle group's policy has no data), and each consumed queue's backlog per
    running task (metric math, "Scaling policy based on Amazon SQS", Application Auto Scaling User Guide)."""
    scaling = app.autoscaling
    child = pulumi.ResourceOptions(parent=parent)
    streamed = svc.settings.route.response == "STREAM"
    per_target = scaling.streamed_requests_per_target if streamed else scaling.requests_per_target

    def policy(key: str, config: dict) -> None:
        aws.appautoscaling.Policy(  # type: ignore[call-overload]  # the configuration in the SDK's dict form
            f"{svc.name}-{key}-scaling", name=p.namer.physical("scaling_policy", svc.name, key),
            policy_type="TargetTrackingScaling", service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                **config, "scale_in_cooldown": scaling.scale_in_cooldown,
                "scale_out_cooldown": scaling.scale_out_cooldown},
            opts=child)
    if w.alb_arn_suffix is not None:
        for i, group in enumerate(groups):
            policy("requests" + ("" if i == 0 else "-alt"), {
                "target_value": float(per_target),
                "predefined_metric_specification": {
                    "predefined_metric_type": "ALBRequestCountPerTarget",
                    "resource_label": pulumi.Output.concat(w.alb_arn_suffix, "/", group.arn_suffix)}})
    for i, queue in enumerate(w.queue_names):
        policy(f"queue{i}", {
            "target_value": float(scaling.queue_backlog_per_task),
            "customized_metric_specification": {"metrics": [
                {"id": "visible", "return_data": False, "metric_stat": {"stat": "Sum", "metric": {
                    "namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible",
                    "dimensions": [{"name": "QueueName", "value": queue}]}}},
                {"id": "tasks", "return_data": False, "metric_stat": {"stat": "Average", "metric": {
                    "namespace": "ECS/ContainerInsights", "metric_name": "RunningTaskCount",
                    "dimensions": [{"name": "ClusterName", "value": w.cluster_name},
                                   {"name": "ServiceName", "value": service.name}]}}},
                {"id": "backlog_per_task", "label": "visible messages per running task", "return_data": True,
                 "expression": "visible / IF(tasks > 0, tasks, 1)"}]}})


def capacity_strategy(app: ApplicationSettings, svc: ResolvedService) -> list:
    if not svc.settings.interruptible:
        return [aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE", weight=1)]
    strategy = [aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE_SPOT", weight=1)]
    if app.spot_on_demand_base:
        strategy.insert(0, aws.ecs.ServiceCapacityProviderStrategyArgs(
            capacity_provider="FARGATE", base=app.spot_on_demand_base, weight=0))
    return strategy


def fargate_service(parent: pulumi.Resource, p: Platform, app: ApplicationSettings, svc: ResolvedService,
                    w: ServiceWiring, depends_on: Sequence[pulumi.Resource] | None = None) -> EcsService:
    s = svc.settings
    child = pulumi.ResourceOptions(parent=parent)
    tags = p.tags(p.namer.base(svc.name), Service=svc.name)
    off_hours = bool(w.off_hours_tag and s.off_hours)
    # Stopped at night by the scheduler (desired 0): autoscaling must allow 0, or it would start tasks again.
    service_tags: dict[str, str] = {**tags, w.off_hours_tag: "true"} if off_hours and w.off_hours_tag else tags

    log_name = p.namer.log_group("ecs", svc.name)
    log_group = make_log_group(parent, p, f"{svc.name}-logs", log_name, kms_key_arn=w.logs_key_arn, tags=tags)

    # Day two (docs/delivery.md): the stack owns the task definition and the service runs the stack's revision,
    # so every setting (environment, secrets, roles, cpu/memory, logs) reaches the tasks on the next `pulumi up`.
    # A delivered service's image is the pipeline's: each successful release records it in this parameter (the
    # pipeline's RecordRelease action), `pulumi up` refreshes state first (Pulumi.yaml options.refresh: always)
    # and builds the revision with it, so an `up` never rolls a release back. The stack never writes the value
    # after creating it (its first value: the stack's own image reference, until the first release).
    release = None
    image: pulumi.Input[str] = w.image
    if w.delivered:
        release = aws.ssm.Parameter(
            f"{svc.name}-release", name=p.namer.physical("ssm_parameter", "release", svc.name), type="String",
            insecure_value=w.image, tags=tags,
            description=f"The image of {svc.name}'s last successful release (written by its pipeline)",
            opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["insecureValue", "value"]))
        image = release.insecure_value
    task_definition = aws.ecs.TaskDefinition(
        f"{svc.name}-task",
        family=p.namer.physical("ecs", svc.name),
        cpu=str(s.cpu), memory=str(s.memory),
        network_mode="awsvpc", requires_compatibilities=["FARGATE"],
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            cpu_architecture=app.cpu_architecture, operating_system_family="LINUX"),
        execution_role_arn=w.execution_role_arn, task_role_arn=w.task_role_arn,
        volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=TMP_VOLUME)],
        container_definitions=pulumi.Output.json_dumps(
            [container_definition(p, svc, w, log_name, image),
             *([xray_daemon(p, svc, app.xray_daemon_image, log_name)] if w.tracing else [])]),
        tags=tags, opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group]))

    # Auto-named (the name is immutable: a replacement must not collide with the old group), and the
    # logical name leaves room for the random suffix within the 32-character limit.
    def group(logical: str) -> aws.lb.TargetGroup:
        return aws.lb.TargetGroup(
            p.namer.fixed("target_group", logical, reserve=AUTONAME_SUFFIX),
            port=svc.port, protocol="HTTP", target_type="ip", vpc_id=w.vpc_id,
            # requests in flight on a replaced task get their route's whole timeout (a streamed answer is not cut
            # by a release); deregistration ends as soon as none is left.
            deregistration_delay=max(30, s.route.timeout_seconds),
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, path=s.health_check_path, protocol="HTTP", port="traffic-port", matcher="200-399",
                interval=15, timeout=5, healthy_threshold=2, unhealthy_threshold=3),
            tags=tags, opts=child)
    target_group = group(f"{svc.name}-tg")
    paths = aws.lb.ListenerRuleConditionArgs(
        path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(svc.path_patterns)))

    staged = svc.deployment != "rolling"
    alternate = test_rule = infra = None
    alarms: tuple = ()
    if not staged:
        listener_rule = aws.lb.ListenerRule(
            f"{svc.name}-rule", listener_arn=w.listener_arn, priority=svc.priority,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
            conditions=[paths], tags=tags, opts=child)
    else:
        # ECS-native blue/green (and canary/linear): the new revision registers in the alternate group, the
        # header-matched test rule reaches it first, then ECS reweights the production rule (100/0 -> 0/100)
        # and, after the bake time, stops the old revision. ECS owns both rules' weights from then on, hence
        # ignore_changes on their actions (else every `pulumi up` would shift traffic back).
        alternate = group(f"{svc.name}-tg-alt")

        def weighted(first: aws.lb.TargetGroup, second: aws.lb.TargetGroup) -> list:
            return [aws.lb.ListenerRuleActionArgs(type="forward", forward=aws.lb.ListenerRuleActionForwardArgs(
                target_groups=[aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=first.arn, weight=100),
                               aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=second.arn, weight=0)]))]
        owned_by_ecs = pulumi.ResourceOptions(parent=parent, ignore_changes=["actions"])
        listener_rule = aws.lb.ListenerRule(
            f"{svc.name}-rule", listener_arn=w.listener_arn, priority=svc.priority,
            actions=weighted(target_group, alternate), conditions=[paths], tags=tags, opts=owned_by_ecs)
        test_rule = aws.lb.ListenerRule(
            f"{svc.name}-test-rule", listener_arn=w.listener_arn, priority=svc.test_priority,
            actions=weighted(alternate, target_group),
            conditions=[paths, aws.lb.ListenerRuleConditionArgs(
                http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                    http_header_name=app.releases.test_header, values=["green"]))],
            tags=tags, opts=owned_by_ecs)
        # The role ECS assumes to register targets and reweight the rules: AWS's managed policy for exactly
        # this (scoped to load-balancer resources). Trust as AWS documents it (no aws:SourceAccount).
        # IAM is global: another instance of the tier (the DR region's) gets its own name.
        lb_parts = (svc.name, "ecs-lb", *([p.instance] if p.instance else []))
        infra = service_role(
            parent, p, f"{svc.name}-ecs-lb-role", service="ecs.amazonaws.com", scope_to_account=False,
            name=p.namer.physical("iam_role", *lb_parts), tag_name=p.namer.base(*lb_parts),
            description=f"ECS shifts {svc.name}'s listener rules during {svc.deployment} deployments",
            managed={f"{svc.name}-ecs-lb-policy": LB_INFRASTRUCTURE_POLICY}, tags=tags)
        # Rollback signal: target 5xx of either group (whichever holds the new revision), two minutes in a row.
        # No notification of their own: a rolled-back release fails its pipeline, which notifies the alerts topic.
        alarms = tuple(metric_alarm(
            parent, p, f"{svc.name}-release-{color}", f"{svc.name}-release-5xx-{color}",
            namespace="AWS/ApplicationELB", metric="HTTPCode_Target_5XX_Count",
            dimensions={"TargetGroup": tg.arn_suffix, "LoadBalancer": required(w.alb_arn_suffix, "alb_arn_suffix")},
            statistic="Sum",
            op=">=", threshold=float(app.releases.rollback_5xx_threshold), period=60, periods=2, datapoints=2,
            missing="notBreaching", actions=[],
            description=f"{svc.name}: target 5xx in its {color} group during a release; ECS rolls the "
                        f"deployment back on it") for color, tg in (("blue", target_group), ("green", alternate)))

    hold = parked(p, w)
    deployment_configuration = alarm_rollback = None
    load_balancer = aws.ecs.ServiceLoadBalancerArgs(
        target_group_arn=target_group.arn, container_name=svc.name, container_port=svc.port)
    service_deps = [listener_rule, *(depends_on or [])]
    if staged:
        assert alternate is not None and test_rule is not None and infra is not None, "a staged service has both groups"
        r = app.releases
        deployment_configuration = aws.ecs.ServiceDeploymentConfigurationArgs(
            strategy=ECS_STRATEGY[svc.deployment], bake_time_in_minutes=str(r.bake_time_minutes),
            canary_configuration=aws.ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
                canary_percent=float(r.canary_percent), canary_bake_time_in_minutes=str(r.canary_bake_minutes))
            if svc.deployment == "canary" else None,
            linear_configuration=aws.ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
                step_percent=float(r.linear_step_percent), step_bake_time_in_minutes=str(r.linear_step_bake_minutes))
            if svc.deployment == "linear" else None)
        alarm_rollback = aws.ecs.ServiceAlarmsArgs(alarm_names=[a.name for a in alarms], enable=True, rollback=True)
        load_balancer = aws.ecs.ServiceLoadBalancerArgs(
            target_group_arn=target_group.arn, container_name=svc.name, container_port=svc.port,
            advanced_configuration=aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
                alternate_target_group_arn=alternate.arn, production_listener_rule=listener_rule.arn,
                test_listener_rule=test_rule.arn, role_arn=infra.role.arn))
        service_deps += [test_rule, *infra.grants]
    # Autoscaling owns the desired count after the first deploy. The task definition is the stack's (never
    # ignored: a setting changed in the stack must reach the tasks); a delivered service's image in it is the
    # last release's (the release parameter above), so an `up` keeps what the pipeline deployed.
    ignored = ["desiredCount"]

    service = aws.ecs.Service(
        f"{svc.name}-service",
        name=svc.name,
        cluster=w.cluster_arn,
        task_definition=task_definition.arn,
        desired_count=hold.apply(lambda held: 0 if held else s.desired_count),
        capacity_provider_strategies=capacity_strategy(app, svc),
        # ECS refuses a capacity-provider-strategy update (e.g. `interruptible` toggled) unless it comes
        # with a new deployment; the provider documents it as requiring force_new_deployment.
        force_new_deployment=True,
        platform_version="LATEST",
        network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
            subnets=w.subnet_ids, security_groups=[w.security_group_id], assign_public_ip=False),
        load_balancers=[load_balancer],
        deployment_configuration=deployment_configuration,
        alarms=alarm_rollback,
        deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
        deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
        health_check_grace_period_seconds=300,
        propagate_tags="SERVICE", enable_ecs_managed_tags=True, enable_execute_command=False,
        wait_for_steady_state=False,
        tags=service_tags,
        # The target group must be attached to the load balancer (through the rule), and the capacity
        # providers to the cluster (`depends_on`), before the service is created.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=service_deps, ignore_changes=ignored))

    resource_id = pulumi.Output.concat("service/", w.cluster_name, "/", service.name)
    scaling_target = aws.appautoscaling.Target(
        f"{svc.name}-scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
        resource_id=resource_id, min_capacity=hold.apply(lambda held: 0 if (held or off_hours) else s.min_count),
        # The configured floor, whatever parking says: what the cost model prices the service at (plan/cost.py).
        max_capacity=s.max_count, tags={**tags, "ConfiguredMinCount": str(s.min_count)}, opts=child)
    scaling = app.autoscaling
    for metric, predefined, target in (("cpu", "ECSServiceAverageCPUUtilization", scaling.cpu_target),
                                       ("memory", "ECSServiceAverageMemoryUtilization", scaling.memory_target)):
        aws.appautoscaling.Policy(
            f"{svc.name}-{metric}-scaling",
            name=p.namer.physical("scaling_policy", svc.name, metric),
            policy_type="TargetTrackingScaling",
            service_namespace=scaling_target.service_namespace,
            scalable_dimension=scaling_target.scalable_dimension,
            resource_id=scaling_target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(target),
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type=predefined),
                scale_in_cooldown=scaling.scale_in_cooldown, scale_out_cooldown=scaling.scale_out_cooldown),
            opts=child)

    work_scaling(parent, p, app, svc, w, scaling_target, service,
                 [target_group, *([alternate] if alternate is not None else [])])

    return EcsService(service=service, task_definition=task_definition, target_group=target_group,
                      listener_rule=listener_rule, log_group=log_group, scaling_target=scaling_target,
                      counts={"desired": s.desired_count, "min": 0 if off_hours else s.min_count,
                              "max": s.max_count},
                      alternate_target_group=alternate, test_listener_rule=test_rule, rollback_alarms=alarms,
                      infrastructure_role=infra.role if infra else None, parked=hold, release_parameter=release)
