"""The offline engine: what it records, how it shows a preview's unknowns, its exit codes and JSON shape."""
from __future__ import annotations

import json
import subprocess
import sys

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx
from pulumi_policy import EnforcementLevel, StackValidationPolicy

from conftest import ROOT
from conftest import primary_plan as stack_plan
from plan.analyze import analyze, build_servicer, configure
from plan.engine import UNKNOWN, run_program

CONFIG = {"aws:region": "us-east-1"}


def vpc_and_flow_log():
    vpc = awsx.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", number_of_availability_zones=2)
    aws.ec2.FlowLog("fl", vpc_id=vpc.vpc_id, traffic_type="ALL", log_destination="arn:aws:logs:x",
                    opts=pulumi.ResourceOptions(protect=True, ignore_changes=["tags"]))


def test_awsx_outputs_are_synthesised_not_echoed():
    plan = run_program(vpc_and_flow_log, config=CONFIG, preview=False)
    fl = plan.named("fl")
    assert fl.props["vpcId"].startswith("vpc-")
    vpc = plan.named("vpc")
    assert vpc.remote and not vpc.custom
    assert "vpcId" not in vpc.inputs  # the component's inputs are not its outputs
    assert len(vpc.outputs["privateSubnetIds"]) == 2 and all(s.startswith("subnet-") for s in vpc.outputs["publicSubnetIds"])


def test_preview_shows_computed_outputs_as_unknown_like_a_new_stack():
    plan = run_program(vpc_and_flow_log, config=CONFIG, preview=True)
    fl = plan.named("fl")
    assert fl.inputs["vpcId"] == UNKNOWN
    assert fl.propertyDependencies["vpcId"] == [plan.named("vpc").urn]


def test_preview_leaves_resource_ids_unknown_downstream():
    plan = stack_plan("prod", True)
    rule = plan.named("app-in-lb")
    assert rule.inputs["securityGroupId"] == UNKNOWN and rule.inputs["referencedSecurityGroupId"] == UNKNOWN
    known = stack_plan("prod", False).named("app-in-lb")
    assert known.inputs["securityGroupId"].startswith("sg-")


def test_records_options_and_dependencies():
    plan = run_program(vpc_and_flow_log, config=CONFIG, preview=True)
    fl = plan.named("fl")
    assert fl.options["protect"] is True and fl.options["ignoreChanges"] == ["tags"]
    assert plan.named("vpc").urn in fl.dependencies


def _value_correlating_policy():
    """A stack policy written the fragile way: it joins flow logs to VPCs by output values."""
    def validate(args, report):
        vpc_ids = {r.props["vpcId"] for r in args.resources if r.resource_type == "awsx:ec2:Vpc"}
        for r in args.resources:
            if r.resource_type == "aws:ec2/flowLog:FlowLog" and r.props["vpcId"] not in vpc_ids:
                report("flow log for an unknown VPC")
    return StackValidationPolicy(name="by-value", description="joins by value", validate=validate,
                                 enforcement_level=EnforcementLevel.MANDATORY)


def test_a_policy_reading_another_resources_output_is_skipped_in_preview():
    servicer = build_servicer(policies=[_value_correlating_policy()])
    configure(servicer, {})
    preview = analyze(run_program(vpc_and_flow_log, config=CONFIG, preview=True), servicer=servicer)
    assert preview.mandatory == []
    [skip] = preview.skipped
    assert skip.policy == "by-value" and skip.level == "advisory" and "can't be known during preview" in skip.message


def test_the_dependency_correlating_flow_log_policy_decides_in_preview():
    analysis = analyze(run_program(vpc_and_flow_log, config=CONFIG, preview=True), policy_config={"all": "mandatory"})
    assert analysis.of("vpc-flow-logs-enabled") == []
    no_logs = analyze(run_program(lambda: awsx.ec2.Vpc("vpc", cidr_block="10.0.0.0/16"), config=CONFIG, preview=True),
                      policy_config={"all": "mandatory"})
    assert [v.level for v in no_logs.of("vpc-flow-logs-enabled")] == ["mandatory"]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "plan", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_json_shape_and_exit_code_of_a_clean_stack():
    result = run_cli("--stack", "prod", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["stack"] == "prod"
    keys = {"urn", "type", "name", "parent", "provider", "options", "inputs", "dependencies", "propertyDependencies"}
    assert all(keys <= set(r) for r in doc["resources"])
    assert all(set(v) == {"policy", "level", "urn", "message"} for v in doc["violations"])
    assert not [v for v in doc["violations"] if v["level"] == "mandatory"]


def test_exit_code_1_on_mandatory_violation(tmp_path):
    cfg = tmp_path / "strict.json"
    cfg.write_text(json.dumps({"all": "mandatory", "required-tags": {"requiredTags": ["DataOwner"]}}))
    result = run_cli("--stack", "dev", "--policy-config", str(cfg))
    assert result.returncode == 1
    assert "[mandatory] required-tags" in result.stdout


def test_bad_policy_config_is_exit_2(tmp_path):
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps({"required-tags": {"requiredTags": "Team"}}))
    result = run_cli("--stack", "dev", "--policy-config", str(cfg))
    assert result.returncode == 2 and "required-tags.requiredTags" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_secret_value_reaches_the_plan_or_outputs():
    plan = stack_plan("prod", False)
    text = json.dumps([r.to_json() for r in plan.resources]) + json.dumps(plan.exports)
    version = plan.named("secret-jwt-signing-secret-initial")
    assert version.inputs["secretString"] != UNKNOWN
    assert "[secret]" in json.dumps(version.to_json()["inputs"])
    assert "mock-random" not in text
