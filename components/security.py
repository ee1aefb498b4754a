"""Security tier: KMS keys per purpose, the IAM roles later tiers assume, and application secrets.

Keys are split by purpose (data, logs, secrets) so that a key policy can grant a service exactly
what it needs and a compromised grant on one never decrypts the others.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from .config.security import SecuritySettings
from .context import Platform, policy_json, publish
from .recipes.keys import key_policy, kms_key, purpose_grants
from .recipes.roles import MANAGED, service_role

KEY_PURPOSES = ("data", "logs", "secrets")


@dataclasses.dataclass(frozen=True)
class SecurityTierArgs:
    platform: Platform
    settings: SecuritySettings
    # DR (pilot-light/warm-standby): every secret is replicated to this region under this region's key, and the
    # execution role may read the replicas (the DR services' tasks read them there).
    replica_region: str | None = None
    replica_kms_key_arn: pulumi.Input[str] | None = None


@dataclasses.dataclass(frozen=True)
class SecurityOutputs:
    data_key_arn: pulumi.Output[str]
    logs_key_arn: pulumi.Output[str]
    secrets_key_arn: pulumi.Output[str]
    # Aliases other tiers name the keys by in IAM conditions (kms:ResourceAliases): known in a preview.
    key_aliases: Mapping[str, str]
    ecs_task_role_arn: pulumi.Output[str]
    ecs_task_role_name: pulumi.Output[str]
    lambda_role_arn: pulumi.Output[str]
    sagemaker_role_arn: pulumi.Output[str]
    sagemaker_role_name: pulumi.Output[str]
    # The SageMaker role's Name tag: a PassRole condition names the role by it (its ARN is unknown in a preview).
    sagemaker_role_name_tag: str
    secret_arns: Mapping[str, pulumi.Output[str]]
    # Name-based ARN patterns (Secrets Manager appends 6 random characters): IAM documents known in a preview.
    secret_arn_patterns: Mapping[str, pulumi.Output[str]]


class SecurityTier(pulumi.ComponentResource):
    """KMS keys, IAM roles and secrets. Outputs are ARNs/names only; no secret value leaves this tier."""

    def __init__(self, name: str, args: SecurityTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:Security", name, None, p.tier_options(opts))
        s = args.settings
        account = p.account_id
        child = pulumi.ResourceOptions(parent=self)

        keys: dict[str, aws.kms.Key] = {}
        for purpose in KEY_PURPOSES:
            keys[purpose] = kms_key(
                self, p, f"{purpose}-key", purpose=purpose, alias=purpose,
                description=f"{p.namer.base()} {purpose} encryption key",
                policy=account.apply(lambda acct, purpose=purpose: key_policy(  # type: ignore[misc]  # loop-bound lambda
                    acct, *purpose_grants(purpose, acct, p.region))))

        secrets: dict[str, aws.secretsmanager.Secret] = {}
        for secret_name in s.secrets:
            secret = aws.secretsmanager.Secret(
                f"secret-{secret_name}",
                name=p.namer.physical("secret", secret_name),
                description=f"{secret_name} for {p.namer.base()}; value set out of band or generated once",
                kms_key_id=keys["secrets"].arn,
                recovery_window_in_days=s.secret_recovery_window_days,
                replicas=[aws.secretsmanager.SecretReplicaArgs(region=args.replica_region,
                                                               kms_key_id=args.replica_kms_key_arn)]
                if args.replica_region else None,
                tags=p.tags(secret_name),
                opts=child)
            if secret_name in s.generated_secrets:
                # Generated once at create; later previews must not rotate it, hence ignore_changes.
                random = aws.secretsmanager.get_random_password_output(
                    password_length=64, exclude_punctuation=True, opts=p.invoke_options())
                aws.secretsmanager.SecretVersion(
                    f"secret-{secret_name}-initial",
                    secret_id=secret.id,
                    secret_string=pulumi.Output.secret(random.random_password),
                    opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secretString"]))
            secrets[secret_name] = secret
        task = service_role(
            self, p, "ecs-task-role", service="ecs-tasks.amazonaws.com",
            description="Batch jobs' containers (each ECS service has its own task role, in the application tier)",
            tag_name=p.namer.base("ecs-task"))
        lambda_role = service_role(
            self, p, "lambda-role", service="lambda.amazonaws.com",
            description="Platform Lambda functions: logs, tracing, VPC networking", tag_name=p.namer.base("lambda"),
            managed={f"lambda-managed-{i}": arn for i, arn in enumerate(
                [MANAGED + "service-role/AWSLambdaVPCAccessExecutionRole", MANAGED + "AWSXRayDaemonWriteAccess"])})
        sagemaker_tag = p.namer.base("sagemaker")
        sagemaker = service_role(
            self, p, "sagemaker-role", service="sagemaker.amazonaws.com",
            description="SageMaker training and hosting; the ML tier scopes data access", tag_name=sagemaker_tag,
            inline={"sagemaker-logs": policy_json(
                {"Sid": "SageMakerLogs", "Effect": "Allow",
                 "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                            "logs:DescribeLogStreams"],
                 "Resource": p.arn("logs", "log-group:/aws/sagemaker/*")},
                {"Sid": "Metrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
                 "Condition": {"StringLike": {"cloudwatch:namespace": ["aws/sagemaker/*", "/aws/sagemaker/*"]}}})})

        self.outputs = SecurityOutputs(
            data_key_arn=keys["data"].arn, logs_key_arn=keys["logs"].arn, secrets_key_arn=keys["secrets"].arn,
            key_aliases={k: p.namer.kms_alias(k) for k in KEY_PURPOSES},
            ecs_task_role_arn=task.role.arn,
            ecs_task_role_name=task.role.name, lambda_role_arn=lambda_role.role.arn,
            sagemaker_role_arn=sagemaker.role.arn, sagemaker_role_name=sagemaker.role.name,
            sagemaker_role_name_tag=sagemaker_tag, secret_arns={k: v.arn for k, v in secrets.items()},
            secret_arn_patterns={k: p.arn("secretsmanager", f"secret:{p.namer.physical('secret', k)}-??????")
                                 for k in s.secrets})
        publish(self, self.outputs)
