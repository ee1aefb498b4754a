"""Delivery tier: per service, a CodeBuild project that builds, pushes and scan-gates the image, and a
CodePipeline (V2) that takes a commit from the Git host (or an S3 source object), builds it, waits for a
person in prod, and deploys it to the service's ECS service.

    source (connection | s3) -> build (delivery/buildspec.yml: docker build, push <commit>, ECR scan gate)
        -> [prod: manual approval] -> deploy (ECS standard action: imagedefinitions.json; ECS runs the
           service's own strategy: rolling, or blue/green with test traffic, bake and alarm rollback)

Least privilege by construction: each service has its own build role and pipeline role. The build role may
push only to its own repository and write only its own log group; the pipeline role may start only its own
build, update only its own ECS service and pass only that service's task and execution roles, to ECS tasks.
A failed execution (and, in prod, a pending approval) is published to the alerts topic by an EventBridge
rule: the topic policy already admits events.amazonaws.com from this account, and the data key admits
EventBridge, so no other tier changes.

Inputs are published ids/ARNs/names only (the tier reads no other tier's settings or resources).
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
import pulumi_aws as aws
from pulumi import Input

from .config.delivery import BUILDSPEC, DeliverySettings
from .context import Platform, policy_json, publish, required
from .recipes.buckets import private_bucket
from .recipes.functions import LambdaSpec, PlatformFunction, platform_function
from .recipes.log_groups import log_group
from .recipes.roles import service_role

ROOT = Path(__file__).resolve().parent.parent

SOURCE_ACTION = "Source"
IMAGE_DEFINITIONS = "imagedefinitions.json"
RECORD_ACTION = "RecordRelease"


@dataclasses.dataclass(frozen=True)
class DeliveredService:
    """What the pipeline of one service needs from the ML tier (its repository), the application tier (its
    ECS service and task definition family) and the security tier (the roles its tasks run with)."""
    repository_arn: Input[str]
    repository_url: Input[str]
    ecs_service_name: Input[str]
    task_family: Input[str]
    # Name tags of exactly the roles the service's task definition names (task and execution role): the
    # pipeline may pass those, by tag, since their ARNs are unknown in a preview.
    pass_role_name_tags: Sequence[str]
    # Its counts once unparked ({"desired", "min", "max"}, the application tier's): the pipeline's last action
    # (functions/unpark) restores them after the first release, so no second `pulumi up` is needed.
    counts: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # The parameter the service's task definition takes its image from: the RecordRelease action writes the
    # released image there after a successful deploy (docs/delivery.md, "Day two").
    release_parameter_name: Input[str] | None = None


@dataclasses.dataclass(frozen=True)
class DeliveryTierArgs:
    platform: Platform
    settings: DeliverySettings
    services: Mapping[str, DeliveredService]
    cluster_name: Input[str]
    alerts_topic_arn: Input[str]
    data_key_arn: Input[str]     # artifacts bucket, CodeBuild artifacts and the pipeline's artifact store
    data_key_alias: str          # IAM statements name the data key by its alias (known in a preview)
    logs_key_arn: Input[str]     # the CodeBuild log groups
    access_log_bucket_name: Input[str] | None = None   # S3 server access logs of the artifacts bucket


@dataclasses.dataclass(frozen=True)
class DeliveryOutputs:
    """Published once: names and ARNs operators and the flow check need."""
    artifacts_bucket_name: pulumi.Output[str]
    connection_arn: pulumi.Output[str] | None
    pipeline_names: Mapping[str, pulumi.Output[str]]
    pipeline_arns: Mapping[str, pulumi.Output[str]]
    project_names: Mapping[str, pulumi.Output[str]]
    build_role_arns: Mapping[str, pulumi.Output[str]]
    pipeline_role_arns: Mapping[str, pulumi.Output[str]]
    log_group_names: Mapping[str, str]
    unpark_function_name: pulumi.Input[str] | None = None     # every pipeline's last action (functions/unpark)
    unpark_dlq_name: pulumi.Output[str] | None = None


def data_key_use(alias_arn_or_name: str, bucket_arn: Input[str], region: str) -> dict:
    """Use of the data key, named by its alias (kms:ResourceAliases), only through S3 (kms:ViaService) and only for
    the artifacts bucket's objects (their encryption context): a build runs customer code, privileged, and must
    not decrypt whatever else the platform-wide key protects."""
    return {"Sid": "ArtifactsKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*", "Condition": {
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": [alias_arn_or_name]},
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": pulumi.Output.concat(bucket_arn, "*")}}}



def build_statements(log_group_arn: Input[str], repository_arn: Input[str], bucket_arn: Input[str],
                     data_key_alias: str, region: str, release_parameter_arn: Input[str] | None = None) -> list[dict]:
    """The build role: its own log group, its own repository (push, pull for layer cache, scan results), the
    pipeline's artifacts, the data key those artifacts are encrypted with, and (RecordRelease) its service's
    release parameter."""
    record = [{"Sid": "RecordOwnRelease", "Effect": "Allow", "Action": ["ssm:PutParameter"],
               "Resource": release_parameter_arn}] if release_parameter_arn is not None else []
    return record + [
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [log_group_arn, pulumi.Output.concat(log_group_arn, ":log-stream:*")]},
        # GetAuthorizationToken has no resource-level permissions: "*" is the only valid Resource.
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Sid": "PushOwnRepository", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                    "ecr:DescribeImages", "ecr:DescribeImageScanFindings"],
         "Resource": repository_arn},
        {"Sid": "PipelineArtifacts", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
         "Resource": pulumi.Output.concat(bucket_arn, "/*")},
        data_key_use(data_key_alias, bucket_arn, region),
    ]


def pipeline_statements(*, bucket_arn: Input[str], data_key_alias: str, region: str, project_arn: Input[str],
                        service_arn: Input[str], task_family_arn: Input[str], roles_arn: Input[str],
                        pass_role_name_tags: Sequence[str], connection_arns: Sequence[Input[str]] | None,
                        repository: str | None) -> list[dict]:
    """The pipeline role: the artifacts, its own build project, its own ECS service, and PassRole on exactly
    the roles the service's task definition names (what the ECS deploy action registers a revision with),
    by their Name tags, to ECS tasks only. Every ARN is built from names: the document is known in a preview."""
    statements = [
        {"Sid": "Artifacts", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketVersioning",
                    "s3:GetBucketLocation"],
         "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]},
        data_key_use(data_key_alias, bucket_arn, region),
        {"Sid": "OwnBuild", "Effect": "Allow", "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
         "Resource": project_arn},
        # RegisterTaskDefinition and the Describe/List calls have no resource-level permissions.
        {"Sid": "EcsRead", "Effect": "Allow",
         "Action": ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:DescribeTasks", "ecs:ListTasks"],
         "Resource": "*"},
        {"Sid": "TagOwnRevisions", "Effect": "Allow", "Action": ["ecs:TagResource"], "Resource": task_family_arn,
         "Condition": {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}},
        {"Sid": "DeployOwnService", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
         "Resource": service_arn},
        {"Sid": "PassTaskRoles", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": roles_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com",
                                        "iam:ResourceTag/Name": list(pass_role_name_tags)}}},
    ]
    if connection_arns is not None:
        # The connection's ARN ends in a random id: name it by the account's connections, limited to the one
        # repository (the condition key each of the two service prefixes defines).
        for sid, prefix, arn in (("UseConnection", "codestar-connections", connection_arns[0]),
                                 ("UseCodeConnection", "codeconnections", connection_arns[1])):
            statements.append({"Sid": sid, "Effect": "Allow", "Action": [f"{prefix}:UseConnection"],
                               "Resource": arn,
                               "Condition": {"StringEquals": {f"{prefix}:FullRepositoryId": repository}}})
    return statements


# The run CodePipeline starts by itself when a pipeline is created fails on a new stack (the Git connection is still
# PENDING until someone completes it in the console): one alert per pipeline before anyone could act, or even
# confirm the e-mail subscription. Those runs (execution-trigger CreatePipeline) are not announced; a run without the
# field is (issue 30).
NOT_ON_CREATE = {"execution-trigger": {"trigger-type": [{"anything-but": "CreatePipeline"}, {"exists": False}]}}


def failure_pattern(pipeline_names: Sequence[Input[str]], approvals: bool) -> pulumi.Output[str]:
    """EventBridge pattern: an execution of these pipelines FAILED (not the run creating the pipeline starts) (or,
    with approvals, one waits for a person)."""
    def pattern(names: list) -> str:
        failed = {"source": ["aws.codepipeline"], "detail-type": ["CodePipeline Pipeline Execution State Change"],
                  "detail": {"pipeline": names, "state": ["FAILED"], **NOT_ON_CREATE}}
        if not approvals:
            return json.dumps(failed)
        return json.dumps({"source": ["aws.codepipeline"],
                           "$or": [{"detail-type": ["CodePipeline Pipeline Execution State Change"],
                                    "detail": {"pipeline": names, "state": ["FAILED"], **NOT_ON_CREATE}},
                                   {"detail-type": ["CodePipeline Action Execution State Change"],
                                    "detail": {"pipeline": names, "state": ["STARTED"],
                                               "type": {"category": ["Approval"]}}}]})
    return pulumi.Output.all(*pipeline_names).apply(lambda names: pattern(sorted(names)))


class DeliveryTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: DeliveryTierArgs, opts: pulumi.ResourceOptions | None = None):
        p, s, n = args.platform, args.settings, args.platform.namer
        super().__init__("ai-platform:tier:Delivery", name, None, p.tier_options(opts))
        child = pulumi.ResourceOptions(parent=self)
        account = p.account_id

        # --- shared: artifacts bucket (KMS, versioned, TLS-only; S3 sources live under source/) -----------
        expiry = aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-artifacts", status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=s.artifact_retention_days),
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=7),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=1))
        # Protected in prod like every store: it holds the record of what was released (and the S3 sources).
        bucket = private_bucket(self, p, "pipeline-artifacts", kms_key_arn=args.data_key_arn, lifecycle_rules=[expiry],
                                bucket_opts=p.stateful(self),
                                access_log_bucket=args.access_log_bucket_name, log_prefix=None,
                                tags=p.tags(n.base("pipeline-artifacts"), Tier="delivery"))

        # --- source: one connection to the Git host, PENDING until a person completes it ---------------
        connection = None
        if s.source == "connection":
            connection = aws.codestarconnections.Connection(
                "git-connection", name=n.physical("codestar_connection", "git"), provider_type=s.provider_type,
                tags=p.tags(n.base("git"), Tier="delivery"), opts=child)
        connection_arn = connection.arn if connection is not None else None

        connection_scope = None if connection is None else [
            p.arn("codestar-connections", "connection/*"), p.arn("codeconnections", "connection/*")]
        roles_arn = account.apply(lambda a: f"arn:aws:iam::{a}:role/*")
        buildspec = (ROOT / BUILDSPEC).read_text()
        outputs: dict[str, dict] = {k: {} for k in ("pipeline_names", "pipeline_arns", "project_names",
                                                     "build_role_arns", "pipeline_role_arns", "log_group_names")}
        pipelines: list[aws.codepipeline.Pipeline] = []
        unpark = self._unpark(p, args) if args.services else None
        for svc, wired in args.services.items():
            assert unpark is not None, "built whenever there are services"
            tags = p.tags(n.base(svc, "delivery"), Service=svc, Tier="delivery")
            build_path = s.build_path.format(service=svc)

            # --- build: log group, role, project --------------------------------------------------------
            log_name = n.log_group("codebuild", svc)
            logs = log_group(self, p, f"{svc}-build-logs", log_name, kms_key_arn=args.logs_key_arn,
                             retention=s.log_retention_days, tags=tags)
            release_parameter_arn: pulumi.Output[str] | None = None if wired.release_parameter_name is None else \
                pulumi.Output.from_input(wired.release_parameter_name).apply(
                    lambda name: p.arn("ssm", "parameter/" + name.lstrip("/")))
            build = service_role(
                self, p, f"{svc}-build-role", service="codebuild.amazonaws.com",
                name=n.physical("iam_role", svc, "build"), tag_name=n.base(svc, "build"), tags=tags,
                description=f"CodeBuild for {svc}: push to its own repository only",
                inline={f"{svc}-build-policy": policy_json(*build_statements(
                    p.arn("logs", f"log-group:{log_name}"), wired.repository_arn, bucket.arn, args.data_key_alias,
                    p.region, release_parameter_arn))})
            project_name = n.physical("codebuild", svc)
            project = aws.codebuild.Project(
                f"{svc}-build", name=project_name,
                description=f"Build, push and scan-gate the {svc} image",
                service_role=build.role.arn, build_timeout=s.build_timeout_minutes, queued_timeout=60,
                encryption_key=args.data_key_arn,
                artifacts=aws.codebuild.ProjectArtifactsArgs(type="CODEPIPELINE"),
                source=aws.codebuild.ProjectSourceArgs(type="CODEPIPELINE", buildspec=buildspec),
                environment=aws.codebuild.ProjectEnvironmentArgs(
                    compute_type=s.compute_type, image=s.build_image, type=s.environment_type,
                    image_pull_credentials_type="CODEBUILD",
                    # Docker-in-Docker needs the privileged flag (CodeBuild's documented requirement).
                    privileged_mode=True,
                    environment_variables=[
                        aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(name=k, value=v, type="PLAINTEXT")
                        for k, v in (("REPOSITORY_URI", wired.repository_url), ("CONTAINER_NAME", svc),
                                     ("BUILD_PATH", build_path), ("SCAN_FAIL_SEVERITY", s.scan_fail_severity),
                                     *((("RELEASE_PARAMETER", wired.release_parameter_name),)
                                       if wired.release_parameter_name is not None else ()))]),
                logs_config=aws.codebuild.ProjectLogsConfigArgs(
                    cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                        status="ENABLED", group_name=logs.name, stream_name="build"),
                    s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED")),
                tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=build.grants))

            # --- pipeline: role, stages, trigger ------------------------------------------------------
            service_arn = pulumi.Output.all(account, args.cluster_name, wired.ecs_service_name).apply(
                lambda v: f"arn:aws:ecs:{p.region}:{v[0]}:service/{v[1]}/{v[2]}")
            family_arn = pulumi.Output.all(account, wired.task_family).apply(
                lambda v: f"arn:aws:ecs:{p.region}:{v[0]}:task-definition/{v[1]}:*")
            deployer = service_role(
                self, p, f"{svc}-pipeline-role", service="codepipeline.amazonaws.com",
                name=n.physical("iam_role", svc, "pipeline"), tag_name=n.base(svc, "pipeline"), tags=tags,
                description=f"CodePipeline for {svc}: deploy to its own ECS service only",
                inline={f"{svc}-pipeline-policy": policy_json(*pipeline_statements(
                    bucket_arn=bucket.arn, data_key_alias=args.data_key_alias, region=p.region,
                    project_arn=p.arn("codebuild", f"project/{project_name}"),
                    service_arn=service_arn, task_family_arn=family_arn, roles_arn=roles_arn,
                    pass_role_name_tags=wired.pass_role_name_tags, repository=s.repository,
                    connection_arns=connection_scope),
                    {"Sid": "InvokeUnpark", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                     "Resource": p.arn("lambda", f"function:{unpark.name}")})})

            if connection is not None:
                source_action = aws.codepipeline.PipelineStageActionArgs(
                    name=SOURCE_ACTION, category="Source", owner="AWS", provider="CodeStarSourceConnection",
                    version="1", output_artifacts=["source"],
                    configuration={"ConnectionArn": connection.arn,
                                   "FullRepositoryId": required(s.repository, "delivery.repository"),
                                   "BranchName": s.branch, "OutputArtifactFormat": "CODE_ZIP"})
                triggers = [aws.codepipeline.PipelineTriggerArgs(
                    provider_type="CodeStarSourceConnection",
                    git_configuration=aws.codepipeline.PipelineTriggerGitConfigurationArgs(
                        source_action_name=SOURCE_ACTION,
                        pushes=[aws.codepipeline.PipelineTriggerGitConfigurationPushArgs(
                            branches=aws.codepipeline.PipelineTriggerGitConfigurationPushBranchesArgs(
                                includes=[s.branch]),
                            # Only a push touching this service's build context releases it.
                            file_paths=aws.codepipeline.PipelineTriggerGitConfigurationPushFilePathsArgs(
                                includes=[f"{build_path}/**"]))]))]
            else:
                source_action = aws.codepipeline.PipelineStageActionArgs(
                    name=SOURCE_ACTION, category="Source", owner="AWS", provider="S3", version="1",
                    output_artifacts=["source"],
                    configuration={"S3Bucket": bucket.name, "S3ObjectKey": f"source/{svc}.zip",
                                   "PollForSourceChanges": "false"})
                triggers = None
            stages = [
                aws.codepipeline.PipelineStageArgs(name="Source", actions=[source_action]),
                aws.codepipeline.PipelineStageArgs(name="Build", actions=[aws.codepipeline.PipelineStageActionArgs(
                    name="BuildPushScan", category="Build", owner="AWS", provider="CodeBuild", version="1",
                    input_artifacts=["source"], output_artifacts=["image"],
                    configuration={"ProjectName": project.name})]),
            ]
            if s.manual_approval:
                stages.append(aws.codepipeline.PipelineStageArgs(
                    name="Approve", actions=[aws.codepipeline.PipelineStageActionArgs(
                        name="ReleaseApproval", category="Approval", owner="AWS", provider="Manual", version="1",
                        configuration={"CustomData": f"Release {svc} to {n.stack}: the image passed the "
                                                     f"{s.scan_fail_severity} scan gate."})]))
            stages.append(aws.codepipeline.PipelineStageArgs(
                name="Deploy", actions=[aws.codepipeline.PipelineStageActionArgs(
                    name="DeployToEcs", category="Deploy", owner="AWS", provider="ECS", version="1",
                    input_artifacts=["image"],
                    configuration={"ClusterName": args.cluster_name, "ServiceName": wired.ecs_service_name,
                                   "FileName": IMAGE_DEFINITIONS,
                                   "DeploymentTimeout": str(s.deploy_timeout_minutes)})]
                + ([aws.codepipeline.PipelineStageActionArgs(
                    # After the deploy succeeded (run order 2): the released image, for the next `pulumi up`.
                    name=RECORD_ACTION, category="Build", owner="AWS", provider="CodeBuild", version="1",
                    input_artifacts=["image"], run_order=2,
                    configuration={"ProjectName": project.name, "EnvironmentVariables": json.dumps(
                        [{"name": "RELEASE_STEP", "value": "record", "type": "PLAINTEXT"}])})]
                   if wired.release_parameter_name is not None else [])))
            # After the deploy: a service still parked (0 tasks: its first release) goes to its configured counts.
            stages.append(aws.codepipeline.PipelineStageArgs(
                name="Unpark", actions=[aws.codepipeline.PipelineStageActionArgs(
                    name="Unpark", category="Invoke", owner="AWS", provider="Lambda", version="1",
                    configuration={"FunctionName": unpark.name, "UserParameters": pulumi.Output.json_dumps({
                        "cluster": args.cluster_name, "service": wired.ecs_service_name, **dict(wired.counts)})})]))
            pipeline = aws.codepipeline.Pipeline(
                f"{svc}-pipeline", name=n.physical("codepipeline", svc), pipeline_type="V2",
                # SUPERSEDED: a newer commit replaces one still waiting (e.g. at the approval); a running
                # deploy is never interrupted.
                execution_mode="SUPERSEDED", role_arn=deployer.role.arn,
                artifact_stores=[aws.codepipeline.PipelineArtifactStoreArgs(
                    location=bucket.name, type="S3",
                    encryption_key=aws.codepipeline.PipelineArtifactStoreEncryptionKeyArgs(
                        id=args.data_key_arn, type="KMS"))],
                stages=stages, triggers=triggers, tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=deployer.grants))
            pipelines.append(pipeline)
            outputs["pipeline_names"][svc] = pipeline.name
            outputs["pipeline_arns"][svc] = pipeline.arn
            outputs["project_names"][svc] = project.name
            outputs["build_role_arns"][svc] = build.role.arn
            outputs["pipeline_role_arns"][svc] = deployer.role.arn
            outputs["log_group_names"][svc] = log_name

        # --- failure (and approval) notifications -> alerts topic -----------------------------------------
        if pipelines:
            rule = aws.cloudwatch.EventRule(
                "pipeline-events", name=n.physical("eventbridge_rule", "pipeline-events"),
                description="Release pipeline failed" + (" or waits for approval" if s.manual_approval else ""),
                event_pattern=failure_pattern([pl.name for pl in pipelines], s.manual_approval),
                tags=p.tags(n.base("pipeline-events"), Tier="delivery"), opts=child)
            aws.cloudwatch.EventTarget(
                "pipeline-events-alerts", rule=rule.name, arn=args.alerts_topic_arn,
                input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                    input_paths={"pipeline": "$.detail.pipeline", "state": "$.detail.state",
                                 "execution": "$.detail.execution-id", "kind": "$.detail-type"},
                    input_template='"<kind>: pipeline <pipeline> execution <execution> is <state>"'),
                opts=child)

        self.outputs = DeliveryOutputs(artifacts_bucket_name=bucket.name, connection_arn=connection_arn,
                                       unpark_function_name=unpark.name if unpark else None,
                                       unpark_dlq_name=unpark.dlq.name if unpark else None, **outputs)
        publish(self, self.outputs)

    def _unpark(self, p: Platform, args: DeliveryTierArgs) -> PlatformFunction:
        """One function for every pipeline: it may read and set the desired count of the delivered services only,
        register their scalable targets (no resource-level form: a target's ARN carries a random id), and report
        the job's result to CodePipeline (no resource-level form either)."""
        services = [pulumi.Output.all(p.account_id, args.cluster_name, w.ecs_service_name).apply(
            lambda v: f"arn:aws:ecs:{p.region}:{v[0]}:service/{v[1]}/{v[2]}") for w in args.services.values()]
        statements: list[dict] = [
            {"Sid": "OwnServicesCount", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
             "Resource": services},
            {"Sid": "ScalingFloor", "Effect": "Allow", "Action": ["application-autoscaling:RegisterScalableTarget"],
             "Resource": "*", "Condition": {"StringEquals": {
                 "application-autoscaling:service-namespace": "ecs",
                 "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount"}}},
            {"Sid": "JobResult", "Effect": "Allow",
             "Action": ["codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"], "Resource": "*"},
        ]
        return platform_function(self, p, LambdaSpec(name="unpark", handler="handler.handler", source_dir="unpark",
                                                     timeout=60, memory=128),
                                 data_key_arn=args.data_key_arn, logs_key_arn=args.logs_key_arn, statements=statements)
