"""Public-style Pulumi programs nobody here wrote, checked through `--program` with the prod policy config.

Each program in tests/programs/ is planned in preview (a new stack: computed outputs unknown) and
update mode, and every finding is judged: EXPECTED lists the correct verdicts (policy -> resource
name -> how many distinct resources of that name it must flag). A verdict the current pack gets
wrong is marked `xfail(strict=True)` with the defect class from issue 13, so the marks must be dropped
when the pack is fixed. Findings of a policy that EXPECTED does not list fail `test_every_finding_is_judged`.
"""
from __future__ import annotations

import collections
import functools
import json

import pytest

from conftest import ROOT, cli
from plan.analyze import analyze, load_policy_config
from plan.engine import plan_directory

PROGRAMS = ROOT / "tests" / "programs"
PROD = load_policy_config(ROOT / "policies" / "config" / "prod.json")
MODES = ("preview", "update")

DOUBLE = "issue 13 double reporting: the component and its modelled child are both judged"
TAGS_UNKNOWN = "issue 13: required-tags remediation raises when the whole tags map is unknown (aborts the preview)"
SYNC_DLQ = "issue 13: lambda-dlq-configured fires on functions with no asynchronous invoker"
AWSX_LOGS = "issue 13: awsx FargateService's default awslogs configuration is reported missing"
EDGE = "issue 13: a REST API without endpointConfiguration (EDGE, allowed) is flagged"
OPENAPI = "issue 13: a REST API defined by an OpenAPI body escapes the authorizer rule"
INVENTED = "issue 13: tags are remediated (invented) instead of reported"

# program -> its stack file
STACKS = {"awsx-fargate": "Pulumi.staging.yaml", "repeated-names": "Pulumi.dev.yaml",
          "openapi-rest-api": "Pulumi.prod.yaml", "tags-in-apply": "Pulumi.dev.yaml",
          "ec2-invokes": "Pulumi.dev.yaml", "eks-cluster": "Pulumi.dev.yaml"}

# The correct verdicts: policy -> {resource name: distinct resources flagged}. Same in both modes unless noted.
EXPECTED: dict[str, dict[str, dict[str, int]]] = {
    "awsx-fargate": {
        "alb-access-logs": {"loadbalancer": 1},
        "alb-deletion-protection": {"loadbalancer": 1},
        "alb-drop-invalid-headers": {"loadbalancer": 1},
        "alb-https-or-redirect": {"loadbalancer": 1},   # awsx's default HTTP:80 forward listener, judged once on the component
        "alb-waf-attached": {"loadbalancer": 1},  # internet-facing (awsx's default) and no WebAclAssociation
        "default-security-group-restricts-all": {"vpc": 1},
        "default-network-acl-restricted": {"vpc": 1},            # awsx leaves the default NACL open (issue 32)
        "ecs-logging-configured": {},                            # awsx adds awslogs to the log group it creates
        "ecs-no-public-ip": {"service": 1},                      # assignPublicIp=True (top level) -> the service
        "ecs-read-only-root-filesystem": {"service": 1},         # advisory
        "log-group-encrypted-with-retention": {"service": 1},    # awsx's default log group: no KMS, never expires
        "no-public-ingress": {"service-sg": 1, "loadbalancer": 1},  # awsx default groups open every port
        "public-ingress-only-to-load-balancers": {"service-sg": 1},  # the ALB's own group is used by the ALB
        "security-group-description": {"service-sg": 1, "loadbalancer": 1},
        "subnet-no-auto-public-ip": {"vpc-public-1": 1, "vpc-public-2": 1},
        "vpc-endpoints-configured": {"vpc": 1},
        "vpc-flow-logs-enabled": {"vpc": 1},
    },
    "repeated-names": {  # every resource is named "app": one finding per (policy, resource), URNs differ by type
        "lambda-dlq-configured": {},                             # nothing invokes it asynchronously
        "s3-bucket-logging-enabled": {"app": 1},
        "s3-lifecycle-configured": {"app": 1},
        "s3-tls-only-policy": {"app": 1},
        "sqs-redrive-policy": {"app": 1},
        "sqs-tls-only-policy": {"app": 1},                       # no queue policy at all (issue 32)
    },
    "openapi-rest-api": {
        "apigateway-access-logging": {"api": 1},
        "apigateway-authorizer-required": {"api": 1},            # GET /hello has no security in the OpenAPI body
        "apigateway-endpoint-type": {},                          # no endpointConfiguration = EDGE, allowed
        "apigateway-stage-cached": {"api": 1},
        "apigateway-waf-on-rest-stage": {"api": 1},
        "lambda-dlq-configured": {},                             # API Gateway proxy invokes synchronously
        "lambda-tracing-active": {"handler": 1},
    },
    "tags-in-apply": {
        "secretsmanager-secret-rotation-enabled": {"db-password": 1},
        "sqs-redrive-policy": {"events": 1, "events-dlq": 1},    # nothing uses events-dlq as a DLQ
        "sqs-tls-only-policy": {"events": 1, "events-dlq": 1},   # neither queue denies plain HTTP (issue 32)
    },
    "ec2-invokes": {
        "ebs-encrypted": {"web": 1},
        "ec2-imdsv2-required": {"web": 1},
        "ec2-instance-detailed-monitoring-enabled": {"web": 1},
        "no-public-ingress": {"web": 1},                         # SSH from 0.0.0.0/0
        "public-ingress-only-to-load-balancers": {"web": 1},
        "security-group-description": {"web": 1},
    },
    "eks-cluster": {
        "default-security-group-restricts-all": {"eks-vpc": 1},
        "default-network-acl-restricted": {"eks-vpc": 1},        # the default NACL left as it is (issue 32)
        "eks-control-plane-logging": {"eks-cluster": 1},  # judged once, on the eks:index:Cluster component
        "eks-endpoint-restricted": {"eks-cluster": 1},  # judged once, on the eks:index:Cluster component
        "eks-secrets-encryption": {"eks-cluster": 1},  # judged once, on the eks:index:Cluster component
        "security-group-description": {"eks-cluster-eksClusterSecurityGroup": 1, "eks-cluster-nodeSecurityGroup": 1},
        "subnet-no-auto-public-ip": {"eks-vpc-public-1": 1, "eks-vpc-public-2": 1, "eks-vpc-public-3": 1},
        "vpc-endpoints-configured": {"eks-vpc": 1},
        "vpc-flow-logs-enabled": {"eks-vpc": 1},
    },
}

# Verdicts the pack got wrong before issue 13's fixes (each failed before the fix; see the module docstring):
# DOUBLE (awsx ALB rules, eks rules, ecs-read-only-root-filesystem), AWSX_LOGS, SYNC_DLQ, EDGE, OPENAPI,
# TAGS_UNKNOWN (tags-in-apply preview crashed) and INVENTED (every program). None remains: no xfail marks.
WRONG: dict = {}
CRASHES: dict = {}
JUDGED_WRONG: dict = {}
# Policies that legitimately cannot decide in a new stack's preview (a value they read is unknown): their
# verdict in preview is "could not run", never a pass.
EXPECTED_SKIPS = {
    ("repeated-names", "preview"): {"iam-no-full-admin", "iam-no-service-wildcards", "iam-no-star-action",
                                    "lambda-role-no-wildcard", "iam-no-privilege-escalation",
                                    "iam-no-data-plane-write-on-star", "kms-key-use-scoped"},
    # the container definitions hold the repository URL, unknown until the repository exists
    ("awsx-fargate", "preview"): {"ecs-logging-configured", "ecs-read-only-root-filesystem",
                                  "ecs-no-privileged-containers", "ecs-container-env-no-secrets"},
    # the OpenAPI body interpolates the function's invoke ARN
    ("openapi-rest-api", "preview"): {"apigateway-authorizer-required"},
    # the whole tags map is computed inside an apply: reported as could-not-run, never remediated or raised
    ("tags-in-apply", "preview"): {"required-tags", "backup-plan-covers-stateful"},
}


@functools.cache
def planned(program: str, mode: str):
    return plan_directory(PROGRAMS / program, stack_file=PROGRAMS / program / STACKS[program],
                          preview=mode == "preview")


@functools.cache
def analysed(program: str, mode: str):
    return analyze(planned(program, mode), policy_config=PROD)


def verdicts(program: str, mode: str, policy: str) -> dict[str, int]:
    analysis, plan = analysed(program, mode), planned(program, mode)
    names = {r.urn: r.name for r in plan.resources}
    skipped = {id(f) for f in analysis.skipped}
    urns = {f.urn for f in analysis.of(policy) if id(f) not in skipped}
    return dict(collections.Counter(names.get(u, "(stack)") for u in urns))


def _mark(program: str, mode: str, policy: str = None):
    reason = CRASHES.get((program, mode)) or WRONG.get((program, policy, mode)) or WRONG.get((program, policy, None))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def _cases():
    for program, policies in EXPECTED.items():
        for policy in policies:
            for mode in MODES:
                yield pytest.param(program, mode, policy, id=f"{program}-{mode}-{policy}",
                                   marks=_mark(program, mode, policy))


@pytest.mark.parametrize("program, mode, policy", list(_cases()))
def test_verdict(program, mode, policy):
    expected = {} if policy in EXPECTED_SKIPS.get((program, mode), ()) else EXPECTED[program][policy]
    assert verdicts(program, mode, policy) == expected


def _judged_marks(program, mode):
    reason = CRASHES.get((program, mode)) or JUDGED_WRONG.get((program, mode))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@pytest.mark.parametrize("program, mode", [pytest.param(p, m, id=f"{p}-{m}", marks=_judged_marks(p, m))
                                           for p in EXPECTED for m in MODES])
def test_every_finding_is_judged(program, mode):
    analysis = analysed(program, mode)
    skipped = {id(f) for f in analysis.skipped}
    fired = {f.policy for f in analysis.violations if id(f) not in skipped}
    assert fired - set(EXPECTED[program]) - {"required-tags"} == set()
    assert {f.policy for f in analysis.skipped} == EXPECTED_SKIPS.get((program, mode), set())


def _tag_marks(program, mode):
    if (program, mode) in CRASHES:
        return [pytest.mark.xfail(strict=True, reason=CRASHES[(program, mode)])]
    return []


@pytest.mark.parametrize("program, mode", [pytest.param(p, m, id=f"{p}-{m}", marks=_tag_marks(p, m))
                                           for p in EXPECTED for m in MODES])
def test_missing_tags_are_reported_not_invented(program, mode):
    """None of these programs carries the prod required tags (Project, ManagedBy, ...): each taggable
    resource must be reported, none silently stamped."""
    analysis = analysed(program, mode)
    assert [r for r in analysis.remediations if r["policy"] == "required-tags"] == []
    assert analysis.of("required-tags")


# --- the engine side: what --program records ---------------------------------------------------------
@pytest.mark.parametrize("program", list(EXPECTED))
@pytest.mark.parametrize("mode", MODES)
def test_program_plans_with_its_own_project_and_config(program, mode):
    plan = planned(program, mode)
    assert plan.project == program
    assert all(f"::{program}::" in r.urn for r in plan.resources)
    assert plan.resources


def test_awsx_components_have_the_children_a_real_preview_shows():
    plan = planned("awsx-fargate", "preview")
    by_type = collections.Counter(r.type for r in plan.resources)
    assert by_type["aws:ec2/subnet:Subnet"] == 4 and by_type["aws:ec2/natGateway:NatGateway"] == 1  # Single NAT
    assert by_type["aws:lb/loadBalancer:LoadBalancer"] == by_type["aws:lb/targetGroup:TargetGroup"] == 1
    assert by_type["aws:lb/listener:Listener"] == 1 and by_type["aws:ecs/taskDefinition:TaskDefinition"] == 1
    alb = plan.named("loadbalancer", "awsx:lb:ApplicationLoadBalancer")
    lb = plan.named("loadbalancer", "aws:lb/loadBalancer:LoadBalancer")
    assert lb.parent == alb.urn and lb.props["loadBalancerType"] == "application"
    sg = plan.named("loadbalancer", "aws:ec2/securityGroup:SecurityGroup")
    assert lb.propertyDependencies["securityGroups"] == [sg.urn]
    svc = plan.named("service", "aws:ecs/service:Service")
    assert svc.props["networkConfiguration"]["assignPublicIp"] is True and svc.props["launchType"] == "FARGATE"
    td = plan.named("service", "aws:ecs/taskDefinition:TaskDefinition")
    [container] = json.loads(td.props["containerDefinitions"])   # known in preview: the log group name is autonamed
    assert container["logConfiguration"]["logDriver"] == "awslogs" and container["portMappings"][0]["containerPort"] == 80
    assert td.props["cpu"] == "256" and td.props["memory"] == "512"    # Fargate size from the container's 256/128
    assert svc.inputs["taskDefinition"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"   # the ARN is unknown in preview


def test_component_outputs_are_resource_references_the_program_can_dereference():
    plan = planned("awsx-fargate", "update")
    lb = plan.named("loadbalancer", "aws:lb/loadBalancer:LoadBalancer")
    assert plan.exports["url"] == f"http://{lb.outputs['dnsName']}"
    assert plan.exports["vpcId"] == plan.named("vpc", "aws:ec2/vpc:Vpc").id
    svc = plan.named("service", "aws:ecs/service:Service")
    tg = plan.named("loadbalancer", "aws:lb/targetGroup:TargetGroup")
    assert svc.props["loadBalancers"] == [{"containerName": "app", "containerPort": 80,
                                           "targetGroupArn": tg.outputs["arn"]}]
    assert tg.outputs["arn"].startswith("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/")


def test_eks_cluster_children():
    plan = planned("eks-cluster", "update")
    cluster = plan.named("eks-cluster-eksCluster", "aws:eks/cluster:Cluster")
    assert cluster.parent == plan.named("eks-cluster", "eks:index:Cluster").urn
    assert cluster.props["vpcConfig"]["endpointPublicAccess"] is True
    role = plan.named("eks-cluster-eksRole-role", "aws:iam/role:Role")
    assert cluster.props["roleArn"] == role.outputs["arn"]
    assert json.loads(role.props["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "eks.amazonaws.com"}
    assert json.loads(plan.exports["kubeconfig"] if isinstance(plan.exports["kubeconfig"], str)
                      else json.dumps(plan.exports["kubeconfig"]))["kind"] == "Config"


def test_invokes_answer_with_schema_shaped_results():
    plan = planned("ec2-invokes", "update")
    web = plan.named("web", "aws:ec2/instance:Instance")
    assert web.props["ami"].startswith("ami-") and web.props["subnetId"].startswith("subnet-")
    assert web.props["availabilityZone"] == "us-east-2a"
    assert plan.exports["amiName"].startswith("al2023-ami-2026") and plan.exports["amiName"].endswith("-x86_64")
    trust = json.loads(plan.named("web", "aws:iam/role:Role").props["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                   "Principal": {"Service": "ec2.amazonaws.com"}}]
    policy = json.loads(plan.named("web-params", "aws:iam/rolePolicy:RolePolicy").props["policy"])
    assert policy["Statement"][0]["Resource"] == "arn:aws:ssm:us-east-2:123456789012:parameter/web/*"
    assert policy["Statement"][0]["Sid"] == "ReadOwnParameters"


def test_repeated_names_across_types_are_distinct_resources():
    plan = planned("repeated-names", "update")
    apps = [r for r in plan.resources if r.name == "app"]
    assert len(apps) == len({r.urn for r in apps}) == len({r.type for r in apps}) == 11
    assert plan.named("app", "aws:sqs/queue:Queue").outputs["arn"] == "arn:aws:sqs:us-west-2:123456789012:" + \
        plan.named("app", "aws:sqs/queue:Queue").outputs["name"]


def test_secret_config_is_a_local_plaintext_never_shown():
    plan = planned("tags-in-apply", "update")
    version = plan.named("db-password", "aws:secretsmanager/secretVersion:SecretVersion")
    assert version.props["secretString"].startswith("local-secret-")
    assert plan.exports["dbPassword"] == {"secret": True}
    assert "local-secret-" not in json.dumps([r.to_json() for r in plan.resources])


def test_tags_computed_in_apply_are_unknown_in_preview_and_known_after():
    assert planned("tags-in-apply", "preview").named("events", "aws:sqs/queue:Queue").inputs["tags"] == \
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert planned("tags-in-apply", "update").named("events", "aws:sqs/queue:Queue").props["tags"]["Team"] == "data"


def test_openapi_body_is_recorded_and_known_after_update():
    body = json.loads(planned("openapi-rest-api", "update").named("api", "aws:apigateway/restApi:RestApi").props["body"])
    assert body["paths"]["/hello"]["get"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy"


# --- the command line -----------------------------------------------------------------------------------
def run_cli(*args):
    """`python -m plan ARGS` through the CLI's main() in this process (conftest.cli: exit code, stdout, stderr);
    the process boundary itself is tested in tests/test_engine.py, tests/test_readme.py and test_records_cli.py."""
    return cli(*args)


def test_cli_program_flag_json(tmp_path):
    result = run_cli("--program", str(PROGRAMS / "ec2-invokes"), "--stack", "dev", "--mode", "update", "--json",
                     "--policy-config", str(ROOT / "policies" / "config" / "prod.json"))
    assert result.returncode == 1, result.stderr      # mandatory violations (SSH open to the world, ...)
    doc = json.loads(result.stdout)
    assert doc["stack"] == "dev" and {r["type"] for r in doc["resources"]} >= {"aws:ec2/instance:Instance"}


TINY = "{tmp}/prog"


@pytest.mark.parametrize("setup, args, needle", [
    ("nodir", ["--program", "{tmp}/missing", "--stack", "dev"], "missing"),
    ("noyaml", ["--program", "{tmp}", "--stack", "dev"], "no Pulumi.yaml"),
    ("program", ["--program", TINY, "--stack", "prod"], "Pulumi.prod.yaml not found"),
    ("badstack", ["--program", TINY, "--stack", "dev"], "Pulumi.dev.yaml: not valid YAML at line"),
    ("program", ["--program", TINY, "--stack-file", "{tmp}/other.yaml"], "other.yaml not found"),
    ("program", ["--program", TINY, "--stack", "dev", "--cost", "--usage", "{tmp}/usage.yaml"],
     "usage.yaml: not valid YAML"),
    ("program", ["--program", TINY, "--stack", "dev", "--no-policies", "--diagram", "{tmp}/no/dir/a.mmd"],
     "a.mmd: cannot write"),
    ("program", ["--program", TINY, "--stack", "dev", "--no-policies", "--diagram", "{tmp}/no/dir/a.png"],
     "a.png: cannot write"),
    ("program", ["--program", TINY, "--stack", "dev", "--no-policies", "--diagram", "{tmp}/a.txt"], ".mmd"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, setup, args, needle):
    prog = tmp_path / "prog"
    prog.mkdir()
    if setup in ("program", "badstack"):
        (prog / "Pulumi.yaml").write_text("name: tiny\nruntime: python\n")
        (prog / "__main__.py").write_text("import pulumi_aws as aws\naws.sqs.Queue('q')\n")
        (prog / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n" if setup == "program"
                                              else "config:\n  a: [\n")
    (tmp_path / "usage.yaml").write_text("resource_usage:\n  x: [\n")
    result = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr, result.stderr


def test_a_program_error_is_one_line_exit_2(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("import pulumi\npulumi.Config().require('missing')\n")
    result = run_cli("--program", str(tmp_path), "--stack", "dev")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "broken:missing" in result.stderr
