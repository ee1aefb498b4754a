"""The first-up check (`python -m plan --first-up`, plan/first_up.py): every invoke answerable in an account that
holds only what the deployment created earlier (plus what AWS provides); other lookups are deploy errors, and the
mocks answer them as the provider does (not found is an error)."""
from __future__ import annotations

import json

import pytest
from pulumi.runtime import MockCallArgs, MockResourceArgs

from conftest import ROOT, cli, stack_file_config
from plan.engine import main_program, run_program
from plan.first_up import FirstUpMocks
from plan.mocks import PlatformMocks

PROGRAM = ROOT / "tests" / "programs" / "ecs-lookups"
REPO = "aws:ecr/repository:Repository"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_pass_the_first_up_check(stack):
    result = cli("--stack", stack, "--first-up", "--json")
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    doc = json.loads(result.stdout)
    assert doc["firstUp"] is True and doc["mode"] == "update"
    assert doc["deployErrors"] == []
    if stack == "prod":
        # The DR services' image lookups ask the DR region's own repositories, created by the stack (DrImages).
        dr_repos = [r for r in doc["resources"] if r["type"] == REPO and "DrImages" in r["urn"]]
        services = {"code", "search", "personalization", "conversational", "workflow"}
        assert services <= {r["inputs"]["name"].rsplit("/", 1)[-1] for r in dr_repos}
        assert all(r["options"]["protect"] and r["inputs"]["encryptionConfigurations"][0]["encryptionType"] == "KMS"
                   and r["inputs"]["imageScanningConfiguration"]["scanOnPush"] for r in dr_repos)


def test_the_shared_update_plan_is_the_first_up_run():
    """conftest.plan_for runs each stack file's update plan once, through the first-up mocks, and serves it as the
    update plan when no lookup was refused (and `--first-up` from the same run): FirstUpMocks answers through
    PlatformMocks. This compares dev's shared plan with a run through the update mocks (PlatformMocks, what
    `python -m plan --mode update` uses): the same resources (inputs, outputs, options, dependencies as sets: their
    order varies from run to run anyway), exports, invokes and deploy errors. dev only: the mocks' code is the
    same for every stack, and prod's first-up run is compared through it."""
    import dataclasses

    from conftest import first_up_plan, stack_plan

    def normal(value):
        if isinstance(value, dict):
            return {k: normal(v) for k, v in value.items()}
        if isinstance(value, list):
            items = [normal(v) for v in value]
            return sorted(items) if all(isinstance(v, str) and v.startswith("urn:pulumi:") for v in items) else items
        return value

    def records(plan):
        return sorted(json.dumps(normal(dataclasses.asdict(r)), sort_keys=True, default=str) for r in plan.resources)

    name, config, secrets = stack_file_config("dev")
    alone = run_program(main_program(), config=config, stack=name, preview=False, secret_keys=secrets)
    shared, first = stack_plan("dev", preview=False), first_up_plan("dev")
    assert (shared.first_up, first.first_up, alone.first_up) == (False, True, False)
    assert records(shared) == records(alone) == records(first)
    assert shared.exports == alone.exports == first.exports
    assert sorted(map(json.dumps, shared.invokes)) == sorted(map(json.dumps, alone.invokes))
    assert [e.line() for e in shared.deploy_errors] == [e.line() for e in alone.deploy_errors] == []


def test_a_lookup_of_a_repository_that_does_not_exist_yet_fails_the_first_up(monkeypatch):
    """Issue 24's DR lookups, reintroduced: the DR services are given the primary's repository URLs moved to
    us-west-2 (repositories only the first replicated push would create), as before DrImages."""
    import pulumi

    from components import dr_region

    def replicas_only(self, name, args, opts=None):
        pulumi.ComponentResource.__init__(self, "ai-platform:tier:DrImages", name, None, args.platform.tier_options(opts))
        p = args.platform
        self.outputs = dr_region.DrImagesOutputs(repository_urls={
            k: pulumi.Output.all(p.account_id, v).apply(lambda a: f"{a[0]}.dkr.ecr.{p.region}.amazonaws.com/{a[1]}")
            for k, v in args.repository_names.items()})
    monkeypatch.setattr(dr_region.DrImages, "__init__", replicas_only)
    name, config, secrets = stack_file_config("prod")
    plan = run_program(main_program(), config=config, stack=name, secret_keys=secrets, first_up=True)
    lookups = [e for e in plan.deploy_errors if e.kind == "lookup"]
    assert {e.value["repositoryName"].rsplit("/", 1)[-1] for e in lookups} >= {
        "code", "search", "personalization", "conversational", "workflow"}
    assert all(e.path == "aws:ecr/getImages:getImages" and "in us-west-2" in e.where
               and e.message.startswith("RepositoryNotFoundException") for e in lookups)
    # the default modes answer the same lookups with an empty list (a new repository holds no image): each refused
    # lookup, as the program asked it (its arguments, through the DR provider), put to the preview's and the update's
    # mocks (plan/mocks.PlatformMocks, what run_program uses outside --first-up). A second whole prod program with
    # the same patch ran them all again (1.9 CPU-s); the default mocks record no lookup as a deploy error at all
    # (only FirstUpMocks has `errors`), so their answer to these lookups is what that run checked.
    asked = [i for i in plan.invokes if i["token"] == "aws:ecr/getImages:getImages"
             and i["args"].get("repositoryName") in {e.value["repositoryName"] for e in lookups}]
    assert len(asked) >= len(lookups)
    for preview in (True, False):
        mocks = PlatformMocks(region="us-east-1", preview=preview)
        for invoke in asked:
            answer = mocks.call(MockCallArgs(token=invoke["token"], args=invoke["args"], provider=""))
            assert isinstance(answer, dict) and answer["imageIds"] == [], (preview, invoke)
        assert not hasattr(mocks, "errors")


# --- the mocks' answers ------------------------------------------------------------------------------------
def _mocks() -> FirstUpMocks:
    return FirstUpMocks(region="us-east-1")


def _call(mocks, token, **args):
    return mocks.call(MockCallArgs(token=token, args=args, provider=""))


def test_lookups_of_what_the_deployment_created_earlier_are_answered():
    mocks = _mocks()
    mocks.new_resource(MockResourceArgs(typ=REPO, name="app", inputs={"name": "team/app"}, provider="",
                                        resource_id="", custom=True))
    mocks.new_resource(MockResourceArgs(typ="aws:lambda/function:Function", name="fn", inputs={"name": "worker"},
                                        provider="", resource_id="", custom=True))
    assert _call(mocks, "aws:ecr/getImages:getImages", repositoryName="team/app")["imageIds"] == []
    assert _call(mocks, "aws:lambda/getFunction:getFunction", functionName="worker")   # generic: any own value
    assert mocks.errors == []


@pytest.mark.parametrize("token, args, provider_error", [
    ("aws:ecr/getImages:getImages", {"repositoryName": "team/other"}, "RepositoryNotFoundException"),
    ("aws:ssm/getParameter:getParameter", {"name": "/platform/vpc-id"}, "ParameterNotFound"),
    ("aws:route53/getZone:getZone", {"name": "example.com"}, "no matching Route 53 Hosted Zone"),
    ("aws:secretsmanager/getSecret:getSecret", {"name": "db"}, "ResourceNotFoundException"),
    ("aws:lambda/getFunction:getFunction", {"functionName": "worker"}, "Function not found"),
])
def test_lookups_of_anything_else_fail_as_the_provider_fails_them(token, args, provider_error):
    mocks = _mocks()
    result, failures = _call(mocks, token, **args)
    assert result == {} and provider_error in failures[0][1]
    [error] = mocks.errors
    assert (error.kind, error.path) == ("lookup", token) and provider_error in error.message


@pytest.mark.parametrize("token, args", [
    ("aws:ssm/getParameter:getParameter", {"name": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"}),
    ("aws:kms/getAlias:getAlias", {"name": "alias/aws/s3"}),
    ("aws:iam/getPolicy:getPolicy", {"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    ("aws:ec2/getVpc:getVpc", {"default": True}),
    ("aws:index/getCallerIdentity:getCallerIdentity", {}),
    ("aws:ec2/getSubnets:getSubnets", {"filters": [{"name": "vpc-id", "values": ["vpc-1"]}]}),
])
def test_what_aws_provides_and_list_queries_are_answered(token, args):
    mocks = _mocks()
    assert isinstance(_call(mocks, token, **args), dict) and mocks.errors == []


def test_a_repository_in_another_region_is_not_found():
    mocks = _mocks()
    mocks.provider_regions["dr-provider-id"] = "us-west-2"
    mocks.new_resource(MockResourceArgs(typ=REPO, name="app", inputs={"name": "team/app"}, provider="",
                                        resource_id="", custom=True))
    mocks.call(MockCallArgs(token="aws:ecr/getImages:getImages", args={"repositoryName": "team/app"},
                            provider="urn:pulumi:dev::p::pulumi:providers:aws::dr::dr-provider-id"))
    [error] = mocks.errors
    assert "in us-west-2" in error.where


# --- any program (--program) -------------------------------------------------------------------------------
def test_a_program_written_the_usual_way_gets_both_reported():
    default = cli("--program", str(PROGRAM), "--stack", "dev", "--no-policies", "--json")
    assert default.returncode == 1
    [number] = json.loads(default.stdout)["deployErrors"]
    assert (number["path"], number["value"], number["expected"]) == (
        "containerDefinitions[0].environment[0].value", 8080, "string")
    first = cli("--program", str(PROGRAM), "--stack", "dev", "--no-policies", "--first-up")
    assert first.returncode == 1
    assert "deploy errors: 2" in first.stdout
    assert "lookup getImage in eu-west-1 (imageTag=stable, repositoryName=shared/base): RepositoryNotFound" \
        in first.stdout
    assert "app containerDefinitions[0].environment[0].value: 8080 is an integer, expected string" in first.stdout
    assert "team-a/app" not in first.stdout     # its own repository's lookup is answered


def test_a_prerequisite_the_program_declares_is_answered():
    """`plan:prerequisites` in the stack file (what the team's README says exists before the first `up`)."""
    result = cli("--program", str(PROGRAM), "--stack", "shared", "--no-policies", "--first-up", "--json")
    assert result.returncode == 1         # the number in the container environment remains
    assert [e["kind"] for e in json.loads(result.stdout)["deployErrors"]] == ["document"]


def test_a_malformed_prerequisites_key_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  aws:region: eu-west-1\n  plan:prerequisites: [shared/base]\n")
    result = cli("--program", str(PROGRAM), "--stack-file", str(bad), "--no-policies", "--first-up")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "plan:prerequisites: expected a mapping" in result.stderr
