"""Delivery tier and releases: the inputs actually registered for dev and prod (pipelines, builds, roles,
approval, notifications), blue/green services, the first deploy that converges, and the buildspec's scan gate."""
from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from components.config import load_settings
from components.config.schema import ConfigError
from conftest import (
    DEV_ALTERNATIVES,
    EVERYTHING_ON_DELIVERY,
    ROOT,
    dev_alternatives,
    everything_on,
    plan_for,
    primary,
    program_with,
)
from conftest import images_present_plan as _images_present_plan
from conftest import primary_plan as stack_plan
from plan.engine import UNKNOWN
from plan.mocks import ACCOUNT_ID
from plan.stackfile import load_stack_config, stack_file_path


def images_present_plan(stack: str = "dev"):
    """conftest's, without the DR region's instance of the tiers (tests/test_dr_tier.py tests that side)."""
    return primary(_images_present_plan(stack))

# prod requires an alert subscriber (components/config/checks.py)
ALERTS = {"events": {"alertEmails": ["oncall@example.com"]}}
PROD_BASE = {"platform": {"environment": "prod"}, **ALERTS}

PIPELINE = "aws:codepipeline/pipeline:Pipeline"
PROJECT = "aws:codebuild/project:Project"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CONNECTION = "aws:codestarconnections/connection:Connection"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SERVICE = "aws:ecs/service:Service"
TG = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET = "aws:appautoscaling/target:Target"
BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
DELIVERY = "ai-platform:tier:Delivery"
BLUE_GREEN = ("search", "personalization", "document-extraction", "conversational", "code")
ROLLING = ("format-conversion", "classification", "workflow", "quality")


def stack_config(stack: str) -> dict:
    name, path = stack_file_path(stack, None)
    return load_stack_config(name, path)[0]


def delivery(plan, token):
    return [r for r in plan.of_type(token) if DELIVERY in r.urn]


def policy_doc(resource) -> dict:
    return json.loads(resource.props["policy"])


def statements(resource) -> dict:
    return {st["Sid"]: st for st in policy_doc(resource)["Statement"]}


def repo_arn(stack: str, svc: str) -> str:
    return f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/ai-platform/{stack}/{svc}"


def s3_source_plan():
    """dev with pipelines sourced from S3 for search and quality (conftest's everything_on: the plan the data
    tier's dev tests read)."""
    assert EVERYTHING_ON_DELIVERY == {"enabled": True, "source": "s3", "services": ["search", "quality"]}
    return plan_for(everything_on("dev"), stack="dev", preview=False)


# --- pipelines, builds, stages --------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_enabled_service_gets_a_build_and_a_pipeline(stack):
    plan = stack_plan(stack, False)
    pipelines = {r.name: r.props for r in delivery(plan, PIPELINE)}
    projects = {r.name: r.props for r in delivery(plan, PROJECT)}
    services = {s.name for s in load_settings(
        {"platform": {"environment": stack}, **ALERTS}, stack=stack, region="us-east-1").application.catalogue()}
    assert set(pipelines) == {f"{s}-pipeline" for s in services}
    assert set(projects) == {f"{s}-build" for s in services}
    pipe = pipelines["search-pipeline"]
    assert pipe["pipelineType"] == "V2"
    assert pipe["artifactStores"][0]["encryptionKey"]["type"] == "KMS"
    source = pipe["stages"][0]["actions"][0]
    assert source["provider"] == "CodeStarSourceConnection"
    assert source["configuration"]["FullRepositoryId"] == "example-org/ai-services"
    assert pipe["triggers"][0]["gitConfiguration"]["pushes"][0]["filePaths"]["includes"] == ["services/search/**"]
    deploy = next(st for st in pipe["stages"] if st["name"] == "Deploy")["actions"][0]
    assert (deploy["provider"], deploy["configuration"]["ServiceName"]) == ("ECS", "search")
    assert deploy["configuration"]["FileName"] == "imagedefinitions.json"
    build = projects["search-build"]
    assert build["environment"]["privilegedMode"] is True
    env = {v["name"]: v["value"] for v in build["environment"]["environmentVariables"]}
    assert env["REPOSITORY_URI"].endswith(f"/ai-platform/{stack}/search")
    assert env["SCAN_FAIL_SEVERITY"] == {"dev": "CRITICAL", "prod": "HIGH"}[stack]
    # The buildspec is this repository's file, given to the project as content.
    assert build["source"]["buildspec"] == (ROOT / "delivery/buildspec.yml").read_text()
    assert build["logsConfig"]["cloudwatchLogs"]["groupName"] == f"/ai-platform/{stack}/codebuild/search"


def test_prod_has_the_approval_stage_before_deploy_and_dev_has_none():
    stages = {stack: [s["name"] for s in next(r for r in delivery(stack_plan(stack, False), PIPELINE)
                                              if r.name == "conversational-pipeline").props["stages"]]
              for stack in ("dev", "prod")}
    assert stages["prod"] == ["Source", "Build", "Approve", "Deploy", "Unpark"]
    assert stages["dev"] == ["Source", "Build", "Deploy", "Unpark"]
    approve = next(r for r in delivery(stack_plan("prod", False), PIPELINE)
                   if r.name == "conversational-pipeline").props["stages"][2]["actions"][0]
    assert (approve["category"], approve["provider"]) == ("Approval", "Manual")


def test_connection_is_created_once_and_used_only_by_the_pipelines():
    plan = stack_plan("prod", False)
    (connection,) = delivery(plan, CONNECTION)
    assert connection.props["providerType"] == "GitHub"
    assert len(connection.props["name"]) <= 32
    for policy in delivery(plan, ROLE_POLICY):
        st = statements(policy)
        if policy.name.endswith("-pipeline-policy"):
            # by the one repository (the connection's own ARN ends in a random id, unknown in a preview)
            assert st["UseConnection"]["Condition"] == {
                "StringEquals": {"codestar-connections:FullRepositoryId": "example-org/ai-services"}}
            assert st["UseCodeConnection"]["Resource"] == f"arn:aws:codeconnections:us-east-1:{ACCOUNT_ID}:connection/*"
        else:
            assert "UseConnection" not in st


def test_s3_source_uses_the_artifacts_bucket_and_no_connection():
    plan = s3_source_plan()
    assert delivery(plan, CONNECTION) == []
    pipes = {r.name: r.props for r in delivery(plan, PIPELINE)}
    assert set(pipes) == {"search-pipeline", "quality-pipeline"}
    source = pipes["search-pipeline"]["stages"][0]["actions"][0]
    assert source["provider"] == "S3"
    assert source["configuration"]["S3ObjectKey"] == "source/search.zip"
    assert source["configuration"]["S3Bucket"].startswith("ai-platform-dev-pipeline-artifacts-")
    assert "triggers" not in pipes["search-pipeline"]
    # No service gives up its task definition (day two: stack settings reach the tasks); only the delivered
    # services take their image from the release parameter their pipeline records.
    ignored = {r.name: r.options["ignoreChanges"] for r in plan.of_type(SERVICE)}
    assert "taskDefinition" not in ignored["search-service"] and "taskDefinition" not in ignored["workflow-service"]
    releases = {r.name for r in plan.resources if r.type == "aws:ssm/parameter:Parameter" and r.name.endswith("-release")}
    assert releases == {"search-release", "quality-release"}


# --- least privilege ---------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_build_role_pushes_only_to_its_own_repository(stack):
    plan = stack_plan(stack, False)
    policies = {r.name: r for r in delivery(plan, ROLE_POLICY) if r.name.endswith("-build-policy")}
    assert policies
    all_repos = {repo_arn(stack, r.name[len("repo-"):]) for r in plan.of_type("aws:ecr/repository:Repository")}
    for name, policy in policies.items():
        svc = name[: -len("-build-policy")]
        st = statements(policy)
        assert st["PushOwnRepository"]["Resource"] == repo_arn(stack, svc)
        assert "ecr:PutImage" in st["PushOwnRepository"]["Action"]
        assert st["EcrLogin"] == {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
                                  "Resource": "*"}
        # No statement other than the login grants an ECR action, and no other repository is named at all.
        for sid, s in st.items():
            if sid not in ("PushOwnRepository", "EcrLogin"):
                assert not any(a.startswith("ecr:") for a in s["Action"]), sid
        text = policy.props["policy"]
        assert [r for r in all_repos if r in text] == [repo_arn(stack, svc)]


def test_pipeline_role_passes_only_the_task_roles_to_ecs_tasks_and_updates_only_its_service():
    plan = stack_plan("prod", False)
    names = {r.name: r.props["tags"]["Name"] for r in plan.of_type(ROLE)}
    checked = 0
    for policy in delivery(plan, ROLE_POLICY):
        if not policy.name.endswith("-pipeline-policy"):
            continue
        svc = policy.name[: -len("-pipeline-policy")]
        # the service's own two roles (each service has its own task and execution role), no other service's
        task_roles = {names[f"{svc}-task"], names[f"{svc}-execution"]}
        checked += 1
        st = statements(policy)
        # exactly the roles its task definition names, by their Name tags, to ECS tasks only
        condition = st["PassTaskRoles"]["Condition"]["StringEquals"]
        assert condition["iam:PassedToService"] == "ecs-tasks.amazonaws.com"
        assert set(condition["iam:ResourceTag/Name"]) == task_roles and len(condition) == 2
        assert st["PassTaskRoles"]["Resource"] == f"arn:aws:iam::{ACCOUNT_ID}:role/*"
        assert st["DeployOwnService"]["Resource"] == \
            f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:service/ai-platform-prod-services/{svc}"
        assert st["OwnBuild"]["Resource"].endswith(f":project/ai-platform-prod-{svc}")
        assert not any("iam:PassRole" in s["Action"] for sid, s in st.items() if sid != "PassTaskRoles")
    assert checked >= 5


def test_build_and_pipeline_roles_trust_only_their_service_in_this_account():
    plan = stack_plan("prod", False)
    roles = {r.name: json.loads(r.props["assumeRolePolicy"])["Statement"][0] for r in delivery(plan, ROLE)}
    assert roles["search-build-role"]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert roles["search-pipeline-role"]["Principal"] == {"Service": "codepipeline.amazonaws.com"}
    for st in roles.values():
        assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


# --- storage and logs --------------------------------------------------------------------------------------

def test_artifacts_bucket_is_kms_encrypted_versioned_and_tls_only_and_build_logs_are_encrypted():
    plan = stack_plan("prod", False)
    data_key = next(r for r in plan.of_type("aws:kms/key:Key") if r.name == "data-key").outputs["arn"]
    (bucket,) = delivery(plan, BUCKET)
    sse = next(r for r in delivery(plan, SSE))
    rule = sse.props["rules"][0]["applyServerSideEncryptionByDefault"]
    assert (rule["sseAlgorithm"], rule["kmsMasterKeyId"]) == ("aws:kms", data_key)
    assert delivery(plan, VERSIONING)[0].props["versioningConfiguration"]["status"] == "Enabled"
    deny = policy_doc(delivery(plan, BUCKET_POLICY)[0])["Statement"][0]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    logs_key = next(r for r in plan.of_type("aws:kms/key:Key") if r.name == "logs-key").outputs["arn"]
    for group in delivery(plan, LOG_GROUP):
        if group.name == "unpark-logs":    # the unpark function's: the platform's function convention
            assert group.props["kmsKeyId"] == logs_key
            continue
        assert (group.props["kmsKeyId"], group.props["retentionInDays"]) == (logs_key, 365)
    assert bucket.props["bucket"].startswith("ai-platform-prod-pipeline-artifacts-")


# --- notifications -------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pipeline_failures_reach_the_warnings_topic_whose_policy_admits_eventbridge(stack):
    plan = stack_plan(stack, False)
    (rule,) = delivery(plan, EVENT_RULE)
    (target,) = delivery(plan, EVENT_TARGET)
    pattern = json.loads(rule.props["eventPattern"])
    names = sorted(r.props["name"] for r in delivery(plan, PIPELINE))
    failed = pattern if "detail" in pattern else next(p for p in pattern["$or"] if "Execution State Change" in
                                                      p["detail-type"][0] and "Pipeline" in p["detail-type"][0])
    assert {k: v for k, v in failed["detail"].items() if k != "execution-trigger"} == {
        "pipeline": names, "state": ["FAILED"]}
    # Failures and approvals inform (the warnings topic); they never page (issue 30: docs/paging.md).
    warnings = plan.exports["warningsTopicArn"]
    assert target.props["arn"] == warnings and target.props["rule"] == rule.props["name"]
    # The publisher is admitted: the warnings topic policy allows events.amazonaws.com from this account.
    topic_policy = next(r for r in plan.of_type(TOPIC_POLICY) if r.name == "topic-warnings-policy")
    st = statements(topic_policy)["EventBridgePublish"]
    assert st["Principal"] == {"Service": "events.amazonaws.com"} and st["Action"] == "sns:Publish"
    # prod also announces a release waiting for approval; dev has no approval to announce.
    assert ("$or" in pattern) == (stack == "prod")


# --- blue/green releases ----------------------------------------------------------------------------

def test_prod_blue_green_service_has_second_group_test_rule_strategy_and_alarm_rollback():
    plan = stack_plan("prod", False)
    by_name = {r.name: r for r in plan.resources}
    for svc in BLUE_GREEN:
        service = by_name[f"{svc}-service"].props
        groups = {r.outputs["arn"]: r for r in plan.of_type(TG) if r.props["tags"].get("Service") == svc}
        assert len(groups) == 2
        (lb,) = service["loadBalancers"]
        blue = groups.pop(lb["targetGroupArn"])
        (green,) = groups.values()
        prod_rule, test_rule = by_name[f"{svc}-rule"], by_name[f"{svc}-test-rule"]
        assert service["deploymentConfiguration"] == {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "10"}
        advanced = lb["advancedConfiguration"]
        assert advanced["alternateTargetGroupArn"] == green.outputs["arn"]
        assert advanced["productionListenerRule"] == prod_rule.outputs["arn"]
        assert advanced["testListenerRule"] == test_rule.outputs["arn"]
        role = by_name[f"{svc}-ecs-lb-role"]
        assert advanced["roleArn"] == role.outputs["arn"]
        trust = json.loads(role.props["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
        assert by_name[f"{svc}-ecs-lb-policy"].props["policyArn"] == \
            "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
        # Test traffic: same paths plus the header, evaluated before the production rule.
        conditions = test_rule.props["conditions"]
        assert {"httpHeader": {"httpHeaderName": "X-Release-Test", "values": ["green"]}} in conditions
        assert conditions[0] == prod_rule.props["conditions"][0]
        assert test_rule.props["priority"] < prod_rule.props["priority"]
        # Production starts 100/0 on blue; ECS owns both rules' weights afterwards.
        weights = {g["arn"]: g["weight"] for g in prod_rule.props["actions"][0]["forward"]["targetGroups"]}
        assert weights == {blue.outputs["arn"]: 100, green.outputs["arn"]: 0}
        assert prod_rule.options["ignoreChanges"] == test_rule.options["ignoreChanges"] == ["actions"]
        # Automatic rollback on the service's own release alarms (5xx of either group).
        alarms = [by_name[f"{svc}-release-{color}"].props for color in ("blue", "green")]
        assert service["alarms"] == {"alarmNames": [a["name"] for a in alarms], "enable": True, "rollback": True}
        assert [a["dimensions"]["TargetGroup"] for a in alarms] == [
            blue.outputs["arnSuffix"], green.outputs["arnSuffix"]]
        assert all((a["metricName"], a["statistic"], a["period"]) == ("HTTPCode_Target_5XX_Count", "Sum", 60)
                   for a in alarms)
    for svc in ROLLING:
        assert "deploymentConfiguration" not in by_name[f"{svc}-service"].props
        assert len([r for r in plan.of_type(TG) if r.props["tags"].get("Service") == svc]) == 1
        assert f"{svc}-test-rule" not in by_name


def test_dev_deploys_rolling_everywhere():
    plan = stack_plan("dev", False)
    assert len(plan.of_type(TG)) == len(plan.of_type(SERVICE))
    assert not [r for r in plan.of_type(RULE) if r.name.endswith("-test-rule")]
    assert all("deploymentConfiguration" not in r.props and "alarms" not in r.props for r in plan.of_type(SERVICE))


def test_canary_and_linear_are_values_only():
    app = {"services": {"search": {"deployment": "canary"}, "quality": {"deployment": "linear", "testPriority": 6000}}}
    s = load_settings({"platform": {"environment": "dev"}, "application": app}, stack="dev", region="us-east-1")
    resolved = {x.name: x for x in s.application.catalogue()}
    assert (resolved["search"].deployment, resolved["search"].test_priority) == ("canary", 7003)
    assert (resolved["quality"].deployment, resolved["quality"].test_priority) == ("linear", 6000)
    assert resolved["workflow"].deployment == "rolling" and resolved["workflow"].test_priority is None


@pytest.mark.parametrize("application, key", [
    ({"services": {"search": {"deployment": "blue_green", "testPriority": 9000}}}, "services.search.testPriority"),
    ({"services": {"search": {"deployment": "blue_green", "testPriority": 8000}}}, "services.search.testPriority"),
    ({"services": {"search": {"deployment": "green"}}}, "services.search.deployment"),
    ({"releases": {"blueGreenServices": ["nope"]}}, "releases.blueGreenServices[0]"),
])
def test_bad_release_settings_name_the_key(application, key):
    with pytest.raises(ConfigError) as err:
        load_settings({**PROD_BASE, "application": application}, stack="prod",
                      region="us-east-1")
    assert err.value.path == f"ai-platform:application.{key}"


# --- first deploy converges ------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_fresh_stack_parks_services_without_an_image_instead_of_failing_them(stack):
    """No image in any repository yet: every ECR-sourced service is created with 0 tasks and an autoscaling
    minimum of 0 (nothing to pull, no circuit breaker); the stack keeps the task definition (tests/test_day_two.py)."""
    plan = stack_plan(stack, False)
    services = plan.of_type(SERVICE)
    assert len(services) == 9
    for service in services:
        assert service.props["desiredCount"] == 0, service.name
        assert service.options["ignoreChanges"] == ["desiredCount"]
    assert all(t.props["minCapacity"] == 0 for t in plan.of_type(TARGET))


def test_in_a_preview_of_a_new_stack_the_counts_are_unknown_not_wrong():
    plan = stack_plan("prod", True)
    assert all(s.props.get("desiredCount", UNKNOWN) == UNKNOWN for s in plan.of_type(SERVICE))


def test_after_the_first_release_the_next_up_restores_the_configured_counts():
    plan = images_present_plan()
    counts = {r.name: r.props["desiredCount"] for r in plan.of_type(SERVICE)}
    assert set(counts.values()) == {1}
    # dev's services carry OffHours=true: their autoscaling floor stays 0 so the scheduler can stop them at
    # night (issue 12); parking no longer holds it there, off-hours does.
    off_hours = {r.name for r in plan.of_type(SERVICE) if (r.props.get("tags") or {}).get("OffHours") == "true"}
    assert len(off_hours) == len(counts)
    assert {t.props["minCapacity"] for t in plan.of_type(TARGET)} == {0}


def test_an_explicit_image_is_never_parked():
    plan = dev_alternatives()   # search's image is explicit (public ECR), the pipelines are off
    assert DEV_ALTERNATIVES["ai-platform:application"]["services"] == {
        "search": {"image": "public.ecr.aws/nginx/nginx:1.27"}} and not DEV_ALTERNATIVES["ai-platform:delivery"]["enabled"]
    counts = {r.name: r.props["desiredCount"] for r in plan.of_type(SERVICE)}
    assert counts["search-service"] == 1 and counts["quality-service"] == 0
    assert all(r.options["ignoreChanges"] == ["desiredCount"] for r in plan.of_type(SERVICE))
    assert [r for r in plan.resources if DELIVERY in r.urn] == []


# --- settings ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, key", [
    ({"enabled": True}, "repository"),
    ({"enabled": True, "repository": "not a repo"}, "repository"),
    ({"enabled": True, "source": "s3", "scanFailSeverity": "SEVERE"}, "scanFailSeverity"),
    ({"enabled": True, "source": "s3", "environmentType": "ARM_CONTAINER"}, "buildImage"),
    ({"enabled": True, "source": "s3", "buildPath": "services"}, "buildPath"),
    ({"enabled": True, "source": "s3", "deployTimeoutMinutes": 90}, "deployTimeoutMinutes"),
])
def test_bad_delivery_settings_name_the_key(raw, key):
    with pytest.raises(ConfigError) as err:
        load_settings({**PROD_BASE, "delivery": raw}, stack="prod", region="us-east-1")
    assert err.value.path == f"ai-platform:delivery.{key}"


def test_cross_section_checks_name_the_key():
    with pytest.raises(ConfigError) as err:
        load_settings({"platform": {"environment": "dev"},
                       "application": {"services": {"code": {"enabled": False}}},
                       "delivery": {"enabled": True, "source": "s3", "services": ["search", "code"]}},
                      stack="dev", region="us-east-1")
    assert err.value.path == "ai-platform:delivery.services[1]"
    s = load_settings({"platform": {"environment": "dev"}, "delivery": {"enabled": True, "source": "s3"}},
                      stack="dev", region="us-east-1")
    enabled = [x.name for x in s.application.catalogue()]
    with pytest.raises(ConfigError) as err:
        s.delivery.check_against("ai-platform:delivery", enabled, "ARM64")
    assert err.value.path == "ai-platform:delivery.environmentType"
    assert load_settings({"platform": {"environment": "dev"}}, stack="dev",
                         region="us-east-1").delivery.delivered(enabled) == []


def test_the_deploy_timeout_must_cover_the_longest_bake():
    raw = {**PROD_BASE, "application": {"releases": {"bakeTimeMinutes": 55}},
           "delivery": {"enabled": True, "source": "s3"}}
    with pytest.raises(ConfigError) as err:
        load_settings(raw, stack="prod", region="us-east-1")
    assert err.value.path == "ai-platform:delivery.deployTimeoutMinutes"
    raw["application"]["releases"]["bakeTimeMinutes"] = 50   # 50 + 10 <= 60
    assert load_settings(raw, stack="prod", region="us-east-1").application.longest_release_minutes() == 50


def test_delivery_config_error_is_one_line_from_the_program():
    config = copy.deepcopy(stack_config("prod"))
    config["ai-platform:delivery"] = {"enabled": True, "services": ["searhc"], "source": "s3"}
    from plan.engine import PlanError
    with pytest.raises(PlanError) as err:
        program_with(config, stack="prod", preview=True)
    assert "ai-platform:delivery.services[0]" in str(err.value) and "\n" not in str(err.value)


# --- the buildspec's scan gate, run for real with a stand-in `aws` ------------------------------------------

def run_post_build(tmp_path: Path, counts: dict | None, severity: str,
                   statuses: tuple = ("COMPLETE",), wait: str = "60") -> subprocess.CompletedProcess:
    """The post_build phase with a stand-in `aws`: the scan status answers `statuses` in turn (the last repeats),
    the findings query `counts`. Polls without pausing (SCAN_POLL_SECONDS=0: the stand-in's answers change per
    call, not with time; a sleep per poll was ~3 s of a worker's wall time), so a gate that never ends is cut
    off by the timeout instead of by its wait."""
    spec = yaml.safe_load((ROOT / "delivery/buildspec.yml").read_text())
    fake = tmp_path / "aws"
    (tmp_path / "statuses").write_text("\n".join(statuses) + "\n")
    fake.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        case "$2 $*" in
          *imageScanStatus.status*)
            S="$(head -n 1 {tmp_path}/statuses)"
            if [ "$(wc -l < {tmp_path}/statuses)" -gt 1 ]; then sed -i 1d {tmp_path}/statuses; fi
            echo "$S" ;;
          describe-image-scan-findings*) echo '{json.dumps(counts)}' ;;
          *) exit 3 ;;
        esac
        """))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    script = "\n".join(spec["phases"]["post_build"]["commands"])
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "CODEBUILD_BUILD_SUCCEEDING": "1",
           "REPOSITORY_NAME": "ai-platform/prod/search", "TAG": "4f2c9e1a7b3d", "CONTAINER_NAME": "search",
           "REPOSITORY_URI": f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/ai-platform/prod/search",
           "SCAN_FAIL_SEVERITY": severity, "SCAN_POLL_SECONDS": "0", "SCAN_WAIT_SECONDS": wait}
    return subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=False, timeout=120)


@pytest.mark.parametrize("counts, severity, passes", [
    ({"HIGH": 1, "LOW": 4}, "HIGH", False),
    ({"CRITICAL": 1}, "HIGH", False),
    ({"MEDIUM": 3, "LOW": 4}, "HIGH", True),
    ({"HIGH": 2}, "CRITICAL", True),
    (None, "HIGH", True),                 # no findings at all
    ({"CRITICAL": 9}, "NONE", True),
])
def test_scan_findings_at_or_above_the_severity_fail_the_build(tmp_path, counts, severity, passes):
    result = run_post_build(tmp_path, counts, severity)
    assert (result.returncode == 0) == passes, result.stdout + result.stderr
    written = (tmp_path / "imagedefinitions.json").exists()
    assert written == passes
    if passes:
        assert json.loads((tmp_path / "imagedefinitions.json").read_text()) == [
            {"name": "search",
             "imageUri": f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/ai-platform/prod/search:4f2c9e1a7b3d"}]
    else:
        assert "release blocked" in result.stdout


@pytest.mark.parametrize("statuses, passes, says", [
    (("COMPLETE",), True, "scan of 4f2c9e1a7b3d: COMPLETE"),                 # basic scanning
    (("PENDING", "IN_PROGRESS", "ACTIVE"), True, "scan of 4f2c9e1a7b3d: ACTIVE"),   # enhanced (Inspector): never COMPLETE
    (("IN_PROGRESS", "FAILED"), False, "the scan of 4f2c9e1a7b3d ended FAILED"),
    (("UNSUPPORTED_IMAGE",), False, "ended UNSUPPORTED_IMAGE"),
])
def test_the_scan_gate_works_with_basic_and_enhanced_scanning(tmp_path, statuses, passes, says, monkeypatch):
    """Issue 30: `aws ecr wait image-scan-complete` waits for COMPLETE, which enhanced scanning never reports."""
    spec = yaml.safe_load((ROOT / "delivery/buildspec.yml").read_text())
    assert "wait image-scan-complete" not in "\n".join(spec["phases"]["post_build"]["commands"])
    result = run_post_build(tmp_path, {"LOW": 1}, "HIGH", statuses)
    assert (result.returncode == 0) == passes and says in result.stdout, result.stdout + result.stderr


def test_the_scan_gate_gives_up_with_the_status_it_saw(tmp_path):
    result = run_post_build(tmp_path, None, "HIGH", ("IN_PROGRESS",), wait="0")
    assert result.returncode != 0 and "no scan result for 4f2c9e1a7b3d after 0s (status IN_PROGRESS)" in result.stdout


def test_the_buildspec_artifact_is_what_the_deploy_action_reads():
    spec = yaml.safe_load((ROOT / "delivery/buildspec.yml").read_text())
    assert spec["artifacts"]["files"] == ["imagedefinitions.json"]
    assert spec["version"] == 0.2


def test_every_delivery_iam_document_is_known_in_a_new_stack_preview():
    """ARNs from names and the account id, the data key by alias, roles by tag: the pack can judge them."""
    plan = stack_plan("prod", True)
    docs = [d for d in delivery(plan, ROLE_POLICY) if d.name != "unpark-policy"]   # tests/test_fn_unpark.py
    assert len(docs) == 18
    for policy in docs:
        # issue 32: the key only through S3 and only for the artifacts bucket's objects, not by its alias alone
        bucket_arn = statements(policy).get("PipelineArtifacts", statements(policy).get("Artifacts"))["Resource"]
        bucket_arn = (bucket_arn if isinstance(bucket_arn, str) else bucket_arn[0]).removesuffix("/*")
        assert statements(policy)["ArtifactsKey"]["Condition"] == {
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/ai-platform-prod-data"]},
            "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": bucket_arn + "*"}}


# --- issue 30: no alert storm on a first deploy -------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_runs_pipeline_creation_starts_are_not_announced_later_failures_are(stack):
    """A new stack's pipelines each start a run on creation that fails (the connection is PENDING): nine alerts
    before anyone can act. The rule (evaluated by moto's EventBridge pattern matcher) skips those runs only."""
    from moto.events.models import EventPattern
    plan = stack_plan(stack, False)
    (rule,) = delivery(plan, EVENT_RULE)
    pattern = EventPattern.load(rule.props["eventPattern"])
    name = sorted(r.props["name"] for r in delivery(plan, PIPELINE))[0]

    def failed(trigger):
        detail = {"pipeline": name, "state": "FAILED", "execution-id": "x"}
        if trigger:
            detail["execution-trigger"] = {"trigger-type": trigger, "trigger-detail": "d"}
        return {"source": "aws.codepipeline", "detail-type": "CodePipeline Pipeline Execution State Change",
                "detail": detail}
    assert not pattern.matches_event(failed("CreatePipeline"))
    for trigger in ("WebhookV2", "StartPipelineExecution", "PutActionRevision", None):
        assert pattern.matches_event(failed(trigger)), trigger
