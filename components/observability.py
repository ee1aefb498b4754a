"""Observability tier: the alarms, the stack's dashboard and X-Ray sampling, built from the outputs of
the tiers that exist (each input is optional: no resource, no alarm).

Every alarm has a severity (docs/paging.md): critical alarms notify the alerts topic (it pages), warning alarms
the warnings topic (it informs); both topics are the events tier's, each with its own subscribers. An alarm
notifies on ALARM and on OK, so an incident opens and closes in the same channel. tests/test_observability_tier.py
holds the plan to the platform design's alarm table. Dimensions are taken from the producing tier's outputs,
so each alarm depends on the resource it watches (the `alarms-for-load-balancers-and-databases` policy
checks exactly that), and a renamed resource renames the alarm's dimension with it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi import Input

from .config.observability import ObservabilitySettings
from .context import Platform, publish, required
from .recipes.alarms import COMPARISONS, metric_alarm

GIB = 1024 ** 3
IMMEDIATE_SECONDS = 60   # the design's "immediate": one one-minute period
FIVE_MINUTES = 300


def name_from_arn(arn: Input[str]) -> pulumi.Output[str]:
    """`arn:aws:sqs:region:account:NAME` -> NAME (keeps the dependency on the resource behind the ARN)."""
    return pulumi.Output.from_input(arn).apply(lambda a: a.split(":")[-1])


@dataclasses.dataclass(frozen=True)
class ObservabilityTierArgs:
    platform: Platform
    settings: ObservabilitySettings
    alerts_topic_arn: Input[str] | None = None      # critical: pages
    warnings_topic_arn: Input[str] | None = None    # warning: informs (the alerts topic when None)
    # application tier
    ecs_cluster_name: Input[str] | None = None
    ecs_service_names: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    alb_arn_suffix: Input[str] | None = None
    target_group_arn_suffixes: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    # service -> parked (0 tasks until its first image): its zero-healthy-hosts alarm stays silent while parked.
    service_parked: Mapping[str, Input[bool]] = dataclasses.field(default_factory=dict)
    # edge tier: the REST API's CloudWatch dimensions (its 5xx count joins the ALB's in one critical alarm)
    api_name: Input[str] | None = None
    api_stage_name: Input[str] | None = None
    # data tier: {"primary": id, "replica": id}
    db_instance_identifiers: Mapping[str, Input[str] | None] = dataclasses.field(default_factory=dict)  # None: absent
    docdb_cluster_identifier: Input[str] | None = None
    redis_replication_group_id: Input[str] | None = None
    redis_node_count: int = 1
    # events tier: queue names preferred; else derived from the ARNs
    dlq_names: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    dlq_arns: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    # ML/events tiers
    function_names: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    # Alarms other tiers own (e.g. the ML tier's failed-training-jobs alarm): shown on the dashboard.
    external_alarm_arns: Sequence[Input[str]] = ()


@dataclasses.dataclass(frozen=True)
class ObservabilityOutputs:
    alarm_names: Mapping[str, pulumi.Output[str]]
    dashboard_name: pulumi.Output[str] | None
    # The region's liveness: in ALARM when no ECS service of the region reports a minute's CPU sample (a dead
    # region emits no metrics). Route 53's failover health check reads it (components/dr_region.py DrFailover).
    liveness_alarm_name: pulumi.Output[str] | None = None


class ObservabilityTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: ObservabilityTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:Observability", name, None, p.tier_options(opts))
        o = args.settings
        self._p = p
        self._a = o.alarms
        critical = [args.alerts_topic_arn] if args.alerts_topic_arn is not None else []
        warning = [args.warnings_topic_arn] if args.warnings_topic_arn is not None else critical
        self._actions = {"critical": critical, "warning": warning}
        self._child = pulumi.ResourceOptions(parent=self)
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        a = self._a

        # ECS services: CPU and memory (AWS/ECS publishes both per service without Container Insights).
        if args.ecs_cluster_name is not None:
            for svc, svc_name in sorted(args.ecs_service_names.items()):
                dims = {"ClusterName": args.ecs_cluster_name, "ServiceName": svc_name}
                # CPU: the service's target tracking scales (application tier); the alarm tells the team it did
                # not keep up. Memory: an alert (warning) at the first breaching period.
                self._alarm(f"ecs-{svc}-cpu", "AWS/ECS", "CPUUtilization", dims, ">", a.ecs_cpu_percent,
                            statistic="Average", periods=a.ecs_cpu_periods, severity="warning",
                            description=f"ECS service {svc}: CPU > {a.ecs_cpu_percent}% for {a.ecs_cpu_periods} "
                                        "periods (autoscaling scales out)")
                self._alarm(f"ecs-{svc}-memory", "AWS/ECS", "MemoryUtilization", dims, ">", a.ecs_memory_percent,
                            statistic="Average", periods=1, severity="warning",
                            description=f"ECS service {svc}: memory > {a.ecs_memory_percent}%")

        liveness = self._liveness(args) if args.ecs_cluster_name is not None and args.ecs_service_names else None

        # Load balancer (and the API in front of it): one critical 5xx alarm over both layers, p95 latency
        # (warning), unhealthy targets per group (critical, immediate) and zero healthy hosts per service
        # (critical; silent while the service is parked).
        if args.alb_arn_suffix is not None:
            lb = {"LoadBalancer": args.alb_arn_suffix}
            self._five_xx(args)
            self._alarm("alb-latency-p95", "AWS/ApplicationELB", "TargetResponseTime", lb, ">",
                        a.alb_p95_latency_seconds, extended_statistic="p95", periods=1, period=FIVE_MINUTES,
                        severity="warning",
                        description=f"ALB target response time p95 > {a.alb_p95_latency_seconds}s")
            for svc, tg_suffix in sorted(args.target_group_arn_suffixes.items()):
                self._alarm(f"tg-{svc}-unhealthy", "AWS/ApplicationELB", "UnHealthyHostCount",
                            {"LoadBalancer": args.alb_arn_suffix, "TargetGroup": tg_suffix}, ">", 0,
                            statistic="Maximum", periods=1, period=IMMEDIATE_SECONDS, severity="critical",
                            missing="notBreaching",
                            description=f"Target group {svc}: unhealthy targets > 0 (immediate: one minute)")
            for svc in sorted(k for k in args.target_group_arn_suffixes if not k.endswith("-alt")):
                self._zero_healthy(svc, args)

        # PostgreSQL (primary and replica).
        for role, ident in sorted(args.db_instance_identifiers.items()):
            if ident is None:
                continue
            dims = {"DBInstanceIdentifier": ident}
            self._alarm(f"rds-{role}-cpu", "AWS/RDS", "CPUUtilization", dims, ">", a.rds_cpu_percent,
                        statistic="Average", periods=3, description=f"RDS {role}: CPU > {a.rds_cpu_percent}%")
            self._alarm(f"rds-{role}-free-storage", "AWS/RDS", "FreeStorageSpace", dims, "<",
                        a.rds_free_storage_gib * GIB, statistic="Minimum", periods=1, severity="critical",
                        description=f"RDS {role}: free storage < {a.rds_free_storage_gib} GiB")
            self._alarm(f"rds-{role}-connections", "AWS/RDS", "DatabaseConnections", dims, ">",
                        a.rds_max_connections, statistic="Maximum", periods=2,
                        description=f"RDS {role}: connections > {a.rds_max_connections}")
            if role != "primary":
                self._alarm(f"rds-{role}-lag", "AWS/RDS", "ReplicaLag", dims, ">", a.rds_replica_lag_seconds,
                            statistic="Maximum", periods=2,
                            description=f"RDS {role}: replication lag > {a.rds_replica_lag_seconds}s")

        # DocumentDB (cluster-level metrics).
        if args.docdb_cluster_identifier is not None:
            dims = {"DBClusterIdentifier": args.docdb_cluster_identifier}
            self._alarm("docdb-cpu", "AWS/DocDB", "CPUUtilization", dims, ">", a.rds_cpu_percent,
                        statistic="Average", periods=3, description=f"DocumentDB: CPU > {a.rds_cpu_percent}%")
            self._alarm("docdb-connections", "AWS/DocDB", "DatabaseConnections", dims, ">", a.rds_max_connections,
                        statistic="Maximum", periods=2,
                        description=f"DocumentDB: connections > {a.rds_max_connections}")

        # Redis: engine metrics are published per node (CacheClusterId = <group>-00N).
        self.redis_nodes: list[pulumi.Output[str]] = []
        if args.redis_replication_group_id is not None:
            for i in range(1, max(1, args.redis_node_count) + 1):
                node = pulumi.Output.from_input(args.redis_replication_group_id).apply(
                    lambda g, i=i: f"{g}-{i:03d}")  # type: ignore[misc]  # loop-bound lambda
                self.redis_nodes.append(node)
                dims = {"CacheClusterId": node}
                self._alarm(f"redis-{i:03d}-cpu", "AWS/ElastiCache", "EngineCPUUtilization", dims, ">",
                            a.redis_cpu_percent, statistic="Average", periods=3,
                            description=f"Redis node {i}: engine CPU > {a.redis_cpu_percent}%")
                self._alarm(f"redis-{i:03d}-memory", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dims, ">",
                            a.redis_memory_percent, statistic="Maximum", periods=2,
                            description=f"Redis node {i}: memory > {a.redis_memory_percent}%")

        # Dead-letter queues: any message is a failure somebody must look at.
        queues = {k: v for k, v in args.dlq_names.items()}
        for k, arn in args.dlq_arns.items():
            queues.setdefault(k, name_from_arn(arn))
        for key, queue in sorted(queues.items()):
            self._alarm(f"dlq-{key}-depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue},
                        ">", 0, statistic="Maximum", periods=1, missing="notBreaching",
                        description=f"Dead-letter queue {key} has messages")

        # Lambda functions.
        for key, fn in sorted(args.function_names.items()):
            dims = {"FunctionName": fn}
            self._alarm(f"lambda-{key}-errors", "AWS/Lambda", "Errors", dims, ">", a.lambda_errors, statistic="Sum",
                        periods=1, missing="notBreaching", description=f"Lambda {key}: errors > {a.lambda_errors}")
            self._alarm(f"lambda-{key}-throttles", "AWS/Lambda", "Throttles", dims, ">", a.lambda_throttles,
                        statistic="Sum", periods=1, missing="notBreaching",
                        description=f"Lambda {key}: throttles > {a.lambda_throttles}")

        dashboard = None
        if o.dashboard:
            dashboard = aws.cloudwatch.Dashboard(
                "dashboard", dashboard_name=p.namer.physical("dashboard"),
                dashboard_body=pulumi.Output.json_dumps({"widgets": self._widgets(args)}), opts=self._child)

        aws.xray.SamplingRule(
            "xray-sampling",
            rule_name=p.namer.physical("xray_rule", "default"),  # X-Ray: 1-32 characters
            priority=o.xray_priority, fixed_rate=o.xray_fixed_rate, reservoir_size=o.xray_reservoir,
            service_name="*", service_type="*", host="*", http_method="*", url_path="*", resource_arn="*",
            version=1, tags=p.tags(p.namer.base("xray-sampling")), opts=self._child)

        self.outputs = ObservabilityOutputs(alarm_names={k: v.name for k, v in self.alarms.items()},
                                            dashboard_name=dashboard.dashboard_name if dashboard else None,
                                            liveness_alarm_name=liveness.name if liveness else None)
        publish(self, self.outputs)

    def _liveness(self, args: ObservabilityTierArgs) -> aws.cloudwatch.MetricAlarm:
        """The region's liveness, a warning and the health signal Route 53's failover check reads: the one-minute
        CPU samples its ECS services report, summed over 3 minutes. A running region always reports some (every
        service with a task does, each minute); a region that is gone reports none, and missing data is
        breaching, so the check says unhealthy instead of "no 5xx, all well". Back to OK as soon as services
        run again (after a failback, a first release); silent while every service is parked (a new stack)."""
        cluster = required(args.ecs_cluster_name, "ecs_cluster_name")
        metrics = {f"m{i}": ("AWS/ECS", "CPUUtilization", {"ClusterName": cluster, "ServiceName": svc_name},
                             "SampleCount")
                   for i, (_, svc_name) in enumerate(sorted(args.ecs_service_names.items()))}
        parked = [args.service_parked[s] for s in sorted(args.ecs_service_names) if s in args.service_parked]
        return self._math_alarm(
            "region-liveness", "SUM([" + ",".join(metrics) + "])", metrics, "<", 1, period=180, severity="warning",
            missing="breaching",
            actions_enabled=pulumi.Output.all(*parked).apply(lambda held: not all(held)) if parked else None,
            description="No ECS service of the region reported a CPU sample for 3 minutes: the region is down "
                        "(Route 53's failover health check reads this alarm; silent while every service is parked)")

    def _alarm(self, key: str, namespace: str, metric: str, dimensions: Mapping[str, Input[str]], op: str,
               threshold: float, *, statistic: str | None = None, extended_statistic: str | None = None,
               periods: int = 1, period: int | None = None, missing: str = "missing",
               description: str = "", severity: str = "warning") -> aws.cloudwatch.MetricAlarm:
        alarm = metric_alarm(
            self, self._p, f"alarm-{key}", key, namespace=namespace, metric=metric, dimensions=dimensions, op=op,
            threshold=threshold, actions=self._actions[severity], description=description, statistic=statistic,
            extended_statistic=extended_statistic, periods=periods, period=period or self._a.period_seconds,
            datapoints=periods, missing=missing, severity=severity)
        self.alarms[key] = alarm
        return alarm

    def _math_alarm(self, key: str, expression: str, metrics: Mapping[str, tuple], op: str, threshold: float, *,
                    period: int, severity: str, description: str, missing: str = "notBreaching",
                    actions_enabled: Input[bool] | None = None) -> aws.cloudwatch.MetricAlarm:
        """An alarm on a metric-math expression (`id` -> (namespace, metric, dimensions, stat) each)."""
        p = self._p
        name = p.namer.physical("alarm", key)
        queries = [aws.cloudwatch.MetricAlarmMetricQueryArgs(id="e1", expression=expression, label=key,
                                                              return_data=True)]
        queries += [aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=mid, return_data=False, metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=ns, metric_name=metric, dimensions=dict(dims), stat=stat, period=period))
            for mid, (ns, metric, dims, stat) in metrics.items()]
        actions = self._actions[severity]
        alarm = aws.cloudwatch.MetricAlarm(
            f"alarm-{key}", name=name, alarm_description=description, metric_queries=queries,
            evaluation_periods=1, datapoints_to_alarm=1, threshold=threshold,
            comparison_operator=COMPARISONS[op], treat_missing_data=missing, alarm_actions=list(actions),
            ok_actions=list(actions), actions_enabled=actions_enabled,
            tags=p.tags(name, Severity=severity), opts=self._child)
        self.alarms[key] = alarm
        return alarm

    def _five_xx(self, args: ObservabilityTierArgs) -> None:
        """The design's "5xx > N in 5 minutes -> critical", API and ALB combined: the larger of the API's 5xx
        count and the ALB's (ELB-generated + target) in each 5 minutes. Every ALB 5xx reaches the client through
        the API (its only client) as an API 5xx, so the larger count counts each error once; errors only the API
        sees (authorizer, integration timeouts) count too. FILL: ALB 5xx metrics exist only when non-zero."""
        a = self._a
        lb = {"LoadBalancer": args.alb_arn_suffix}
        metrics = {"elb": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, "Sum"),
                   "tgt": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, "Sum")}
        expression = "FILL(elb, 0) + FILL(tgt, 0)"
        if args.api_name is not None and args.api_stage_name is not None:
            metrics["api"] = ("AWS/ApiGateway", "5XXError", {"ApiName": args.api_name, "Stage": args.api_stage_name},
                              "Sum")
            expression = "MAX([FILL(api, 0), FILL(elb, 0) + FILL(tgt, 0)])"
        self._math_alarm("api-alb-5xx", expression, metrics, ">", a.alb_5xx_count, period=FIVE_MINUTES,
                         severity="critical",
                         description=f"5xx responses (API Gateway and ALB combined) > {a.alb_5xx_count} in 5 minutes")

    def _zero_healthy(self, svc: str, args: ObservabilityTierArgs) -> None:
        """No healthy target in the service's groups (both, blue/green) for one minute: tasks that never register
        page. The ALB publishes HealthyHostCount only while the group has targets: missing data breaches."""
        tgs = {"blue": args.target_group_arn_suffixes[svc]}
        if f"{svc}-alt" in args.target_group_arn_suffixes:
            tgs["green"] = args.target_group_arn_suffixes[f"{svc}-alt"]
        metrics = {color: ("AWS/ApplicationELB", "HealthyHostCount",
                           {"LoadBalancer": args.alb_arn_suffix, "TargetGroup": tg}, "Maximum")
                   for color, tg in tgs.items()}
        parked = args.service_parked.get(svc)
        self._math_alarm(
            f"svc-{svc}-no-healthy-hosts", " + ".join(f"FILL({c}, 0)" for c in metrics), metrics, "<", 1,
            period=IMMEDIATE_SECONDS, severity="critical", missing="breaching",
            actions_enabled=(pulumi.Output.from_input(parked).apply(lambda held: not held)
                             if parked is not None else None),
            description=f"Service {svc}: zero healthy hosts for one minute (silent while parked)")

    def _widgets(self, args: ObservabilityTierArgs) -> list[dict]:
        region = self._p.region
        widgets: list[dict] = []

        def graph(title: str, metrics: Sequence[Any], stat: str = "Average", y: int = 0) -> None:
            widgets.append({"type": "metric", "width": 12, "height": 6,
                            "properties": {"title": title, "region": region, "stat": stat, "period": 300,
                                           "view": "timeSeries", "metrics": list(metrics)}})

        if args.ecs_cluster_name is not None and args.ecs_service_names:
            for metric, title in (("CPUUtilization", "Service CPU %"), ("MemoryUtilization", "Service memory %")):
                graph(title, [["AWS/ECS", metric, "ClusterName", args.ecs_cluster_name, "ServiceName", n]
                              for _, n in sorted(args.ecs_service_names.items())])
        if args.alb_arn_suffix is not None:
            lb = args.alb_arn_suffix
            graph("Requests", [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb]], stat="Sum")
            graph("5xx error rate %", [
                # FILL: the ALB publishes these counts only when non-zero; without it the line is empty most
                # of the time instead of showing 0.
                [{"expression": "IF(FILL(m3, 0) > 0, 100 * (FILL(m1, 0) + FILL(m2, 0)) / FILL(m3, 0), 0)",
                  "label": "5xx %", "id": "e1"}],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb, {"id": "m1", "visible": False}],
                ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, {"id": "m2", "visible": False}],
                ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb, {"id": "m3", "visible": False}]], stat="Sum")
            graph("Latency p95 (s)", [["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb]], stat="p95")
        idents = [(r, i) for r, i in sorted(args.db_instance_identifiers.items()) if i is not None]
        connections = [["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", i] for _, i in idents]
        if args.docdb_cluster_identifier is not None:
            connections.append(["AWS/DocDB", "DatabaseConnections", "DBClusterIdentifier", args.docdb_cluster_identifier])
        if connections:
            graph("Database connections", connections, stat="Maximum")
        if self.redis_nodes:
            graph("Cache hit rate %", [["AWS/ElastiCache", "CacheHitRate", "CacheClusterId", n]
                                       for n in self.redis_nodes])
        if args.function_names:
            graph("Lambda errors", [["AWS/Lambda", "Errors", "FunctionName", f]
                                    for _, f in sorted(args.function_names.items())], stat="Sum")
        alarm_arns = [a.arn for _, a in sorted(self.alarms.items())] + list(args.external_alarm_arns)
        if alarm_arns:
            widgets.insert(0, {"type": "alarm", "width": 24, "height": 4,
                               "properties": {"title": "Alarms", "alarms": alarm_arns[:100]}})
        if not widgets:
            widgets.append({"type": "text", "width": 24, "height": 2,
                            "properties": {"markdown": f"# {self._p.namer.base()}\nNo monitored resources yet."}})
        x = y = 0
        for w in widgets:  # left to right, rows of 24 units
            if x + w["width"] > 24:
                x, y = 0, y + 6
            w["x"], w["y"] = x, y
            x += w["width"]
        return widgets
