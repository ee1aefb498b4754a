"""ML tier: what it registers in dev and prod (ECR, SageMaker scope, endpoints, training alarm, Bedrock policy,
the operations functions and their triggers), wired as the handlers expect, with no policy violation.

Plans come from a program with only the security, network and ML tiers (buckets given as plain names, as the
data tier's are known strings), built once per variant, so these tests don't break when another tier is
mid-change; one test checks the whole stack's plan."""
from __future__ import annotations

import copy
import functools
import json

import pytest

from components.catalog import DEFAULT_SERVICES
from conftest import program_with, shared_program, stack_plan
from functions.training_orchestrator import handler as orchestrator
from plan.analyze import analyze, default_policy_config, load_policy_config
from plan.engine import UNKNOWN
from plan.stackfile import load_stack_config, stack_file_path
from policies.rules import iam as ml_rules
from policies.rules.iam import full_admin_statements

REPO = "aws:ecr/repository:Repository"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
FUNCTION = "aws:lambda/function:Function"
SCHEDULE = "aws:scheduler/schedule:Schedule"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
DATA_BUCKET = "ai-platform-{stack}-data-lake-123456789012-us-east-1"
ARTIFACTS_BUCKET = "ai-platform-{stack}-ml-artifacts-123456789012-us-east-1"
ENDPOINT = {"ocr": {"image": "ocr-inference:1.4.0", "modelDataKey": "models/ocr/1.4.0/model.tar.gz"}}


def ml_program(with_buckets: bool = True):
    def program():
        import pulumi

        from components.config import load_settings
        from components.ml import MlTier, MlTierArgs
        from components.network import NetworkTier, NetworkTierArgs
        from components.platform import platform_for
        from components.security import SecurityTier, SecurityTierArgs

        settings = load_settings()
        p = platform_for(settings)
        security = SecurityTier("security", SecurityTierArgs(platform=p, settings=settings.security)).outputs
        network = NetworkTier("network", NetworkTierArgs(platform=p, settings=settings.network,
                                                         logs_key_arn=security.logs_key_arn)).outputs
        buckets = {}
        if with_buckets:
            data, artifacts = DATA_BUCKET.format(stack=settings.stack), ARTIFACTS_BUCKET.format(stack=settings.stack)
            buckets = dict(data_bucket_name=data, data_bucket_arn=f"arn:aws:s3:::{data}",
                           artifacts_bucket_name=artifacts, artifacts_bucket_arn=f"arn:aws:s3:::{artifacts}")
        ml = MlTier("ml", MlTierArgs(
            platform=p, settings=settings.ml, service_names=list(DEFAULT_SERVICES), data_key_arn=security.data_key_arn,
            logs_key_arn=security.logs_key_arn, sagemaker_role_arn=security.sagemaker_role_arn,
            sagemaker_role_name=security.sagemaker_role_name, data_key_alias=security.key_aliases["data"],
            sagemaker_role_name_tag=security.sagemaker_role_name_tag, private_subnet_ids=network.private_subnet_ids,
            ml_sg_id=network.ml_security_group_id, alarm_topic_arn="arn:aws:sns:us-east-1:123456789012:alerts",
            access_log_bucket_name=f"ai-platform-{settings.stack}-access-logs-123456789012-us-east-1",
            **buckets)).outputs
        for attr in ("repository_urls", "repository_arns", "bedrock_invoke_policy_arn", "endpoint_names",
                     "training_log_group_name", "function_names", "uploader_policy_arn", "submitter_policy_arn"):
            pulumi.export(attr, getattr(ml, attr))
    return program


def stack_config(stack: str, **ml) -> dict:
    name, path = stack_file_path(stack, None)
    config, _ = load_stack_config(name, path)
    config = copy.deepcopy(config)
    config["ai-platform:ml"] = {**config.get("ai-platform:ml", {}), **ml}
    return config


@functools.cache
def plan_of(variant: str):
    variants = {
        "dev": ("dev", {}, False, True),
        "prod": ("prod", {}, False, True),
        "prod-preview": ("prod", {}, True, True),
        "prod-endpoint": ("prod", {"endpoints": ENDPOINT}, False, True),
        "dev-endpoint-preview": ("dev", {"endpoints": ENDPOINT}, True, True),
        "dev-bare": ("dev", {"bedrockModels": [], "images": []}, False, False),
    }
    stack, ml, preview, buckets = variants[variant]
    return shared_program(f"{__name__}.plan_of:{variant}", lambda: program_with(
        stack_config(stack, **ml), stack=stack, preview=preview, program=ml_program(buckets)))


def ml(plan, token=None):
    return [r for r in plan.resources if "ai-platform:tier:Ml" in r.parent and (token is None or r.type == token)]


def doc(resource):
    return json.loads(resource.props["policy"])


def sid(document, name):
    [st] = [s for s in document["Statement"] if s.get("Sid") == name]
    return st


# --- ECR -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_repository_per_service_and_ml_image_scanned_encrypted_with_lifecycle(stack):
    plan = plan_of(stack)
    repos = {r.props["name"]: r for r in ml(plan, REPO)}
    assert set(repos) == {f"ai-platform/{stack}/{n}" for n in [*DEFAULT_SERVICES, "ocr-training", "ocr-inference"]}
    key_urn = plan.named("data-key", "aws:kms/key:Key").urn
    for r in repos.values():
        assert r.props["imageScanningConfiguration"] == {"scanOnPush": True}
        assert r.props["encryptionConfigurations"][0]["encryptionType"] == "KMS"
        assert key_urn in r.propertyDependencies["encryptionConfigurations"]
        assert r.props["imageTagMutability"] == ("IMMUTABLE" if stack == "prod" else "MUTABLE")
        assert r.props["forceDelete"] is (stack == "dev")
        assert bool(r.options.get("protect")) is (stack == "prod")
    policies = ml(plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert len(policies) == len(repos)
    rules = json.loads(policies[0].props["policy"])["rules"]
    keep, days = (30, 14) if stack == "prod" else (10, 3)
    assert rules[0]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                     "countNumber": days}
    assert rules[1]["selection"]["countType"] == "imageCountMoreThan" and rules[1]["selection"]["countNumber"] == keep
    assert all(r["action"] == {"type": "expire"} for r in rules)
    # ECR's schema: unique priorities; "tagged" needs tagPatternList or tagPrefixList, "untagged" neither;
    # sinceImagePushed needs countUnit, imageCountMoreThan must not have one.
    assert [r["rulePriority"] for r in rules] == [1, 2]
    for r in rules:
        sel = r["selection"]
        lists = {"tagPatternList", "tagPrefixList"} & set(sel)
        assert len(lists) == (1 if sel["tagStatus"] == "tagged" else 0), sel
        assert ("countUnit" in sel) is (sel["countType"] == "sinceImagePushed"), sel
    assert rules[1]["selection"]["tagStatus"] == "tagged" and rules[1]["selection"]["tagPatternList"] == ["*"]


# --- SageMaker role scope ---------------------------------------------------------------------------
def test_sagemaker_role_reaches_only_ml_prefixes_repositories_and_data_key():
    plan = plan_of("dev")
    scope = plan.named("sagemaker-ml-access", ROLE_POLICY)
    assert plan.named("sagemaker-role", "aws:iam/role:Role").urn in scope.propertyDependencies["role"]
    d = doc(scope)
    artifacts, data = ARTIFACTS_BUCKET.format(stack="dev"), DATA_BUCKET.format(stack="dev")
    assert sid(d, "ReadWriteArtifacts")["Resource"] == [
        f"arn:aws:s3:::{artifacts}/{p}*" for p in ("models/", "checkpoints/", "data-capture/")]
    assert sid(d, "ReadDatasets")["Resource"] == f"arn:aws:s3:::{data}/datasets/*"
    assert sid(d, "ListArtifactPrefixes")["Condition"]["StringLike"]["s3:prefix"] == [
        "models/*", "checkpoints/*", "data-capture/*"]
    assert sid(d, "PullMlImages")["Resource"] == [
        f"arn:aws:ecr:us-east-1:123456789012:repository/ai-platform/dev/{i}" for i in ("ocr-training", "ocr-inference")]
    stars = sorted(s["Sid"] for s in d["Statement"] if s["Resource"] == "*")
    # "*" only where IAM has no resource-level permission (ECR login, ENI management) or where the key is named
    # through its alias condition.
    assert stars == ["EcrLogin", "GrantDataKeyToVolumes", "UseDataKey", "VpcNetworking"]
    # issue 32: the key named by its alias, and used only through S3 and SageMaker (the role runs customer code)
    assert sid(d, "UseDataKey")["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/ai-platform-dev-data"]},
        "StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com", "sagemaker.us-east-1.amazonaws.com"]}}
    assert all(not a.startswith("s3:") for s in d["Statement"] if s["Resource"] == "*" for a in s["Action"])


def test_without_buckets_no_bucket_grants_trigger_or_uploader_policy():
    plan = plan_of("dev-bare")
    d = doc(plan.named("sagemaker-ml-access", ROLE_POLICY))
    assert not any(a.startswith("s3:") for s in d["Statement"] for a in s["Action"])
    assert {r.name for r in ml(plan, RULE)} == {"rule-training-requests", "rule-training-failed",
                                                "rule-training-rejected"}
    assert [r.name for r in ml(plan, POLICY)] == []  # no models: no Bedrock policy; no bucket: no uploader policy
    assert len(ml(plan, REPO)) == len(DEFAULT_SERVICES)


# --- training jobs: log group and alarm ---------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_training_log_group_and_failed_job_alarm_on_the_orchestrators_metric(stack):
    plan = plan_of(stack)
    groups = [g for g in ml(plan, "aws:cloudwatch/logGroup:LogGroup") if g.props["name"] == "/aws/sagemaker/TrainingJobs"]
    # One account-wide name: only the account-baseline stack (prod) creates it, or the second stack's up fails.
    assert plan.exports["training_log_group_name"] == "/aws/sagemaker/TrainingJobs"
    if stack == "dev":
        assert groups == []
    else:
        [group] = groups
        assert group.name == "training-jobs-logs" and group.props["retentionInDays"] == 365
        assert plan.named("logs-key").urn in group.propertyDependencies["kmsKeyId"]
    alarm = plan.named("training-failed-alarm", "aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.props["namespace"] == orchestrator.METRIC_NAMESPACE
    assert alarm.props["metricName"] == "TrainingJobsFailed"
    assert alarm.props["dimensions"] == {"Stack": stack} and alarm.props["treatMissingData"] == "notBreaching"
    assert alarm.props["threshold"] == 1 and alarm.props["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm.props["alarmActions"] == ["arn:aws:sns:us-east-1:123456789012:alerts"]
    failed = json.loads(plan.named("rule-training-failed", RULE).props["eventPattern"])
    # every job that does not complete (issue 30): Stopped covers MaxRuntimeExceeded and MaxWaitTimeExceeded
    assert failed["detail"]["TrainingJobStatus"] == ["Failed", "Stopped"]
    assert alarm.props["tags"]["Severity"] == "warning"
    assert failed["detail-type"] == ["SageMaker Training Job State Change"]


# --- Bedrock ------------------------------------------------------------------------------------------
def test_bedrock_policy_invokes_only_listed_models():
    plan = plan_of("prod")
    [st] = doc(plan.named("bedrock-invoke", POLICY))["Statement"]
    assert st["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert st["Resource"] == ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
                              "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"]
    assert plan_of("prod").exports["bedrock_invoke_policy_arn"].startswith("arn:aws:iam::123456789012:policy/")
    assert plan_of("dev-bare").exports.get("bedrock_invoke_policy_arn") is None


# --- endpoints ----------------------------------------------------------------------------------------
def test_no_endpoint_unless_configured():
    for variant in ("dev", "prod"):
        assert ml(plan_of(variant), "aws:sagemaker/endpoint:Endpoint") == []


def test_configured_endpoint_is_encrypted_captures_data_and_runs_isolated_in_the_vpc():
    plan = plan_of("prod-endpoint")
    model = plan.named("model-ocr", "aws:sagemaker/model:Model")
    assert model.props["enableNetworkIsolation"] is True
    assert model.props["primaryContainer"]["image"].endswith("/ai-platform/prod/ocr-inference:1.4.0")
    assert model.props["primaryContainer"]["modelDataUrl"] == (
        f"s3://{ARTIFACTS_BUCKET.format(stack='prod')}/models/ocr/1.4.0/model.tar.gz")
    assert len(model.props["vpcConfig"]["subnets"]) == 3 and len(model.props["vpcConfig"]["securityGroupIds"]) == 1
    config = plan.named("endpoint-config-ocr", "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert plan.named("data-key").urn in config.propertyDependencies["kmsKeyArn"]
    capture = config.props["dataCaptureConfig"]
    assert capture["destinationS3Uri"] == f"s3://{ARTIFACTS_BUCKET.format(stack='prod')}/data-capture/ocr/"
    assert capture["initialSamplingPercentage"] == 20 and capture["kmsKeyId"]
    endpoint = plan.named("endpoint-ocr", "aws:sagemaker/endpoint:Endpoint")
    assert endpoint.props["name"] == "ai-platform-prod-ocr" and "OffHours" not in endpoint.props["tags"]
    assert plan.exports["endpoint_names"] == {"ocr": "ai-platform-prod-ocr"}
    dev = plan_of("dev-endpoint-preview").named("endpoint-ocr", "aws:sagemaker/endpoint:Endpoint")
    assert dev.props["tags"]["OffHours"] == "true"  # dev endpoints sleep at night
    # SageMaker creates /aws/sagemaker/Endpoints/<name> itself when the endpoint starts: ours must exist first.
    logs = plan.named("endpoint-ocr-logs", "aws:cloudwatch/logGroup:LogGroup")
    assert logs.props["name"] == "/aws/sagemaker/Endpoints/ai-platform-prod-ocr"
    assert logs.urn in endpoint.dependencies
    assert capture["captureOptions"] == [{"captureMode": "Input"}, {"captureMode": "Output"}]
    assert capture["enableCapture"] is True and capture["destinationS3Uri"].startswith("s3://")


def test_endpoint_needs_an_ml_image_and_the_artifacts_bucket():
    from components.config import ConfigError, load_settings
    with pytest.raises(ConfigError, match=r"ml\.endpoints\.ocr\.image"):
        load_settings({"platform": {"environment": "dev"}, "ml": {"endpoints": {"ocr": {
            "image": "not-an-ml-image:1", "modelDataKey": "models/x.tar.gz"}}}}, stack="dev", region="us-east-1")


@pytest.mark.parametrize("instance_type,ok", [
    ("ml.m5.large", True), ("ml.c6i.xlarge", True), ("ml.g4.xlarge", True), ("ml.inf2.xlarge", True),
    ("ml.m5d.large", False), ("ml.g4dn.xlarge", False), ("ml.g5.2xlarge", False), ("ml.p4d.24xlarge", False)])
def test_endpoint_instance_types_with_local_storage_are_refused(instance_type, ok):
    # CreateEndpointConfig fails when KmsKeyId is given for an instance type with local NVMe storage.
    from components.config import ConfigError, load_settings
    raw = {"platform": {"environment": "dev"}, "ml": {"endpoints": {"ocr": {
        "image": "ocr-inference:1", "modelDataKey": "models/x.tar.gz", "instanceType": instance_type}}}}
    if ok:
        assert load_settings(raw, stack="dev", region="us-east-1").ml.endpoints["ocr"].instance_type == instance_type
    else:
        with pytest.raises(ConfigError, match=r"ml\.endpoints\.ocr\.instanceType"):
            load_settings(raw, stack="dev", region="us-east-1")


# --- functions and their triggers -------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_functions_schedules_and_triggers(stack):
    plan = plan_of(stack)
    functions = {r.name: r for r in ml(plan, FUNCTION)}
    expected = {"training-orchestrator", "offhours-scheduler"} if stack == "dev" else {"training-orchestrator"}
    assert set(functions) == expected
    schedules = {r.name: r for r in ml(plan, SCHEDULE)}
    if stack == "dev":
        assert {n: s.props["scheduleExpression"] for n, s in schedules.items()} == {
            "offhours-stop": "cron(0 22 * * ? *)", "offhours-start": "cron(0 6 * * ? *)"}
        invoke = plan.named("offhours-schedule-invoke", ROLE_POLICY)
        for s in schedules.values():
            assert s.props["scheduleExpressionTimezone"] == "UTC"
            assert s.props["flexibleTimeWindow"] == {"mode": "OFF"}
            assert invoke.urn in s.dependencies  # the role may invoke before the first run
            assert s.props["target"]["roleArn"] == plan.named("offhours-schedule-role").outputs["arn"]
            assert json.loads(s.props["target"]["input"])["action"] in ("stop", "start")
            assert s.props["target"]["arn"] == functions["offhours-scheduler"].outputs["arn"]
        env = functions["offhours-scheduler"].props["environment"]["variables"]
        assert env == {"STATE_PATH": "/ai-platform/dev/offhours", "TAG_KEY": "OffHours", "ENVIRONMENT": "dev"}
    else:
        assert schedules == {}
    orchestrator_arn = functions["training-orchestrator"].outputs["arn"]
    rules = {r.name: r for r in ml(plan, RULE) if r.name != "rule-training-rejected"}
    assert set(rules) == {"rule-training-requests", "rule-training-failed", "rule-training-requests-s3"}
    s3_pattern = json.loads(rules["rule-training-requests-s3"].props["eventPattern"])
    assert s3_pattern["detail"] == {"bucket": {"name": [DATA_BUCKET.format(stack=stack)]},
                                    "object": {"key": [{"prefix": "training-requests/"}]}}
    targets = [t for t in ml(plan, TARGET) if t.name != "rule-training-rejected-target"]
    assert len(targets) == 3 and all(t.props["arn"] == orchestrator_arn for t in targets)
    assert all(t.props["deadLetterConfig"]["arn"].endswith("training-orchestrator-dlq") for t in targets)
    permissions = ml(plan, "aws:lambda/permission:Permission")
    assert sorted(p.props["sourceArn"] for p in permissions) == sorted(r.outputs["arn"] for r in rules.values())
    assert all(p.props["principal"] == "events.amazonaws.com" for p in permissions)


def test_orchestrator_environment_matches_its_iam_scope_and_failure_rule():
    plan = plan_of("dev")
    fn = plan.named("training-orchestrator", FUNCTION)
    env = fn.props["environment"]["variables"]
    prefix = env["JOB_NAME_PREFIX"]
    d = doc(plan.named("training-orchestrator-policy", ROLE_POLICY))
    assert sid(d, "StartTrainingJobs")["Resource"] == (
        f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{prefix}-*")
    assert sid(d, "StartTrainingJobs")["Condition"]["ArnEquals"]["sagemaker:OutputKmsKey"] == env["OUTPUT_KMS_KEY_ARN"]
    role = plan.named("sagemaker-role", "aws:iam/role:Role")
    assert env["SAGEMAKER_ROLE_ARN"] == role.outputs["arn"]
    passing = sid(d, "PassSageMakerRole")
    assert passing["Condition"]["StringEquals"] == {"iam:PassedToService": "sagemaker.amazonaws.com",
                                                    "iam:ResourceTag/Name": role.props["tags"]["Name"]}
    assert sid(d, "ReadTrainingRequests")["Resource"].endswith("/training-requests/*")
    failed = json.loads(plan.named("rule-training-failed", RULE).props["eventPattern"])
    assert failed["detail"]["TrainingJobName"] == [{"prefix": prefix}]
    assert env["ALLOWED_IMAGE_REPOSITORIES"] == "ai-platform/dev/ocr-training,ai-platform/dev/ocr-inference"
    # issue 30: a default a new account can run, the allowlist in the environment and in IAM, the limits in both
    assert env["DEFAULT_INSTANCE_TYPE"] == "ml.m5.xlarge" and env["DEFAULT_SPOT"] == "false"
    allowed = env["ALLOWED_INSTANCE_TYPES"].split(",")
    assert env["DEFAULT_INSTANCE_TYPE"] in allowed and "ml.p5.48xlarge" not in allowed
    start = sid(d, "StartTrainingJobs")["Condition"]
    assert start["ForAllValues:StringEquals"]["sagemaker:InstanceTypes"] == allowed
    assert start["NumericLessThanEquals"]["sagemaker:MaxRuntimeInSeconds"] == env["MAX_RUNTIME_LIMIT_SECONDS"]
    assert start["Null"] == {"sagemaker:InstanceTypes": "false", "sagemaker:MaxRuntimeInSeconds": "false"}
    assert start["ArnEqualsIfExists"]["sagemaker:VolumeKmsKey"] == env["OUTPUT_KMS_KEY_ARN"]
    assert env["LOCAL_STORAGE_INSTANCE_TYPES"].split(",") == ["ml.g4dn.xlarge", "ml.g5.xlarge"]
    # output and checkpoints only where the SageMaker role may write (not the datasets it only reads)
    assert all("/datasets/" not in u for u in env["ALLOWED_OUTPUT_S3_PREFIXES"].split(","))
    assert any("/datasets/" in u for u in env["ALLOWED_INPUT_S3_PREFIXES"].split(","))
    assert int(env["MAX_WAIT_SECONDS"]) >= int(env["MAX_RUNTIME_SECONDS"])
    # The handler accepts a name built from this prefix within SageMaker's 63 characters.
    assert len(prefix) + 25 <= 63


def test_offhours_scheduler_can_only_change_tagged_non_prod_resources():
    d = doc(plan_of("dev").named("offhours-scheduler-policy", ROLE_POLICY))
    for name in ("ScaleTaggedServices", "DeleteTaggedEndpoints"):
        assert sid(d, name)["Condition"] == {"StringEqualsIgnoreCase": {"aws:ResourceTag/OffHours": "true"},
                                             "StringNotEquals": {"aws:ResourceTag/Environment": "prod"}}
    assert sid(d, "StateRecords")["Resource"] == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/ai-platform/dev/offhours",
        "arn:aws:ssm:us-east-1:123456789012:parameter/ai-platform/dev/offhours/*"]
    invoke = doc(plan_of("dev").named("offhours-schedule-invoke", ROLE_POLICY))
    assert invoke["Statement"][0]["Resource"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:ai-platform-dev-offhours-scheduler")


def test_uploader_policy_writes_only_the_dataset_prefix():
    plan = plan_of("dev")
    d = doc(plan.named("dataset-uploader", POLICY))
    assert sid(d, "WriteDatasets")["Resource"] == f"arn:aws:s3:::{DATA_BUCKET.format(stack='dev')}/datasets/*"
    assert plan.exports["uploader_policy_arn"].startswith("arn:aws:iam::123456789012:policy/")


# --- policies -----------------------------------------------------------------------------------------
def test_iam_documents_are_known_in_a_preview():
    plan = plan_of("dev-endpoint-preview")   # dev's ML tier with an endpoint too (its role's documents among them)
    unknown = sorted(r.name for r in ml(plan) if r.type in (ROLE_POLICY, POLICY) and r.props["policy"] == UNKNOWN)
    assert unknown == []
    queue_policy = plan.named("training-orchestrator-dlq-policy", "aws:sqs/queuePolicy:QueuePolicy")
    assert queue_policy.props["policy"] != UNKNOWN


def test_dead_letter_queue_accepts_exactly_the_three_rules():
    plan = plan_of("dev")
    # the queue's one policy: the rules' delivery and (issue 32) the TLS-only deny every queue carries
    st, deny = doc(plan.named("training-orchestrator-dlq-policy", "aws:sqs/queuePolicy:QueuePolicy"))["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert st["Principal"] == {"Service": "events.amazonaws.com"}
    assert st["Resource"] == plan.named("training-orchestrator-dlq", "aws:sqs/queue:Queue").outputs["arn"]
    # Rules on the default bus have ARNs rule/<name> (a custom bus adds its name: rule/<bus>/<name>).
    assert sorted(st["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        f"arn:aws:events:us-east-1:123456789012:rule/{r.props['name']}" for r in ml(plan, RULE)
        if r.name != "rule-training-rejected")


@pytest.mark.parametrize("variant", ["dev", "prod", "prod-preview", "prod-endpoint", "dev-endpoint-preview"])
def test_no_policy_violation_from_the_ml_tier(variant):
    plan = plan_of(variant)
    result = analyze(plan, policy_config=load_policy_config(default_policy_config(plan.stack)))
    urns = {r.urn for r in ml(plan)}
    mine = [v for v in result.violations if v.urn in urns and v not in result.skipped]
    if plan.stack == "dev":  # dev's tags are mutable by value (ml.immutableTags); the rule says so, advisory
        assert {v.urn for v in mine if v.policy == "ecr-immutable-tags"} == {r.urn for r in ml(plan, REPO)}
        assert all(v.level == "advisory" for v in mine)
        mine = [v for v in mine if v.policy != "ecr-immutable-tags"]
    assert mine == [], [(v.policy, v.urn.split("::")[-1], v.message) for v in mine]
    for r in ml(plan, ROLE_POLICY) + ml(plan, POLICY):
        if r.props["policy"] != UNKNOWN:
            assert full_admin_statements(doc(r)) == []
            assert ml_rules.service_wildcard_statements(doc(r)) == []


# --- the whole stack ------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_whole_stack_plan_has_the_ml_tier_and_its_functions(stack):
    plan = stack_plan(stack)
    assert {r.name for r in ml(plan, FUNCTION)} >= {"training-orchestrator"}
    assert len(ml(plan, REPO)) == len(DEFAULT_SERVICES) + 2
    assert bool(ml(plan, SCHEDULE)) is (stack == "dev")


def test_endpoint_configuration_names_the_model_after_an_update():
    plan = plan_of("prod-endpoint")
    model = plan.named("model-ocr", "aws:sagemaker/model:Model")
    config = plan.named("endpoint-config-ocr", "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert config.props["productionVariants"][0]["modelName"] == model.outputs["name"]
    assert plan.named("endpoint-ocr").props["endpointConfigName"] == config.outputs["name"]


# --- issue 12 -----------------------------------------------------------------------------------------
def test_training_and_endpoints_run_in_the_self_admitting_ml_group():
    plan = plan_of("prod-endpoint")
    ml_sg = plan.named("ml-sg", "aws:ec2/securityGroup:SecurityGroup").id
    env = plan.named("training-orchestrator", FUNCTION).props["environment"]["variables"]
    assert env["SECURITY_GROUP_IDS"] == ml_sg
    [model] = ml(plan, "aws:sagemaker/model:Model")
    assert model.props["vpcConfig"]["securityGroupIds"] == [ml_sg]


def test_the_offhours_scheduler_reserves_no_concurrency():
    # accounts with a low concurrency quota reject any reservation (UnreservedConcurrentExecution minimum)
    fn = plan_of("dev").named("offhours-scheduler", FUNCTION)
    assert fn.props["reservedConcurrentExecutions"] == -1


# --- issue 30: who may start the training path, and what a refusal reaches -----------------------------
def test_ml_submitter_policy_submits_requests_and_pushes_ml_images_and_nothing_more():
    plan = plan_of("dev")
    d = doc(plan.named("ml-submitter", POLICY))
    actions = sorted({a for st in d["Statement"] for a in st["Action"]})
    assert actions == sorted(["s3:PutObject", "kms:GenerateDataKey", "events:PutEvents", "ecr:GetAuthorizationToken",
                              "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                              "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages"])
    assert sid(d, "PutTrainingRequests")["Resource"] == f"arn:aws:s3:::{DATA_BUCKET.format(stack='dev')}/training-requests/*"
    assert sid(d, "SendTrainingRequests")["Condition"] == {"StringEquals": {
        "events:source": "ai-platform.ml", "events:detail-type": "Training Request"}}
    assert sid(d, "PushTrainingImages")["Resource"] == [
        f"arn:aws:ecr:us-east-1:123456789012:repository/ai-platform/dev/{i}" for i in ("ocr-training", "ocr-inference")]
    assert plan.exports["submitter_policy_arn"].startswith("arn:aws:iam::123456789012:policy/")


def test_sagemaker_role_may_encrypt_with_the_data_key_it_is_given_as_an_alias():
    d = doc(plan_of("dev").named("sagemaker-ml-access", ROLE_POLICY))
    assert "kms:Encrypt" in sid(d, "UseDataKey")["Action"]


def test_a_refused_request_reaches_the_alert_topic_with_its_reasons():
    plan = plan_of("dev")
    rule = plan.named("rule-training-rejected", RULE)
    assert json.loads(rule.props["eventPattern"]) == {"source": ["ai-platform.ml"],
                                                      "detail-type": ["Training Request Rejected"],
                                                      "detail": {"stack": ["dev"]}}   # its own stack's only
    target = plan.named("rule-training-rejected-target", TARGET)
    assert target.props["arn"] == "arn:aws:sns:us-east-1:123456789012:alerts"
    assert "<quota>" in target.props["inputTransformer"]["inputTemplate"]
