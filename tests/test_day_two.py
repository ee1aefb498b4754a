"""Day two (issue 24): what the stack says reaches what runs, and a `pulumi up` never rolls a release back.

The design (docs/delivery.md, "Day two"): every ECS service runs the stack's task definition (taskDefinition is not
ignored), so a changed environment variable, secret, role, cpu/memory or log setting reaches the tasks on the next
`pulumi up`. A delivered service's image in that task definition is read from its release parameter, which the
stack creates once and never overwrites and which the pipeline's RecordRelease action writes after a successful
deploy; Pulumi.yaml refreshes before every operation, so the `up` builds the revision with the released image.
Both halves are the flow check's `stack settings -> running tasks of S` and `pulumi up -> release of S` flows;
each reintroduced defect turns them red."""
from __future__ import annotations

import copy
import json

import yaml

from conftest import DAY_TWO_SEARCH, ROOT, everything_on, plan_for, stack_plan
from plan.flows.catalogue import build_flows

SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
PARAMETER = "aws:ssm/parameter:Parameter"


def day_two(table, service="search"):
    settings = [f for f in table if f.source == "stack settings" and f.target == f"running tasks of {service}"]
    release = [f for f in table if f.source == "pulumi up" and f.target == f"release of {service}"]
    return settings[0], (release[0] if release else None)


def mutated(mutate, stack="prod"):
    plan = copy.deepcopy(stack_plan(stack, preview=False))
    mutate(plan)
    return build_flows(plan)


def test_both_halves_hold_for_every_service_of_both_stacks():
    for stack in ("dev", "prod"):
        table = build_flows(stack_plan(stack, preview=False))
        rows = [f for f in table if f.source in ("stack settings", "pulumi up")]
        assert sum(f.source == "stack settings" for f in rows) >= 9
        assert sum(f.source == "pulumi up" for f in rows) >= 2        # the delivered services
        assert [f.to_json() for f in rows if not f.ok] == []


def test_a_settings_change_reaches_the_tasks_on_the_next_up():
    """A new environment variable and a new size change the stack's task definition, and the service follows it
    (its taskDefinition input is the new revision; nothing ignores it). The change is dev's in conftest.everything_on
    (one plan with the data, delivery and events tiers' optional features, which do not touch search's task)."""
    assert DAY_TWO_SEARCH == {"environment": {"FEATURE_FLAG": "on"}, "cpu": 1024, "memory": 2048}
    before = stack_plan("dev", preview=False)
    after = plan_for(everything_on("dev"), stack="dev", preview=False)

    def task(plan):
        return next(r for r in plan.resources if r.type == TASK and r.name == "search-task")

    def env(plan):
        return {e["name"]: e["value"] for e in json.loads(task(plan).props["containerDefinitions"])[0]["environment"]}
    assert env(after)["FEATURE_FLAG"] == "on" and task(after).props["cpu"] == "1024"
    assert task(after).props["memory"] == "2048"
    assert "FEATURE_FLAG" not in env(before) and task(before).props["cpu"] != "1024"
    assert task(before).props["containerDefinitions"] != task(after).props["containerDefinitions"]
    service = next(r for r in after.resources if r.type == SERVICE and r.name == "search-service")
    assert service.propertyDependencies["taskDefinition"] == [task(after).urn]
    assert "taskDefinition" not in service.options["ignoreChanges"]


def test_a_service_that_ignores_its_task_definition_is_red():
    """The defect of issue 24: the service ignores taskDefinition, so the stack's revision is never run."""
    def ignore(plan):
        for r in plan.resources:
            if r.type == SERVICE and r.name == "search-service":
                r.options["ignoreChanges"] = ["desiredCount", "taskDefinition"]
    settings, _ = day_two(mutated(ignore))
    assert settings.verdict.allowed is False and "ignores changes to taskDefinition" in settings.verdict.reason


def test_an_up_that_would_roll_the_release_back_is_red():
    # the stack overwrites the release parameter on every up
    def overwrite(plan):
        for r in plan.resources:
            if r.type == PARAMETER and r.name == "search-release":
                r.options["ignoreChanges"] = []
    _, release = day_two(mutated(overwrite))
    assert release.verdict.allowed is False and "overwrites the parameter" in release.verdict.reason

    # the pipeline never records what it released
    def no_record(plan):
        for r in plan.resources:
            if r.type == "aws:codepipeline/pipeline:Pipeline" and r.name == "search-pipeline":
                for stage in r.inputs["stages"]:
                    stage["actions"] = [a for a in stage["actions"] if a["name"] != "RecordRelease"]
    _, release = day_two(mutated(no_record))
    assert release.verdict.allowed is False and "no pipeline action after the ECS deploy" in release.verdict.reason

    # the task definition names the stack's own image
    def own_image(plan):
        for r in plan.resources:
            if r.type == TASK and r.name == "search-task":
                r.propertyDependencies["containerDefinitions"] = [
                    u for u in r.propertyDependencies["containerDefinitions"] if "ssm/parameter" not in u]
    _, release = day_two(mutated(own_image))
    assert release.verdict.allowed is False and "rolls the service back" in release.verdict.reason


def test_the_pipeline_records_the_release_after_the_deploy_and_the_project_refreshes_first():
    plan = stack_plan("prod", preview=False)
    pipeline = next(r for r in plan.resources if r.name == "search-pipeline")
    [deploy] = [st["actions"] for st in pipeline.props["stages"] if st["name"] == "Deploy"]
    assert [a["name"] for a in deploy] == ["DeployToEcs", "RecordRelease"] and deploy[1]["runOrder"] == 2
    assert json.loads(deploy[1]["configuration"]["EnvironmentVariables"]) == [
        {"name": "RELEASE_STEP", "value": "record", "type": "PLAINTEXT"}]
    buildspec = (ROOT / "delivery" / "buildspec.yml").read_text()
    assert 'aws ssm put-parameter --name "$RELEASE_PARAMETER"' in buildspec
    assert yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["options"] == {"refresh": "always"}
