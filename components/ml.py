"""ML tier: container registries, SageMaker data access, hosting and training alarms, Bedrock access, and
the operations functions (training orchestrator, off-hours scheduler) plus the dataset uploader's policy.

The SageMaker role itself belongs to the security tier; this tier only narrows what it can reach (the ML
bucket prefixes, the ML repositories, the data key), because only this tier knows those resources.
The data tier's buckets are optional inputs: without them the bucket-scoped grants, the S3 trigger and the
uploader policy are left out (and endpoints, which need the artifacts bucket, are refused).
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from . import bedrock
from .config.ml import MlSettings, has_instance_storage
from .context import Platform, policy_json, publish
from .recipes.alarms import metric_alarm
from .recipes.buckets import private_bucket
from .recipes.functions import LambdaSpec, platform_function
from .recipes.images import lifecycle_policy, repository
from .recipes.keys import key_policy, kms_key, logs_grants
from .recipes.log_groups import log_group
from .recipes.roles import service_role

METRIC_NAMESPACE = "AiPlatform/ML"          # what the orchestrator emits (functions/training_orchestrator)
REQUEST_SOURCE = "ai-platform.ml"           # custom EventBridge source of training requests
REQUEST_DETAIL_TYPE = "Training Request"
REJECTED_DETAIL_TYPE = "Training Request Rejected"   # the orchestrator's answer to a refused request
ECR_PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages"]
DATA_CAPTURE_PREFIX = "data-capture/"
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"


@dataclasses.dataclass(frozen=True)
class MlTierArgs:
    platform: Platform
    settings: MlSettings
    service_names: Sequence[str]
    data_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    sagemaker_role_arn: pulumi.Input[str]
    sagemaker_role_name: pulumi.Input[str]
    # The security tier's alias of the data key: IAM statements name the key through it
    # (kms:ResourceAliases), so they are complete in a preview.
    data_key_alias: str
    # The SageMaker role's Name tag: the orchestrator may pass only a role carrying it, to SageMaker only.
    sagemaker_role_name_tag: str
    private_subnet_ids: pulumi.Input[Sequence[str]]
    # The network tier's ML group (admits its own members: multi-instance training talks to itself).
    ml_sg_id: pulumi.Input[str]
    artifacts_bucket_name: pulumi.Input[str] | None = None
    artifacts_bucket_arn: pulumi.Input[str] | None = None
    data_bucket_name: pulumi.Input[str] | None = None
    data_bucket_arn: pulumi.Input[str] | None = None
    alarm_topic_arn: pulumi.Input[str] | None = None
    # The data tier's access-log bucket: the invocation-log bucket's server access logs (s3/<key>/).
    access_log_bucket_name: pulumi.Input[str] | None = None


@dataclasses.dataclass(frozen=True)
class MlOutputs:
    repository_urls: Mapping[str, pulumi.Output[str]]
    repository_arns: Mapping[str, pulumi.Output[str]]
    bedrock_invoke_policy_arn: pulumi.Output[str] | None
    bedrock_model_arns: Sequence[str]
    endpoint_names: Mapping[str, pulumi.Output[str]]
    training_log_group_name: pulumi.Input[str]
    training_failed_alarm_arn: pulumi.Output[str]
    function_names: Mapping[str, pulumi.Output[str]]
    dlq_names: Mapping[str, pulumi.Output[str]]     # each function's dead-letter queue
    uploader_policy_arn: pulumi.Output[str] | None
    # What a person or CI attaches to submit training requests and push training images (and nothing more).
    submitter_policy_arn: pulumi.Output[str] | None = None
    # The repositories' names (explicit, known in a preview): the DR region's replication targets take them.
    repository_names: Mapping[str, pulumi.Output[str]] = dataclasses.field(default_factory=dict)
    # Every repository's lifecycle policy (JSON): the DR tier gives the DR region's replicas the same one.
    ecr_lifecycle_policy: str | None = None
    # Objects whose creation starts something (an S3 trigger: a training request starts SageMaker training): the
    # power to write them is the submitter's alone, so no service contract's bucket grant may cover them.
    trigger_object_arns: Sequence[pulumi.Output[str]] = ()


def bedrock_model_arns(region: str, models: Sequence[str]) -> list[str]:
    return [a for m in models for a in bedrock.model_arns(region, m)]


def _join(values: pulumi.Input[Sequence[str]]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(values).apply(lambda v: ",".join(v))


INVOCATION_PREFIX = "invocations"


class MlTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: MlTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:Ml", name, None, p.tier_options(opts))
        s = args.settings
        self._settings = s
        n = p.namer
        child = pulumi.ResourceOptions(parent=self)
        account = p.account_id
        arn = p.arn

        alias = args.data_key_alias
        sagemaker_role_tag = args.sagemaker_role_name_tag
        data_key = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [alias]}}
        self.data_key_alias_arn = arn("kms", alias)

        # --- ECR ------------------------------------------------------------------------------------
        repositories: dict[str, aws.ecr.Repository] = {}
        for image in [*args.service_names, *s.images]:
            if image in repositories:
                continue
            repo_name = n.physical("ecr", image)
            repo = repository(
                f"repo-{image}", name=repo_name, immutable_tags=s.immutable_tags, kms_key_arn=args.data_key_arn,
                keep_tagged=s.keep_tagged_images, untagged_days=s.untagged_expiry_days, force_delete=not p.protect,
                tags=p.tags(repo_name, Image=image, Kind="ml" if image in s.images else "service"),
                opts=p.stateful(self), child=child)
            repositories[image] = repo
        ml_repo_names = [n.physical("ecr", i) for i in s.images]
        ml_repo_arns = [arn("ecr", f"repository/{r}") for r in ml_repo_names]  # name-based: known in a preview

        # --- SageMaker execution role scope ----------------------------------------------------------
        has_artifacts = args.artifacts_bucket_arn is not None and args.artifacts_bucket_name is not None
        has_data = args.data_bucket_arn is not None and args.data_bucket_name is not None
        # The same four, narrowed for the type checker: "" only where has_artifacts / has_data is false (never read).
        art_arn, art_name = args.artifacts_bucket_arn or "", args.artifacts_bucket_name or ""
        data_arn, data_name = args.data_bucket_arn or "", args.data_bucket_name or ""
        sm_statements: list[dict] = []
        if ml_repo_arns:
            sm_statements.append({"Sid": "PullMlImages", "Effect": "Allow",
                                  "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                             "ecr:BatchCheckLayerAvailability"], "Resource": ml_repo_arns})
        sm_statements += [
            # GetAuthorizationToken has no resource-level permissions: "*" is the only valid Resource.
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
            # Only through the services that encrypt the job's data with it (S3 objects, SageMaker's own volumes
            # and artifacts): the role runs customer training code and must not use the platform key directly.
            # kms:Encrypt: OutputDataConfig.KmsKeyId given as an alias (the orchestrator passes the data key's alias
            # ARN) needs it (SageMaker API reference, OutputDataConfig).
            {"Sid": "UseDataKey", "Effect": "Allow",
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": "*",
             "Condition": {**data_key, "StringEquals": {"kms:ViaService": [
                 f"s3.{p.region}.amazonaws.com", f"sagemaker.{p.region}.amazonaws.com"]}}},
            {"Sid": "GrantDataKeyToVolumes", "Effect": "Allow", "Action": ["kms:CreateGrant"], "Resource": "*",
             "Condition": {**data_key, "Bool": {"kms:GrantIsForAWSResource": "true"}}},
            {"Sid": "VpcNetworking", "Effect": "Allow",
             "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                        "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                        "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                        "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"], "Resource": "*"},
        ]
        if has_artifacts:
            sm_statements += [
                {"Sid": "ListArtifactPrefixes", "Effect": "Allow", "Action": ["s3:ListBucket"],
                 "Resource": args.artifacts_bucket_arn,
                 "Condition": {"StringLike": {"s3:prefix": [f"{x}*" for x in s.artifact_prefixes]}}},
                {"Sid": "ReadWriteArtifacts", "Effect": "Allow",
                 "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                 "Resource": [pulumi.Output.concat(art_arn, "/", x, "*")
                              for x in s.artifact_prefixes]},
            ]
        if has_data:
            sm_statements += [
                {"Sid": "ListDatasets", "Effect": "Allow", "Action": ["s3:ListBucket"],
                 "Resource": args.data_bucket_arn,
                 "Condition": {"StringLike": {"s3:prefix": [f"{s.dataset_prefix}*"]}}},
                {"Sid": "ReadDatasets", "Effect": "Allow", "Action": ["s3:GetObject"],
                 "Resource": pulumi.Output.concat(data_arn, "/", s.dataset_prefix, "*")},
            ]
        sagemaker_policy = aws.iam.RolePolicy("sagemaker-ml-access", role=args.sagemaker_role_name,
                                                   policy=policy_json(*sm_statements), opts=child)

        # --- training jobs: log group, failure metric alarm -------------------------------------------
        # SageMaker writes every training job's logs to this fixed, account-wide name (one per region): an
        # account singleton like the trail, so only the account-baseline stack creates it (a second stack in
        # the same account would fail with ResourceAlreadyExistsException).
        training_log_group_name: pulumi.Input[str] = TRAINING_LOG_GROUP
        if p.account_baseline:
            training_log_group_name = log_group(
                self, p, "training-jobs-logs", n.fixed("log_group", TRAINING_LOG_GROUP),
                kms_key_arn=args.logs_key_arn, retention=s.training_log_retention_days,
                opts=p.stateful(self)).name
        topics = [args.alarm_topic_arn] if args.alarm_topic_arn is not None else []
        training_failed_alarm = metric_alarm(
            self, p, "training-failed-alarm", "training-jobs-failed",
            description="SageMaker training jobs of this stack did not complete: Failed, or Stopped (MaxRuntimeExceeded, "
                        "MaxWaitTimeExceeded); counted by the training orchestrator from 'SageMaker Training Job "
                        "State Change' events.",
            namespace=METRIC_NAMESPACE, metric="TrainingJobsFailed", dimensions={"Stack": p.stack},
            statistic="Sum", period=300, periods=1, threshold=s.training.failed_jobs_threshold, op=">=",
            missing="notBreaching", actions=topics, severity="warning")

        # --- Bedrock ----------------------------------------------------------------------------------
        bedrock_invoke_policy_arn: pulumi.Output[str] | None = None
        if s.bedrock_models:
            policy_name = n.physical("iam_policy", "bedrock-invoke")
            bedrock_invoke_policy = aws.iam.Policy(
                "bedrock-invoke", name=policy_name,
                description="Invoke only the Bedrock foundation models listed in ai-platform:ml.bedrockModels",
                policy=p.account_id.apply(lambda account: json.dumps({"Version": "2012-10-17", "Statement":
                    bedrock.invoke_statements(p.region, account, s.bedrock_models, sid="InvokeListedModels")})),
                tags=p.tags(policy_name), opts=child)
            bedrock_invoke_policy_arn = bedrock_invoke_policy.arn
        if s.manage_invocation_logging:
            self._invocation_logging(p, args.access_log_bucket_name)

        # --- endpoints (only when configured: billed per instance-hour) --------------------------------
        endpoints: dict[str, aws.sagemaker.Endpoint] = {}
        if s.endpoints and not has_artifacts:
            raise pulumi.RunError("ai-platform:ml.endpoints needs the data tier's ml-artifacts bucket "
                                  "(model data and data capture live there)")
        for ep_name, ep in s.endpoints.items():
            repo, tag = ep.image.split(":", 1)
            endpoint_name = n.physical("sagemaker", ep_name)
            ep_tags = p.tags(endpoint_name, **({s.off_hours.tag_key: "true"} if ep.off_hours else {}))
            model = aws.sagemaker.Model(
                f"model-{ep_name}", execution_role_arn=args.sagemaker_role_arn,
                primary_container=aws.sagemaker.ModelPrimaryContainerArgs(
                    image=pulumi.Output.concat(repositories[repo].repository_url, ":", tag),
                    model_data_url=pulumi.Output.concat("s3://", art_name, "/", ep.model_data_key)),
                enable_network_isolation=ep.network_isolation,
                vpc_config=aws.sagemaker.ModelVpcConfigArgs(subnets=args.private_subnet_ids,
                                                            security_group_ids=[args.ml_sg_id]),
                tags=p.tags(n.base(ep_name, "model")),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[sagemaker_policy]))
            capture = None
            if ep.data_capture_percent > 0:
                capture = aws.sagemaker.EndpointConfigurationDataCaptureConfigArgs(
                    enable_capture=True, initial_sampling_percentage=ep.data_capture_percent,
                    destination_s3_uri=pulumi.Output.concat("s3://", art_name, "/",
                                                            DATA_CAPTURE_PREFIX, ep_name, "/"),
                    kms_key_id=args.data_key_arn,
                    capture_options=[aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(
                        capture_mode=m) for m in ("Input", "Output")])
            config = aws.sagemaker.EndpointConfiguration(
                f"endpoint-config-{ep_name}", kms_key_arn=args.data_key_arn,
                production_variants=[aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name="primary", model_name=model.name, instance_type=ep.instance_type,
                    initial_instance_count=ep.instance_count, initial_variant_weight=1.0)],
                data_capture_config=capture, tags=p.tags(n.base(ep_name, "config")), opts=child)
            endpoint_logs = log_group(
                self, p, f"endpoint-{ep_name}-logs", n.service_log_group("/aws/sagemaker/Endpoints", endpoint_name),
                kms_key_arn=args.logs_key_arn)
            # The group must exist before the endpoint starts, or SageMaker creates it unencrypted and
            # never-expiring and this create then fails with ResourceAlreadyExistsException.
            endpoints[ep_name] = aws.sagemaker.Endpoint(
                f"endpoint-{ep_name}", name=endpoint_name, endpoint_config_name=config.name, tags=ep_tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[endpoint_logs]))

        # --- training orchestrator ----------------------------------------------------------------------
        job_prefix = n.physical("sagemaker", "train")
        env: dict[str, pulumi.Input[str]] = {
            "SAGEMAKER_ROLE_ARN": args.sagemaker_role_arn,
            "OUTPUT_KMS_KEY_ARN": self.data_key_alias_arn,  # SageMaker accepts an alias ARN
            "DEFAULT_INSTANCE_TYPE": s.training.default_instance_type,
            "ALLOWED_INSTANCE_TYPES": ",".join(s.training.allowed_instance_types),
            # Types whose local NVMe storage refuses a VolumeKmsKeyId (the handler leaves it out for them).
            "LOCAL_STORAGE_INSTANCE_TYPES": ",".join(t for t in s.training.allowed_instance_types
                                                     if has_instance_storage(t)),
            "MAX_INSTANCE_COUNT": str(s.training.max_instance_count),
            "DEFAULT_SPOT": "true" if s.training.default_spot else "false",
            "MAX_RUNTIME_SECONDS": str(s.training.max_runtime_seconds),
            "MAX_WAIT_SECONDS": str(s.training.max_wait_seconds),
            "MAX_RUNTIME_LIMIT_SECONDS": str(s.training.max_runtime_limit_seconds),
            "MAX_WAIT_LIMIT_SECONDS": str(s.training.max_wait_limit_seconds),
            "JOB_NAME_PREFIX": job_prefix,
            "ALLOWED_IMAGE_REPOSITORIES": ",".join(ml_repo_names),
            "SUBNET_IDS": _join(args.private_subnet_ids),
            "SECURITY_GROUP_IDS": args.ml_sg_id,
            "STACK": p.stack,
            "PLATFORM_TAGS": json.dumps(p.tags()),
        }
        # What the SageMaker role's grants above let it read (datasets, artifacts) and write (artifacts): the
        # handler refuses an input, output or checkpoint location outside them before any GPU hour is spent.
        readable: list[pulumi.Output[str]] = []
        writable: list[pulumi.Output[str]] = []
        if has_data:
            readable.append(pulumi.Output.concat("s3://", data_name, "/", s.dataset_prefix))
        if has_artifacts:
            writable += [pulumi.Output.concat("s3://", art_name, "/", x)
                         for x in s.artifact_prefixes if x != DATA_CAPTURE_PREFIX]
            readable += writable
            if "models/" in s.artifact_prefixes:
                env["DEFAULT_OUTPUT_S3_URI"] = pulumi.Output.concat("s3://", art_name, "/models/")
            if "checkpoints/" in s.artifact_prefixes:
                env["DEFAULT_CHECKPOINT_S3_URI"] = pulumi.Output.concat("s3://", art_name,
                                                                        "/checkpoints/")
        if readable:
            env["ALLOWED_INPUT_S3_PREFIXES"] = pulumi.Output.all(*readable).apply(lambda v: ",".join(v))
        if writable:
            env["ALLOWED_OUTPUT_S3_PREFIXES"] = pulumi.Output.all(*writable).apply(lambda v: ",".join(v))

        job_arns = arn("sagemaker", f"training-job/{job_prefix.lower()}-*")
        orchestrator_statements: list[dict] = [
            # Bounded in IAM as well as in the handler: only the allowed instance types, at most the runtime limit,
            # output and training volumes under the data key.
            {"Sid": "StartTrainingJobs", "Effect": "Allow", "Action": ["sagemaker:CreateTrainingJob"],
             "Resource": job_arns, "Condition": {
                 "ArnEquals": {"sagemaker:OutputKmsKey": self.data_key_alias_arn},
                 "ArnEqualsIfExists": {"sagemaker:VolumeKmsKey": self.data_key_alias_arn},
                 "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(s.training.allowed_instance_types)},
                 "Null": {"sagemaker:InstanceTypes": "false", "sagemaker:MaxRuntimeInSeconds": "false"},
                 "NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": str(s.training.max_runtime_limit_seconds)}}},
            {"Sid": "DescribeAndTagTrainingJobs", "Effect": "Allow",
             "Action": ["sagemaker:DescribeTrainingJob", "sagemaker:AddTags"], "Resource": job_arns},
            # The role is auto-named (its ARN is unknown in a preview): it is named by its Name tag instead, so
            # the document is complete and checkable in a preview; the handler also insists on the exact ARN.
            {"Sid": "PassSageMakerRole", "Effect": "Allow", "Action": ["iam:PassRole"],
             "Resource": account.apply(lambda a: f"arn:aws:iam::{a}:role/*"),
             "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com",
                                            "iam:ResourceTag/Name": sagemaker_role_tag}}},
            {"Sid": "EmitMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
             "Condition": {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}}},
            # A refused request (bounds, quota) is announced: the requester hears it through the warnings topic.
            {"Sid": "AnnounceRejections", "Effect": "Allow", "Action": ["events:PutEvents"],
             "Resource": arn("events", "event-bus/default"),
             "Condition": {"StringEquals": {"events:source": REQUEST_SOURCE,
                                            "events:detail-type": REJECTED_DETAIL_TYPE}}},
        ]
        if has_data:
            orchestrator_statements += [
                {"Sid": "ReadTrainingRequests", "Effect": "Allow", "Action": ["s3:GetObject"],
                 "Resource": pulumi.Output.concat(data_arn, "/", s.training.request_prefix, "*")},
                {"Sid": "DecryptTrainingRequests", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*",
                 "Condition": {**data_key, "StringEquals": {"kms:ViaService": f"s3.{p.region}.amazonaws.com"}}},
            ]
        patterns: dict[str, pulumi.Input[str]] = {
            # The default bus is the account's: every stack in it sees every request, so each stack's rule matches
            # only requests naming it (detail.stack) — never another stack's (the flow check's bus isolation).
            "training-requests": json.dumps({"source": [REQUEST_SOURCE], "detail-type": [REQUEST_DETAIL_TYPE],
                                             "detail": {"stack": [p.stack]}}),
            # Every job that does not complete: Failed, and Stopped (MaxRuntimeExceeded, MaxWaitTimeExceeded).
            "training-failed": json.dumps({
                "source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
                "detail": {"TrainingJobStatus": ["Failed", "Stopped"], "TrainingJobName": [{"prefix": job_prefix}]}}),
        }
        if has_data:
            # Needs EventBridge notifications enabled on the data bucket (owned by the data tier).
            patterns["training-requests-s3"] = pulumi.Output.json_dumps({
                "source": ["aws.s3"], "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [args.data_bucket_name]},
                           "object": {"key": [{"prefix": s.training.request_prefix}]}}})
        orchestrator = platform_function(
            self, p, LambdaSpec(name="training-orchestrator", handler="handler.handler",
                                source_dir="training_orchestrator", timeout=60, memory=256, environment=env),
            data_key_arn=args.data_key_arn, logs_key_arn=args.logs_key_arn, statements=orchestrator_statements,
            dlq_statements=[{
                "Sid": "RulesDeliverUndeliverableEvents", "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                # ARNs from the (explicit) names: the document is complete in a preview, for the pack to check.
                "Resource": arn("sqs", n.physical("sqs", "training-orchestrator", "dlq")),
                "Condition": {"ArnEquals": {"aws:SourceArn": [
                    arn("events", f"rule/{n.physical('eventbridge_rule', k)}") for k in patterns]}}}])
        rules: dict[str, aws.cloudwatch.EventRule] = {}
        for rule_key, pattern in patterns.items():
            rule_name = n.physical("eventbridge_rule", rule_key)
            rule = aws.cloudwatch.EventRule(
                f"rule-{rule_key}", name=rule_name, description=f"{rule_key} -> training orchestrator",
                event_pattern=pattern, tags=p.tags(rule_name), opts=child)
            aws.lambda_.Permission(
                f"rule-{rule_key}-invoke", action="lambda:InvokeFunction", function=orchestrator.function.name,
                principal="events.amazonaws.com", source_arn=rule.arn, source_account=account, opts=child)
            aws.cloudwatch.EventTarget(
                f"rule-{rule_key}-target", rule=rule.name, arn=orchestrator.function.arn,
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_event_age_in_seconds=3600,
                                                                       maximum_retry_attempts=10),
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=orchestrator.dlq.arn),
                opts=child)
            rules[rule_key] = rule
        # A refused request reaches people: the orchestrator's "Training Request Rejected" event -> warnings topic,
        # the reasons (the quota named) in the message.
        if args.alarm_topic_arn is not None:
            rejected_name = n.physical("eventbridge_rule", "training-rejected")
            rejected = aws.cloudwatch.EventRule(
                "rule-training-rejected", name=rejected_name, description="refused training request -> warnings",
                event_pattern=json.dumps({"source": [REQUEST_SOURCE], "detail-type": [REJECTED_DETAIL_TYPE],
                                          "detail": {"stack": [p.stack]}}),
                tags=p.tags(rejected_name), opts=child)
            aws.cloudwatch.EventTarget(
                "rule-training-rejected-target", rule=rejected.name, arn=args.alarm_topic_arn,
                input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                    input_paths={"errors": "$.detail.errors", "quota": "$.detail.quota", "stack": "$.detail.stack"},
                    input_template='"Training request refused in <stack> (quota: <quota>): <errors>"'),
                opts=child)
        function_names: dict[str, pulumi.Output[str]] = {"training-orchestrator": orchestrator.function.name}
        # Each function's dead-letter queue: the observability tier alarms on any message in it.
        dlq_names: dict[str, pulumi.Output[str]] = {"training-orchestrator": orchestrator.dlq.name}

        # --- off-hours scheduler (non-prod by value: offHours.enabled) ------------------------------
        if s.off_hours.enabled:
            offhours = self._offhours(p, args, arn, data_key)
            function_names["offhours-scheduler"] = offhours.function.name
            dlq_names["offhours-scheduler"] = offhours.dlq.name

        # --- dataset uploader (a CLI): the policy its users attach -----------------------------------
        uploader_policy_arn: pulumi.Output[str] | None = None
        if has_data:
            policy_name = n.physical("iam_policy", "dataset-uploader")
            uploader = aws.iam.Policy(
                "dataset-uploader", name=policy_name,
                description=f"functions/dataset_uploader: write datasets under {s.dataset_prefix} of the data bucket",
                policy=policy_json(
                    {"Sid": "CheckBucketAndListDatasets", "Effect": "Allow", "Action": ["s3:ListBucket"],
                     "Resource": args.data_bucket_arn,
                     "Condition": {"StringLike": {"s3:prefix": [f"{s.dataset_prefix}*"]}}},
                    {"Sid": "WriteDatasets", "Effect": "Allow",
                     "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload",
                                "s3:ListMultipartUploadParts"],
                     "Resource": pulumi.Output.concat(data_arn, "/", s.dataset_prefix, "*")},
                    {"Sid": "EncryptWithDataKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                     "Resource": "*",
                     "Condition": {**data_key, "StringEquals": {"kms:ViaService": f"s3.{p.region}.amazonaws.com"}}}),
                tags=p.tags(policy_name), opts=child)
            uploader_policy_arn = uploader.arn

        # --- ml-submitter: submit training requests and push training images, nothing more ------------------
        submitter_policy_arn: pulumi.Output[str] | None = None
        if has_data:
            policy_name = n.physical("iam_policy", "ml-submitter")
            submit: list[dict] = [
                {"Sid": "PutTrainingRequests", "Effect": "Allow", "Action": ["s3:PutObject"],
                 "Resource": pulumi.Output.concat(data_arn, "/", s.training.request_prefix, "*")},
                {"Sid": "EncryptRequestsWithDataKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey"],
                 "Resource": "*",
                 "Condition": {**data_key, "StringEquals": {"kms:ViaService": f"s3.{p.region}.amazonaws.com"}}},
                {"Sid": "SendTrainingRequests", "Effect": "Allow", "Action": ["events:PutEvents"],
                 "Resource": arn("events", "event-bus/default"),
                 "Condition": {"StringEquals": {"events:source": REQUEST_SOURCE,
                                                "events:detail-type": REQUEST_DETAIL_TYPE}}},
            ]
            if ml_repo_arns:
                submit += [
                    # GetAuthorizationToken has no resource-level permissions: "*" is the only valid Resource.
                    {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
                    {"Sid": "PushTrainingImages", "Effect": "Allow", "Action": ECR_PUSH, "Resource": ml_repo_arns},
                ]
            submitter = aws.iam.Policy(
                "ml-submitter", name=policy_name,
                description=f"Submit training requests (s3 {s.training.request_prefix} or a '{REQUEST_DETAIL_TYPE}' "
                            "event) and push the ML images; nothing more (docs/training.md)",
                policy=policy_json(*submit), tags=p.tags(policy_name), opts=child)
            submitter_policy_arn = submitter.arn

        triggers = ([pulumi.Output.concat(args.data_bucket_arn, "/", s.training.request_prefix, "*")]
                    if args.data_bucket_arn is not None else [])
        self.outputs = MlOutputs(
            trigger_object_arns=triggers,
            repository_urls={k: r.repository_url for k, r in repositories.items()},
            # From the repository names (what r.arn will be): known in a preview, so IAM documents naming a
            # repository (the delivery tier's build roles) can be checked before it exists.
            repository_arns={k: pulumi.Output.all(p.account_id, r.name).apply(
                lambda v: f"arn:aws:ecr:{p.region}:{v[0]}:repository/{v[1]}") for k, r in repositories.items()},
            bedrock_invoke_policy_arn=bedrock_invoke_policy_arn,
            bedrock_model_arns=bedrock_model_arns(p.region, s.bedrock_models),
            endpoint_names={k: e.name for k, e in endpoints.items()}, training_log_group_name=training_log_group_name,
            training_failed_alarm_arn=training_failed_alarm.arn, function_names=function_names,
            dlq_names=dlq_names, uploader_policy_arn=uploader_policy_arn, submitter_policy_arn=submitter_policy_arn,
            repository_names={k: r.name for k, r in repositories.items()},
            ecr_lifecycle_policy=lifecycle_policy(s.keep_tagged_images, s.untagged_expiry_days))
        publish(self, self.outputs)

    def _offhours(self, p: Platform, args: MlTierArgs, arn, data_key: dict):
        s = self._settings.off_hours
        n = p.namer
        state_path = f"/{p.project}/{p.stack}/offhours"
        tagged = {"StringEqualsIgnoreCase": {f"aws:ResourceTag/{s.tag_key}": "true"},
                  "StringNotEquals": {"aws:ResourceTag/Environment": "prod"}}
        statements = [
            {"Sid": "ListEcs", "Effect": "Allow", "Action": ["ecs:ListClusters", "ecs:ListServices"], "Resource": "*"},
            {"Sid": "DescribeServices", "Effect": "Allow", "Action": ["ecs:DescribeServices"],
             "Resource": arn("ecs", "service/*/*")},
            {"Sid": "ScaleTaggedServices", "Effect": "Allow", "Action": ["ecs:UpdateService"],
             "Resource": arn("ecs", "service/*/*"), "Condition": tagged},
            {"Sid": "ListEndpoints", "Effect": "Allow", "Action": ["sagemaker:ListEndpoints"], "Resource": "*"},
            {"Sid": "DescribeEndpoints", "Effect": "Allow",
             "Action": ["sagemaker:DescribeEndpoint", "sagemaker:ListTags"],
             "Resource": arn("sagemaker", "endpoint/*")},
            {"Sid": "DeleteTaggedEndpoints", "Effect": "Allow", "Action": ["sagemaker:DeleteEndpoint"],
             "Resource": arn("sagemaker", "endpoint/*"), "Condition": tagged},
            {"Sid": "RecreateTaggedEndpoints", "Effect": "Allow",
             "Action": ["sagemaker:CreateEndpoint", "sagemaker:AddTags"],
             "Resource": [arn("sagemaker", "endpoint/*"), arn("sagemaker", "endpoint-config/*")],
             "Condition": {"StringEqualsIgnoreCase": {f"aws:RequestTag/{s.tag_key}": "true"},
                           "StringNotEquals": {"aws:RequestTag/Environment": "prod"}}},
            {"Sid": "EndpointVolumesUseDataKey", "Effect": "Allow", "Action": ["kms:CreateGrant", "kms:DescribeKey"],
             "Resource": "*", "Condition": data_key},
            {"Sid": "StateRecords", "Effect": "Allow",
             "Action": ["ssm:PutParameter", "ssm:GetParameter", "ssm:GetParametersByPath", "ssm:DeleteParameter"],
             "Resource": [arn("ssm", f"parameter{state_path}"), arn("ssm", f"parameter{state_path}/*")]},
        ]
        fn = platform_function(
            self, p, LambdaSpec(name="offhours-scheduler", handler="handler.handler", source_dir="offhours_scheduler",
                                timeout=300, memory=256,
                                environment={"STATE_PATH": state_path, "TAG_KEY": s.tag_key,
                                             "ENVIRONMENT": p.environment}),
            data_key_arn=args.data_key_arn, logs_key_arn=args.logs_key_arn, statements=statements)
        schedule_role = service_role(
            self, p, "offhours-schedule-role", service="scheduler.amazonaws.com",
            description="EventBridge Scheduler invokes the off-hours scheduler function",
            tag_name=n.base("offhours-schedule"),
            inline={"offhours-schedule-invoke": policy_json(
                {"Sid": "InvokeScheduler", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                 "Resource": arn("lambda", f"function:{fn.name}")})})
        role, invoke = schedule_role.role, schedule_role.policies["offhours-schedule-invoke"]
        for action, hour in (("stop", s.stop_hour), ("start", s.start_hour)):
            dom, dow = ("*", "?") if s.days == "*" else ("?", s.days)
            aws.scheduler.Schedule(
                f"offhours-{action}", name=n.physical("eventbridge_rule", "offhours", action),
                description=f"{action} OffHours-tagged ECS services and SageMaker endpoints",
                schedule_expression=f"cron(0 {hour} {dom} * {dow} *)", schedule_expression_timezone=s.time_zone,
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=fn.function.arn, role_arn=role.arn, input=json.dumps({"action": action}),
                    retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_event_age_in_seconds=3600,
                                                                             maximum_retry_attempts=3)),
                # The role must be allowed to invoke before the first run (IAM is eventually consistent).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[fn.function, invoke]))
        return fn


    def _invocation_logging(self, p: Platform, access_log_bucket: pulumi.Input[str] | None) -> None:
        """Bedrock model invocation logging (who asked which model what, and the answer): to a KMS-encrypted log
        group and, for full and large payloads, a KMS-encrypted bucket, both kept ml.invocationLogRetentionDays.
        One configuration per account and Region ("Monitor model invocation using CloudWatch Logs and Amazon S3",
        https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html): the stack that sets
        ml.manageInvocationLogging owns it, and it records every stack's invocations in that account."""
        s, n = self._settings, p.namer
        account, region = p.account_id, p.region

        def writer(a: str) -> dict:
            return {"StringEquals": {"aws:SourceAccount": a}, "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{region}:{a}:*"}}
        key = kms_key(self, p, "invocation-logs-key", purpose="bedrock-logs", alias="bedrock-logs",
                      description=f"{n.base()} Bedrock model invocation logs (CloudWatch Logs and S3)",
                      policy=account.apply(lambda a: key_policy(a, *logs_grants(a, region), {
                          "Sid": "BedrockWritesInvocationLogs", "Effect": "Allow",
                          "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": ["kms:GenerateDataKey"],
                          "Resource": "*", "Condition": writer(a)})))
        group_name = n.log_group("bedrock", "model-invocations")
        group = log_group(self, p, "invocation-logs", group_name, kms_key_arn=key.arn,
                          retention=s.invocation_log_retention_days)
        bucket = private_bucket(
            self, p, "bedrock-invocations", kms_key_arn=key.arn, logical_name="invocation-logs-bucket",
            access_log_bucket=access_log_bucket, log_prefix="s3/bedrock-invocations/",
            bucket_opts=p.stateful(self), tags=p.tags(n.base("bedrock-invocations"), Purpose="bedrock-logs"),
            lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-invocation-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=s.invocation_log_retention_days),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=1),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1))],
            extra_statements=lambda arn: [{
                "Sid": "BedrockWritesInvocationLogs", "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "s3:PutObject",
                "Resource": pulumi.Output.all(arn, account).apply(
                    lambda v: f"{v[0]}/{INVOCATION_PREFIX}/AWSLogs/{v[1]}/BedrockModelInvocationLogs/*"),
                "Condition": account.apply(writer)}])
        role = service_role(
            self, p, "invocation-logs-role", service="bedrock.amazonaws.com",
            description="Bedrock writes model invocation logs to its log group",
            tag_name=n.base("bedrock-invocation-logs"), name=n.physical("iam_role", "bedrock-invocation-logs"),
            inline={"invocation-logs-write": policy_json({
                "Sid": "WriteInvocationLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                # from the group's explicit name: known in a preview
                "Resource": account.apply(lambda a: f"arn:aws:logs:{region}:{a}:log-group:{group_name}:log-stream:*")})})
        aws.bedrockmodel.InvocationLoggingConfiguration(
            "invocation-logging", logging_config={
                "text_data_delivery_enabled": True, "image_data_delivery_enabled": True,
                "embedding_data_delivery_enabled": True, "video_data_delivery_enabled": True,
                "cloudwatch_config": {"log_group_name": group.name, "role_arn": role.role.arn,
                                      "large_data_delivery_s3_config": {"bucket_name": bucket.name,
                                                                        "key_prefix": f"{INVOCATION_PREFIX}/large"}},
                "s3_config": {"bucket_name": bucket.name, "key_prefix": INVOCATION_PREFIX}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*role.policies.values(), *(
                [bucket.policy] if bucket.policy is not None else [])]))
