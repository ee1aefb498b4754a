"""The platform design's alarm table, held against the prod plan (issue 30), and who each severity tells.

The design: CPU > 90% for 2 periods -> scale; memory > 85% -> alert; unhealthy targets > 0 -> immediate (one
one-minute period); zero healthy hosts -> critical; 5xx > 10 in 5 minutes -> critical (API Gateway and ALB
combined); response time > 3 s -> warning. Critical pages (the alerts topic), warning informs (the warnings topic):
two topics with their own subscribers. docs/paging.md is the matrix in prose.
"""
from __future__ import annotations

import functools

import pytest

from conftest import images_present_plan, primary
from conftest import primary_plan as stack_plan

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


@functools.cache
def prod():
    return stack_plan("prod", preview=False)


@functools.cache
def released():
    """prod after its first release: no service parked."""
    return primary(images_present_plan("prod"))


def alarms(plan) -> dict:
    return {r.name.removeprefix("alarm-"): r.props for r in plan.of_type(ALARM) if "tier:Observability" in r.urn}


def topics(plan) -> dict:
    return {r.props["tags"]["Purpose"]: r.outputs["arn"] for r in plan.of_type(TOPIC) if "tier:Events" in r.urn
            and "tier:Events" in r.urn and "dr-events" not in r.urn}


def told(plan, props) -> str:
    """Who an alarm tells: "alerts" or "warnings" (both its ALARM and its OK actions)."""
    by_arn = {v: k for k, v in topics(plan).items()}
    assert props["alarmActions"] == props["okActions"] and len(props["alarmActions"]) == 1, props["name"]
    return by_arn[props["alarmActions"][0]]


def services(plan) -> list[str]:
    return sorted(r.name.removesuffix("-service") for r in plan.of_type("aws:ecs/service:Service"))


# --- the table ----------------------------------------------------------------------------------------
def test_cpu_over_90_for_two_periods_scales_and_informs():
    plan = prod()
    a = alarms(plan)
    policies = [r.props for r in plan.of_type("aws:appautoscaling/policy:Policy")]
    for svc in services(plan):
        cpu = a[f"ecs-{svc}-cpu"]
        assert (cpu["metricName"], cpu["comparisonOperator"], cpu["threshold"]) == (
            "CPUUtilization", "GreaterThanThreshold", 90), svc
        assert (cpu["evaluationPeriods"], cpu["datapointsToAlarm"]) == (2, 2), svc
        assert told(plan, cpu) == "warnings"
    # "scale": every service tracks CPU with a scaling policy (the application tier's)
    tracked = [p for p in policies if p.get("targetTrackingScalingPolicyConfiguration", {}).get(
        "predefinedMetricSpecification", {}).get("predefinedMetricType") == "ECSServiceAverageCPUUtilization"]
    assert tracked and all(p["targetTrackingScalingPolicyConfiguration"]["targetValue"] < 90 for p in tracked)
    assert len(tracked) == len(services(plan))


def test_memory_over_85_alerts():
    plan = prod()
    a = alarms(plan)
    for svc in services(plan):
        m = a[f"ecs-{svc}-memory"]
        assert (m["metricName"], m["comparisonOperator"], m["threshold"], m["evaluationPeriods"]) == (
            "MemoryUtilization", "GreaterThanThreshold", 85, 1), svc
        assert told(plan, m) == "warnings"


def test_unhealthy_targets_page_within_one_minute_for_every_target_group():
    plan = prod()
    a = alarms(plan)
    groups = {r.outputs["arnSuffix"] for r in plan.of_type("aws:lb/targetGroup:TargetGroup")}
    unhealthy = {k: v for k, v in a.items() if v.get("metricName") == "UnHealthyHostCount"}
    assert {v["dimensions"]["TargetGroup"] for v in unhealthy.values()} == groups
    for k, v in unhealthy.items():
        assert (v["comparisonOperator"], v["threshold"], v["period"], v["evaluationPeriods"]) == (
            "GreaterThanThreshold", 0, 60, 1), k
        assert told(plan, v) == "alerts"


@pytest.mark.parametrize("after_release", [False, True])
def test_zero_healthy_hosts_page_once_the_service_runs(after_release):
    """Tasks that never register page; a parked service (no image yet, 0 tasks) does not."""
    plan = released() if after_release else prod()
    a = alarms(plan)
    for svc in services(plan):
        z = a[f"svc-{svc}-no-healthy-hosts"]
        metrics = [q["metric"] for q in z["metricQueries"] if "metric" in q]
        assert {m["metricName"] for m in metrics} == {"HealthyHostCount"} and all(m["period"] == 60 for m in metrics)
        assert (z["comparisonOperator"], z["threshold"], z["evaluationPeriods"], z["treatMissingData"]) == (
            "LessThanThreshold", 1, 1, "breaching"), svc
        assert told(plan, z) == "alerts"
        assert z["actionsEnabled"] is after_release, svc


def test_5xx_over_10_in_5_minutes_api_and_alb_combined_is_critical():
    plan = prod()
    five = [v for v in alarms(plan).values() if "metricQueries" in v and any(
        q.get("metric", {}).get("metricName") == "5XXError" for q in v["metricQueries"])]
    assert len(five) == 1
    [v] = five
    metrics = {q["metric"]["namespace"] + ":" + q["metric"]["metricName"]: q["metric"]
               for q in v["metricQueries"] if "metric" in q}
    assert set(metrics) == {"AWS/ApiGateway:5XXError", "AWS/ApplicationELB:HTTPCode_ELB_5XX_Count",
                            "AWS/ApplicationELB:HTTPCode_Target_5XX_Count"}
    assert all((m["period"], m["stat"]) == (300, "Sum") for m in metrics.values())
    [expression] = [q["expression"] for q in v["metricQueries"] if q.get("returnData")]
    assert expression == "MAX([FILL(api, 0), FILL(elb, 0) + FILL(tgt, 0)])"
    assert (v["comparisonOperator"], v["threshold"], v["evaluationPeriods"]) == ("GreaterThanThreshold", 10, 1)
    assert told(plan, v) == "alerts"
    # No ALB 5xx alarm of its own splits the count any more.
    assert not [k for k, x in alarms(plan).items() if x.get("metricName", "").startswith("HTTPCode_")]
    # The API's own health alarm (Route 53's) pages too.
    [health] = [r.props for r in plan.of_type(ALARM) if r.name == "api-health-alarm" and "dr-" not in r.urn]
    assert told(plan, health) == "alerts"


def test_response_time_over_3_seconds_warns():
    plan = prod()
    p95 = alarms(plan)["alb-latency-p95"]
    assert (p95["metricName"], p95["extendedStatistic"], p95["comparisonOperator"], p95["threshold"]) == (
        "TargetResponseTime", "p95", "GreaterThanThreshold", 3)
    assert told(plan, p95) == "warnings"


# --- two severities, two topics, their own subscribers -------------------------------------------------
def test_critical_and_warning_are_separate_topics_each_with_its_own_subscribers():
    plan = prod()
    t = topics(plan)
    assert set(t) >= {"alerts", "warnings"} and t["alerts"] != t["warnings"]
    subs = {}
    for r in plan.of_type(SUBSCRIPTION):
        if "tier:Events" in r.urn and "dr-events" not in r.urn and r.props["protocol"] == "email":
            subs.setdefault(r.props["topic"], set()).add(r.props["endpoint"])
    assert subs[t["alerts"]] == {"platform-oncall@example.com"}
    assert subs[t["warnings"]] == {"platform-team@example.com"}


def test_budget_pipelines_and_training_inform_and_never_page():
    plan = prod()
    t = topics(plan)
    [budget] = plan.of_type("aws:budgets/budget:Budget")
    assert {a for n in budget.props["notifications"] for a in n["subscriberSnsTopicArns"]} == {t["warnings"]}
    [pipeline] = [r for r in plan.of_type("aws:cloudwatch/eventTarget:EventTarget") if r.name == "pipeline-events-alerts"]
    assert pipeline.props["arn"] == t["warnings"]
    [training] = [r for r in plan.of_type(ALARM) if r.name == "training-failed-alarm"]
    assert told(plan, training.props) == "warnings"


def test_every_alarm_that_notifies_has_a_severity_and_tells_that_severitys_topic():
    """The class: no alarm notifies without a severity, none notifies the other severity's topic."""
    plan = prod()
    expected = {"critical": "alerts", "warning": "warnings"}
    for r in plan.of_type(ALARM):
        if "dr-" in r.urn or not r.props.get("alarmActions"):
            continue
        assert told(plan, r.props) == expected[r.props["tags"]["Severity"]], r.name


def test_every_notifying_alarm_in_both_regions_names_its_severity_and_tells_that_topic():
    """The DR region (pilot-light) too: its own alerts and warnings topics, by name."""
    from conftest import stack_plan as whole_plan  # both regions (primary_plan leaves the DR instance out)
    plan = whole_plan("prod", False)
    suffix = {"critical": "-alerts", "warning": "-warnings"}
    dr_checked = 0
    for r in plan.of_type(ALARM):
        actions = r.props.get("alarmActions") or []
        if not actions:
            continue
        severity = r.props["tags"].get("Severity")
        assert severity in suffix, r.name
        assert all(a.endswith(suffix[severity]) for a in actions), (r.name, actions)
        dr_checked += ":dr:" in r.urn
    assert dr_checked >= 3   # the DR region's replica-lag, DR ALB 5xx, API health and DLQ alarms
