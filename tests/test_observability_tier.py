"""Observability and governance tiers: in isolation with fake producer outputs, and in the whole stack."""
from __future__ import annotations

import functools
import json

import pulumi_aws as aws
import pytest

from conftest import primary_plan as stack_plan
from conftest import shared_program, stack_analysis
from plan.engine import PlanError, run_program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
MINE = ("tier:Observability", "tier:Governance")
OBS_POLICIES = {"cloudtrail-multi-region-validated-encrypted", "log-group-encrypted-with-retention",
                "alarms-for-load-balancers-and-databases"}


def _config(env: str, observability: dict | None = None) -> dict:
    return {"aws:region": "us-east-1", "ai-platform:platform": {"environment": env, "costCenter": f"cc-{env}"},
            "ai-platform:events": {"alertEmails": ["ops@example.com"]},
            "ai-platform:observability": observability or {}}


def _program(with_resources: bool = True):
    def program():
        from components.config import load_settings
        from components.governance import GovernanceTier, GovernanceTierArgs
        from components.observability import ObservabilityTier, ObservabilityTierArgs
        from components.platform import platform_for

        settings = load_settings()
        p = platform_for(settings)
        o = settings.observability
        tags = p.tags()
        if not with_resources:
            ObservabilityTier("observability", ObservabilityTierArgs(platform=p, settings=o))
            GovernanceTier("governance", GovernanceTierArgs(platform=p, settings=o,
                                                            logs_key_arn="arn:aws:kms:us-east-1:1:key/l"))
            return
        topic = aws.sns.Topic("fake-alerts", name="fake-alerts", tags=tags)
        warnings = aws.sns.Topic("fake-warnings", name="fake-warnings", tags=tags)
        cluster = aws.ecs.Cluster("fake-cluster", name="fake-cluster", tags=tags)
        lb = aws.lb.LoadBalancer("fake-alb", name="fake-alb", tags=tags)
        tg = aws.lb.TargetGroup("fake-tg", name="fake-tg", tags=tags)
        db = aws.rds.Instance("fake-db", identifier="fake-db", instance_class="db.t4g.micro", tags=tags)
        replica = aws.rds.Instance("fake-replica", identifier="fake-replica", instance_class="db.t4g.micro",
                                   replicate_source_db="fake-db", tags=tags)
        docdb = aws.docdb.Cluster("fake-docdb", cluster_identifier="fake-docdb", tags=tags)
        dlq = aws.sqs.Queue("fake-dlq", name="fake-dlq", tags=tags)
        ObservabilityTier("observability", ObservabilityTierArgs(
            platform=p, settings=o, alerts_topic_arn=topic.arn, warnings_topic_arn=warnings.arn,
            ecs_cluster_name=cluster.name, api_name="fake-api", api_stage_name="v1",
            ecs_service_names={"api": "api-svc", "worker": "worker-svc"}, alb_arn_suffix=lb.arn_suffix,
            target_group_arn_suffixes={"api": tg.arn_suffix},
            db_instance_identifiers={"primary": db.identifier, "replica": replica.identifier, "standby": None},
            docdb_cluster_identifier=docdb.cluster_identifier,
            redis_replication_group_id="fake-redis", redis_node_count=2, dlq_arns={"orders": dlq.arn},
            function_names={"orchestrator": "fake-fn"}, external_alarm_arns=["arn:aws:cloudwatch:us-east-1:1:alarm:x"]))
        GovernanceTier("governance", GovernanceTierArgs(
            platform=p, settings=o, logs_key_arn="arn:aws:kms:us-east-1:123456789012:key/logs", alerts_topic_arn=topic.arn,
            access_log_bucket_name="fake-access-logs"))
    return program


def isolated(env: str = "prod", with_resources: bool = True, preview: bool = False, obs: str = "{}"):
    return _isolated(env, with_resources, preview, obs)   # one cache entry however the arguments are spelled


@functools.cache
def _isolated(env: str, with_resources: bool, preview: bool, obs: str):
    return shared_program(f"{__name__}.isolated:{env}:{with_resources}:{preview}:{obs}", lambda: run_program(
        _program(with_resources), config=_config(env, json.loads(obs)), stack=env, preview=preview))


# prod's non-default observability choices that do not touch each other, in one run: the alarm thresholds from
# config (test_thresholds_come_from_config reads four alarms) and the cost-allocation tags activated (the
# baseline tests read those tags only); each was a program of its own.
THRESHOLDS = {"ecsCpuPercent": 70, "ecsCpuPeriods": 3, "alb5xxCount": 50, "albP95LatencySeconds": 1.5}
ALTERNATIVES = json.dumps({"alarms": THRESHOLDS, "activateCostAllocationTags": True})


def alarms(plan) -> dict:
    """This tier's alarms by key (other tiers may own alarms of their own)."""
    return {r.name.removeprefix("alarm-"): r for r in plan.of_type(ALARM) if "tier:Observability" in r.urn}


def urn(plan, name: str) -> str:
    return plan.named(name).urn


def out(plan, name: str, prop: str):
    return plan.named(name).outputs[prop]


# --- alarms: the right resource, the right metric, the topic -------------------------------------
def test_every_alarm_notifies_its_severitys_topic_on_alarm_and_ok():
    plan = isolated()
    topics = {"critical": out(plan, "fake-alerts", "arn"), "warning": out(plan, "fake-warnings", "arn")}
    assert len(alarms(plan)) == 25   # with the region's liveness (issue 26)
    severities = set()
    for key, a in alarms(plan).items():
        severity = a.props["tags"]["Severity"]
        severities.add(severity)
        assert a.props["alarmActions"] == [topics[severity]] and a.props["okActions"] == [topics[severity]], key
    assert severities == {"critical", "warning"}


def test_without_a_warnings_topic_warnings_go_to_the_alerts_topic():
    """A tier given one topic (the DR region's, a test's) still notifies somebody of every alarm."""
    def program():
        from components.config import load_settings
        from components.observability import ObservabilityTier, ObservabilityTierArgs
        from components.platform import platform_for
        settings = load_settings()
        ObservabilityTier("observability", ObservabilityTierArgs(
            platform=platform_for(settings), settings=settings.observability, alerts_topic_arn="arn:aws:sns:x:1:a",
            function_names={"fn": "fake-fn"}))
    plan = run_program(program, config=_config("dev"), stack="dev")
    assert {a.props["alarmActions"][0] for a in alarms(plan).values()} == {"arn:aws:sns:x:1:a"}


def test_alarms_watch_the_resources_they_were_given():
    plan = isolated()
    a = alarms(plan)
    lb_suffix, tg_suffix = out(plan, "fake-alb", "arnSuffix"), out(plan, "fake-tg", "arnSuffix")
    expected = {
        "ecs-api-cpu": ("AWS/ECS", "CPUUtilization", {"ClusterName": "fake-cluster", "ServiceName": "api-svc"}),
        "ecs-worker-memory": ("AWS/ECS", "MemoryUtilization", {"ClusterName": "fake-cluster", "ServiceName": "worker-svc"}),
        "alb-latency-p95": ("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": lb_suffix}),
        "tg-api-unhealthy": ("AWS/ApplicationELB", "UnHealthyHostCount",
                             {"LoadBalancer": lb_suffix, "TargetGroup": tg_suffix}),
        "rds-primary-cpu": ("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "fake-db"}),
        "rds-primary-free-storage": ("AWS/RDS", "FreeStorageSpace", {"DBInstanceIdentifier": "fake-db"}),
        "rds-primary-connections": ("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": "fake-db"}),
        "redis-001-cpu": ("AWS/ElastiCache", "EngineCPUUtilization", {"CacheClusterId": "fake-redis-001"}),
        "redis-002-memory": ("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", {"CacheClusterId": "fake-redis-002"}),
        "rds-replica-lag": ("AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": "fake-replica"}),
        "docdb-cpu": ("AWS/DocDB", "CPUUtilization", {"DBClusterIdentifier": "fake-docdb"}),
        "docdb-connections": ("AWS/DocDB", "DatabaseConnections", {"DBClusterIdentifier": "fake-docdb"}),
        "dlq-orders-depth": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "fake-dlq"}),
        "lambda-orchestrator-errors": ("AWS/Lambda", "Errors", {"FunctionName": "fake-fn"}),
        "lambda-orchestrator-throttles": ("AWS/Lambda", "Throttles", {"FunctionName": "fake-fn"}),
    }
    for key, (namespace, metric, dims) in expected.items():
        props = a[key].props
        assert (props["namespace"], props["metricName"], props["dimensions"]) == (namespace, metric, dims), key
    # No alarm for an absent database, no lag alarm on the primary; each alarm depends on what it watches.
    assert not any(k.startswith("rds-standby") for k in a) and "rds-primary-lag" not in a
    assert a["rds-primary-cpu"].propertyDependencies["dimensions"] == [urn(plan, "fake-db")]
    assert urn(plan, "fake-alb") in a["tg-api-unhealthy"].propertyDependencies["dimensions"]
    assert a["dlq-orders-depth"].propertyDependencies["dimensions"] == [urn(plan, "fake-dlq")]
    # The combined 5xx alarm reads the API's and both ALB 5xx counts; zero-healthy reads the service's group.
    queries = {q["id"]: q.get("metric") for q in a["api-alb-5xx"].props["metricQueries"]}
    assert {k: (m["namespace"], m["metricName"], m["dimensions"]) for k, m in queries.items() if m} == {
        "api": ("AWS/ApiGateway", "5XXError", {"ApiName": "fake-api", "Stage": "v1"}),
        "elb": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", {"LoadBalancer": lb_suffix}),
        "tgt": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", {"LoadBalancer": lb_suffix})}
    [healthy] = [q["metric"] for q in a["svc-api-no-healthy-hosts"].props["metricQueries"] if q.get("metric")]
    assert (healthy["metricName"], healthy["dimensions"]) == (
        "HealthyHostCount", {"LoadBalancer": lb_suffix, "TargetGroup": tg_suffix})


def test_default_thresholds_follow_the_design():
    a = {k: v.props for k, v in alarms(isolated()).items()}
    cpu = a["ecs-api-cpu"]
    assert (cpu["comparisonOperator"], cpu["threshold"], cpu["evaluationPeriods"]) == ("GreaterThanThreshold", 90, 2)
    assert a["ecs-api-memory"]["threshold"] == 85
    assert a["tg-api-unhealthy"]["threshold"] == 0 and a["tg-api-unhealthy"]["comparisonOperator"] == "GreaterThanThreshold"
    five = a["api-alb-5xx"]
    assert (five["threshold"], five["evaluationPeriods"]) == (10, 1)
    p95 = a["alb-latency-p95"]
    assert p95["extendedStatistic"] == "p95" and p95["threshold"] == 3 and "statistic" not in p95
    storage = a["rds-primary-free-storage"]
    assert storage["comparisonOperator"] == "LessThanThreshold" and storage["threshold"] == 20 * 1024 ** 3
    assert a["dlq-orders-depth"]["threshold"] == 0 and a["dlq-orders-depth"]["treatMissingData"] == "notBreaching"


def test_thresholds_come_from_config():
    plan = isolated(obs=ALTERNATIVES)
    a = {k: v.props for k, v in alarms(plan).items()}
    assert (a["ecs-api-cpu"]["threshold"], a["ecs-api-cpu"]["evaluationPeriods"]) == (70, 3)
    assert a["api-alb-5xx"]["threshold"] == 50 and a["alb-latency-p95"]["threshold"] == 1.5


def test_bad_threshold_is_a_config_error_naming_the_key():
    with pytest.raises(PlanError, match=r"observability\.alarms\.ecsCpuPercent = 150"):
        run_program(_program(False), config=_config("dev", {"alarms": {"ecsCpuPercent": 150}}), stack="dev")


def test_no_producer_no_alarm_and_an_explanatory_dashboard():
    plan = isolated("dev", with_resources=False)
    assert plan.of_type(ALARM) == []
    body = json.loads(plan.of_type("aws:cloudwatch/dashboard:Dashboard")[0].props["dashboardBody"])
    assert [w["type"] for w in body["widgets"]] == ["text"]


def test_dashboard_is_built_from_the_same_resources():
    plan = isolated()
    [dash] = plan.of_type("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dash.props["dashboardBody"])
    titles = [w["properties"].get("title") for w in body["widgets"]]
    assert titles == ["Alarms", "Service CPU %", "Service memory %", "Requests", "5xx error rate %",
                      "Latency p95 (s)", "Database connections", "Cache hit rate %", "Lambda errors"]
    text = json.dumps(body)
    for value in ("api-svc", "worker-svc", out(plan, "fake-alb", "arnSuffix"), "fake-db", "fake-docdb", "fake-redis-002",
                  "CacheHitRate", "arn:aws:cloudwatch:us-east-1:1:alarm:x"):
        assert value in text
    assert len(body["widgets"][0]["properties"]["alarms"]) == 26  # 25 own + the ML tier's
    # The 5xx-rate line shows 0, not nothing, while the ALB publishes no 5xx count (it publishes only non-zero ones).
    [rate] = [w for w in body["widgets"] if w["properties"].get("title") == "5xx error rate %"]
    expression = rate["properties"]["metrics"][0][0]["expression"]
    assert all(f"FILL(m{i}, 0)" in expression for i in (1, 2, 3)) and expression.startswith("IF(")


def test_xray_sampling_rule_defaults_and_name_limit():
    [rule] = isolated().of_type("aws:xray/samplingRule:SamplingRule")
    assert (rule.props["fixedRate"], rule.props["reservoirSize"]) == (0.05, 1)
    assert len(rule.props["ruleName"]) <= 32 and rule.props["priority"] < 10000


# --- governance ------------------------------------------------------------------------------
def test_budget_is_per_stack_filtered_by_its_tag_and_alerts_the_topic():
    for env in ("dev", "prod"):
        plan = isolated(env)
        [budget] = plan.of_type("aws:budgets/budget:Budget")
        b = budget.props
        assert (b["budgetType"], b["timeUnit"], b["limitAmount"], b["limitUnit"]) == ("COST", "MONTHLY", "1000.0", "USD")
        assert b["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:CostCenter$cc-{env}"]}]
        topic = out(plan, "fake-alerts", "arn")
        assert sorted((n["notificationType"], n["threshold"], tuple(n["subscriberSnsTopicArns"]))
                      for n in b["notifications"]) == [("ACTUAL", 80, (topic,)), ("FORECASTED", 100, (topic,))]


def test_account_baseline_only_where_the_flag_is_on():
    singletons = ("aws:cloudtrail/trail:Trail", "aws:cfg/recorder:Recorder", "aws:guardduty/detector:Detector",
                  "aws:iam/accountPasswordPolicy:AccountPasswordPolicy")
    dev, prod = isolated("dev"), isolated("prod")
    assert all(dev.of_type(t) == [] for t in singletons)
    assert all(prod.of_type(t) for t in singletons)
    # issue 12: activating cost-allocation tags fails until billing has seen them, and in member accounts: opt-in
    tags = "aws:costexplorer/costAllocationTag:CostAllocationTag"
    assert prod.of_type(tags) == []
    assert len(isolated("prod", obs=ALTERNATIVES).of_type(tags)) == 4
    on = isolated("dev", obs=json.dumps({"accountBaseline": True}))
    assert len(on.of_type("aws:cloudtrail/trail:Trail")) == 1


def test_trail_is_multi_region_validated_encrypted_and_delivered_to_its_bucket_and_logs():
    plan = isolated("prod")
    trail = plan.named("trail").props
    assert trail["isMultiRegionTrail"] and trail["includeGlobalServiceEvents"] and trail["enableLogFileValidation"]
    assert trail["kmsKeyId"] == out(plan, "audit-key", "arn")
    [bucket] = [r for r in plan.of_type("aws:s3/bucket:Bucket") if r.name.endswith("-audit")]
    assert trail["s3BucketName"] == bucket.id and bucket.options["protect"]
    log_group = plan.named("cloudtrail-logs").props
    assert trail["cloudWatchLogsGroupArn"] == out(plan, "cloudtrail-logs", "arn") + ":*"
    assert log_group["kmsKeyId"].endswith(":key/logs") and log_group["retentionInDays"] == 365
    policy = json.loads(plan.named("audit-policy").props["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    trail_arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/" + trail["name"]
    assert by_sid["CloudTrailWrite"]["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"
    key_policy = json.loads(plan.named("audit-key").props["policy"])
    assert any(s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}
               and s["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn for s in key_policy["Statement"])
    for sub in ("audit-versioning", "audit-sse", "audit-public-access-block", "audit-ownership", "audit-lifecycle"):
        assert plan.named(sub).propertyDependencies["bucket"] == [bucket.urn]


def test_config_records_everything_delivers_to_the_audit_bucket_and_runs_managed_rules():
    plan = isolated("prod")
    rec = plan.named("config-recorder").props
    assert rec["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": True}
    assert plan.named("config-recorder-status").props["isEnabled"] is True
    channel = plan.named("config-delivery-channel").props
    assert channel["s3KeyPrefix"] == "config" and channel["s3KmsKeyArn"] == out(plan, "audit-key", "arn")
    assert plan.named("config-managed").props["policyArn"].endswith("service-role/AWS_ConfigRole")
    rules = {r.props["source"]["sourceIdentifier"] for r in plan.of_type("aws:cfg/rule:Rule")}
    assert {"ENCRYPTED_VOLUMES", "S3_BUCKET_PUBLIC_READ_PROHIBITED", "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
            "RDS_STORAGE_ENCRYPTED", "ROOT_ACCOUNT_MFA_ENABLED", "CLOUD_TRAIL_ENABLED", "VPC_FLOW_LOGS_ENABLED",
            "REQUIRED_TAGS"} <= rules
    guardduty = plan.named("guardduty").props
    assert guardduty["enable"] is True and guardduty["findingPublishingFrequency"] == "FIFTEEN_MINUTES"
    assert "datasources" not in guardduty  # deprecated in pulumi-aws 7 (DetectorFeature replaces it)
    pw = plan.named("password-policy").props
    assert pw["minimumPasswordLength"] >= 14 and pw["requireSymbols"] and pw["passwordReusePrevention"] >= 24
    activated = isolated("prod", obs=ALTERNATIVES)
    assert all(t.props["status"] == "Active"
               for t in activated.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag"))
    assert {r.props["tagKey"] for r in activated.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag")} == {
        "Project", "Environment", "CostCenter", "Owner"}


def test_every_taggable_resource_of_these_tiers_is_tagged():
    from policies.rules.tags import taggable
    for r in isolated("prod").resources:
        if any(m in r.urn for m in MINE) and taggable(r.type):
            assert {"Project", "Environment", "ManagedBy", "Owner", "CostCenter"} <= set(r.props.get("tags", {})), r.name


# --- the whole stack -------------------------------------------------------------------------
def test_prod_stack_alarms_cover_every_service_target_group_database_cache_queue_and_function():
    plan = stack_plan("prod", preview=False)
    a = alarms(plan)
    topics = {r.props["tags"]["Purpose"]: r.outputs["arn"] for r in plan.of_type("aws:sns/topic:Topic")
              if "tier:Events" in r.urn}
    by_severity = {"critical": topics["alerts"], "warning": topics["warnings"]}
    assert all(x.props["alarmActions"] == x.props["okActions"] == [by_severity[x.props["tags"]["Severity"]]]
               for x in a.values())
    services = [r for r in plan.of_type("aws:ecs/service:Service")]
    assert {x.props["dimensions"]["ServiceName"] for k, x in a.items() if k.endswith("-cpu") and k.startswith("ecs-")} == {
        s.outputs["name"] for s in services}
    tgs = plan.of_type("aws:lb/targetGroup:TargetGroup")
    assert {x.props["dimensions"]["TargetGroup"] for k, x in a.items() if k.startswith("tg-")} == {
        t.outputs["arnSuffix"] for t in tgs}
    dbs = [r for r in plan.of_type("aws:rds/instance:Instance")]
    assert {x.props["dimensions"]["DBInstanceIdentifier"] for k, x in a.items() if k.endswith("-cpu") and k.startswith("rds-")} == {
        d.outputs["identifier"] for d in dbs}
    dlqs = [k for k in a if k.startswith("dlq-")]
    assert len(dlqs) >= 1 and len([k for k in a if k.startswith("redis-") and k.endswith("-cpu")]) == 2


def test_prod_stack_has_dashboard_trail_config_budget_and_no_mandatory_violation_of_these_rules():
    plan = stack_plan("prod")
    for token in ("aws:cloudwatch/dashboard:Dashboard", "aws:cloudtrail/trail:Trail", "aws:cfg/recorder:Recorder",
                  "aws:budgets/budget:Budget", "aws:guardduty/detector:Detector"):
        assert len(plan.of_type(token)) == 1, token
    analysis = stack_analysis("prod")
    assert [v for v in analysis.violations if v.policy in OBS_POLICIES] == []


def test_dev_stack_is_the_cheaper_subset():
    plan = stack_plan("dev")
    assert plan.of_type("aws:cloudtrail/trail:Trail") == [] and plan.of_type("aws:cfg/recorder:Recorder") == []
    assert len(plan.of_type("aws:budgets/budget:Budget")) == 1 and plan.of_type(ALARM)


# --- what CloudWatch, Config and CloudTrail accept (mocks accept anything) ----------------------------
STATISTICS = {"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
MISSING = {"breaching", "notBreaching", "ignore", "missing"}
OPERATORS = {"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
             "LessThanOrEqualToThreshold"}


def put_metric_alarm_request(props: dict) -> dict:
    """The PutMetricAlarm request the provider sends for these inputs (the fields this platform sets)."""
    import botocore.session  # noqa: F401
    names = {"name": "AlarmName", "alarmDescription": "AlarmDescription", "namespace": "Namespace",
             "metricName": "MetricName", "statistic": "Statistic", "extendedStatistic": "ExtendedStatistic",
             "period": "Period", "evaluationPeriods": "EvaluationPeriods", "datapointsToAlarm": "DatapointsToAlarm",
             "threshold": "Threshold", "comparisonOperator": "ComparisonOperator",
             "treatMissingData": "TreatMissingData", "alarmActions": "AlarmActions", "okActions": "OKActions",
             "actionsEnabled": "ActionsEnabled"}
    req = {names[k]: v for k, v in props.items() if k in names}
    if "dimensions" in props:
        req["Dimensions"] = [{"Name": k, "Value": v} for k, v in props["dimensions"].items()]
    if "metricQueries" in props:
        req["Metrics"] = []
        for q in props["metricQueries"]:
            item = {"Id": q["id"], "ReturnData": q.get("returnData", False)}
            if "expression" in q:
                item["Expression"], item["Label"] = q["expression"], q.get("label", q["id"])
            if "metric" in q:
                m = q["metric"]
                item["MetricStat"] = {"Metric": {"Namespace": m["namespace"], "MetricName": m["metricName"],
                                                 "Dimensions": [{"Name": k, "Value": v}
                                                                for k, v in m["dimensions"].items()]},
                                      "Period": m["period"], "Stat": m["stat"]}
            req["Metrics"].append(item)
    return req


def test_every_alarm_is_a_valid_put_metric_alarm_request_by_the_cloudwatch_api_model():
    """botocore's own model of PutMetricAlarm validates each request (types, required fields, enums, ranges)."""
    import botocore.session
    from botocore.validate import ParamValidator
    model = botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricAlarm")
    for key, a in alarms(isolated()).items():
        report = ParamValidator().validate(put_metric_alarm_request(a.props), model.input_shape)
        assert not report.has_errors(), (key, report.generate_report())


def test_every_alarm_is_a_valid_put_metric_alarm_request():
    import re
    for key, a in alarms(isolated()).items():
        p = a.props
        if "metricQueries" in p:   # metric math: no metric of its own; every query's period a minute multiple
            assert "statistic" not in p and "namespace" not in p, key
            assert [q["id"] for q in p["metricQueries"] if q.get("returnData")] == ["e1"], key
            assert all(q["metric"]["period"] % 60 == 0 for q in p["metricQueries"] if "metric" in q), key
            assert p["treatMissingData"] in MISSING and p["comparisonOperator"] in OPERATORS, key
            continue
        # PutMetricAlarm: exactly one of Statistic / ExtendedStatistic (percentiles only as ExtendedStatistic).
        assert ("statistic" in p) != ("extendedStatistic" in p), key
        assert p.get("statistic", "Sum") in STATISTICS, key
        assert "extendedStatistic" not in p or re.fullmatch(r"p\d{1,2}(\.\d+)?", p["extendedStatistic"]), key
        assert p["treatMissingData"] in MISSING and p["comparisonOperator"] in OPERATORS, key
        assert p["period"] % 60 == 0 and 1 <= p["datapointsToAlarm"] <= p["evaluationPeriods"], key
        assert len(p["name"]) <= 255 and p["namespace"].startswith("AWS/"), key


def test_dashboard_body_follows_the_cloudwatch_schema():
    body = json.loads(isolated().of_type("aws:cloudwatch/dashboard:Dashboard")[0].props["dashboardBody"])
    cells = set()
    for w in body["widgets"]:
        assert w["type"] in {"metric", "alarm", "text"}
        assert all(isinstance(w[k], int) for k in ("x", "y", "width", "height"))
        assert 0 <= w["x"] and w["x"] + w["width"] <= 24
        mine = {(x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])}
        assert not cells & mine, w["properties"].get("title")  # widgets never overlap
        cells |= mine
        if w["type"] == "metric":
            assert w["properties"]["region"] == "us-east-1" and w["properties"]["metrics"]
            for m in w["properties"]["metrics"]:
                # [namespace, metric, (dimension name, value)*, {options}?] or [{"expression": ...}]
                strings = [x for x in m if not isinstance(x, dict)]
                if strings:
                    assert len(strings) >= 2 and len(strings) % 2 == 0, m
                else:
                    assert "expression" in m[0] and "id" in m[0], m
        if w["type"] == "alarm":
            assert all(a.startswith("arn:aws:cloudwatch:") for a in w["properties"]["alarms"])


def test_config_and_trail_are_created_in_the_order_aws_requires():
    plan = isolated("prod")
    recorder, channel = plan.named("config-recorder"), plan.named("config-delivery-channel")
    status = plan.named("config-recorder-status")
    # PutDeliveryChannel needs a recorder; StartConfigurationRecorder needs a delivery channel.
    assert recorder.urn in channel.dependencies and channel.urn in status.dependencies
    assert recorder.urn in status.propertyDependencies["name"]
    assert plan.named("audit-policy").urn in channel.dependencies
    for rule in plan.of_type("aws:cfg/rule:Rule"):  # PutConfigRule fails without a recorder
        assert recorder.urn in rule.dependencies, rule.name
    trail = plan.named("trail")
    # CreateTrail checks the bucket policy and the CloudWatch Logs role's permissions at once.
    assert {plan.named("audit-policy").urn, plan.named("cloudtrail-logs-delivery").urn} <= set(trail.dependencies)


def test_cloudtrail_key_and_logs_role_grant_what_cloudtrail_checks():
    plan = isolated("prod")
    trail_name = plan.named("trail").props["name"]
    key = {s["Sid"]: s for s in json.loads(plan.named("audit-key").props["policy"])["Statement"]}
    enc = key["CloudTrailEncryptsLogs"]
    assert enc["Action"] == "kms:GenerateDataKey*"
    assert enc["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:123456789012:trail/*"}
    assert enc["Condition"]["StringEquals"]["aws:SourceArn"] == (
        f"arn:aws:cloudtrail:us-east-1:123456789012:trail/{trail_name}")
    # The audit bucket has an S3 Bucket Key on this key: CreateTrail needs kms:Decrypt for CloudTrail too.
    assert plan.named("audit-sse").props["rules"][0]["bucketKeyEnabled"] is True
    assert key["CloudTrailDecryptsForBucketKey"]["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert key["CloudTrailDecryptsForBucketKey"]["Action"] == "kms:Decrypt"
    [deliver] = json.loads(plan.named("cloudtrail-logs-delivery").props["policy"])["Statement"]
    group = plan.named("cloudtrail-logs").props["name"]
    assert deliver["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert deliver["Resource"] == [f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:log-stream:*"]
    assert plan.named("cloudtrail-logs-delivery").propertyDependencies["role"] == [urn(plan, "cloudtrail-logs-role")]
    assert plan.named("trail").props["cloudWatchLogsRoleArn"] == out(plan, "cloudtrail-logs-role", "arn")
