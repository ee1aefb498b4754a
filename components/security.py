"""Security tier: KMS keys per purpose, the IAM roles later tiers assume, and application secrets.

Keys are split by purpose (data, logs, secrets) so that a key policy can grant a service exactly
what it needs and a compromised grant on one never decrypts the others.
"""
from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_aws as aws

from .context import Platform, assume_role_policy, policy_json

KEY_PURPOSES = ("data", "logs", "secrets")
# Services that encrypt with the data key on their own behalf (not through an IAM caller).
DATA_KEY_SERVICES = ["events.amazonaws.com", "sns.amazonaws.com", "s3.amazonaws.com", "delivery.logs.amazonaws.com",
                     "sqs.amazonaws.com", "budgets.amazonaws.com"]


@dataclasses.dataclass(frozen=True)
class SecurityTierArgs:
    platform: Platform


def key_policy(purpose: str, account: str, region: str) -> str:
    root = {"Sid": "AccountAdministersKey", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}
    statements = [root]
    if purpose == "logs":
        statements.append({
            "Sid": "CloudWatchLogsUseKey", "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:log-group:*"}}})
    if purpose == "data":
        statements.append({
            "Sid": "AwsServicesEncryptData", "Effect": "Allow", "Principal": {"Service": DATA_KEY_SERVICES},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}})
        # CloudWatch alarms publishing to the KMS-encrypted alerts topic: AWS documents this grant without a
        # source condition (alarm actions do not carry one); the topic policy limits who may publish.
        statements.append({
            "Sid": "CloudWatchAlarmsToEncryptedTopics", "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class SecurityTier(pulumi.ComponentResource):
    """KMS keys, IAM roles and secrets. Outputs are ARNs/names only; no secret value leaves this tier."""

    def __init__(self, name: str, args: SecurityTierArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ai-platform:tier:Security", name, None, opts)
        p = args.platform
        s = p.settings.security
        account = p.account_id()
        child = pulumi.ResourceOptions(parent=self)

        self.keys: dict[str, aws.kms.Key] = {}
        for purpose in KEY_PURPOSES:
            key = aws.kms.Key(
                f"{purpose}-key",
                description=f"{p.namer.base()} {purpose} encryption key",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=s.kms_deletion_window_days,
                policy=account.apply(lambda acct, purpose=purpose: key_policy(purpose, acct, p.region)),
                tags=p.tags(p.namer.base(purpose), Purpose=purpose),
                opts=p.stateful(self))
            aws.kms.Alias(f"{purpose}-key-alias", name=f"alias/{p.namer.physical('kms_alias', purpose)}",
                          target_key_id=key.key_id, opts=child)
            self.keys[purpose] = key
        self.data_key_arn = self.keys["data"].arn
        self.logs_key_arn = self.keys["logs"].arn
        self.secrets_key_arn = self.keys["secrets"].arn

        self.secrets: dict[str, aws.secretsmanager.Secret] = {}
        for secret_name in s.secrets:
            secret = aws.secretsmanager.Secret(
                f"secret-{secret_name}",
                name=p.namer.physical("secret", secret_name),
                description=f"{secret_name} for {p.namer.base()}; value set out of band or generated once",
                kms_key_id=self.secrets_key_arn,
                recovery_window_in_days=s.secret_recovery_window_days,
                tags=p.tags(secret_name),
                opts=child)
            if secret_name in s.generated_secrets:
                # Generated once at create; later previews must not rotate it, hence ignore_changes.
                random = aws.secretsmanager.get_random_password_output(password_length=64, exclude_punctuation=True)
                aws.secretsmanager.SecretVersion(
                    f"secret-{secret_name}-initial",
                    secret_id=secret.id,
                    secret_string=pulumi.Output.secret(random.random_password),
                    opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secretString"]))
            self.secrets[secret_name] = secret
        self.secret_arns = {k: v.arn for k, v in self.secrets.items()}
        # Name-based ARN patterns (Secrets Manager appends 6 random characters): known in a preview.
        secret_patterns = account.apply(lambda acct: [
            f"arn:aws:secretsmanager:{p.region}:{acct}:secret:{p.namer.physical('secret', n)}-??????" for n in s.secrets])

        self.ecs_execution_role = aws.iam.Role(
            "ecs-execution-role",
            description="ECS agent: pull images, write logs, read the task's secrets",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", account),
            tags=p.tags(p.namer.base("ecs-execution")), opts=child)
        aws.iam.RolePolicyAttachment(
            "ecs-execution-managed", role=self.ecs_execution_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", opts=child)
        aws.iam.RolePolicy(
            "ecs-execution-secrets", role=self.ecs_execution_role.id,
            policy=policy_json(
                {"Sid": "ReadAppSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                 "Resource": secret_patterns},
                {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*",
                 "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{p.region}.amazonaws.com"},
                               "StringLike": {"kms:EncryptionContext:SecretARN": secret_patterns}}}),
            opts=child)

        self.ecs_task_role = aws.iam.Role(
            "ecs-task-role", description="Application containers; tiers attach exactly what each service needs",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", account),
            tags=p.tags(p.namer.base("ecs-task")), opts=child)

        self.lambda_role = aws.iam.Role(
            "lambda-role", description="Platform Lambda functions: logs, tracing, VPC networking",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com", account),
            tags=p.tags(p.namer.base("lambda")), opts=child)
        for i, arn in enumerate(["arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                                 "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"]):
            aws.iam.RolePolicyAttachment(f"lambda-managed-{i}", role=self.lambda_role.name, policy_arn=arn, opts=child)

        self.sagemaker_role = aws.iam.Role(
            "sagemaker-role", description="SageMaker training and hosting; the ML tier scopes data access",
            assume_role_policy=assume_role_policy("sagemaker.amazonaws.com", account),
            tags=p.tags(p.namer.base("sagemaker")), opts=child)
        aws.iam.RolePolicy(
            "sagemaker-logs", role=self.sagemaker_role.id,
            policy=account.apply(lambda acct: json.dumps({"Version": "2012-10-17", "Statement": [
                {"Sid": "SageMakerLogs", "Effect": "Allow",
                 "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                 "Resource": f"arn:aws:logs:{p.region}:{acct}:log-group:/aws/sagemaker/*"},
                {"Sid": "Metrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
                 "Condition": {"StringLike": {"cloudwatch:namespace": ["aws/sagemaker/*", "/aws/sagemaker/*"]}}}]})),
            opts=child)

        self.register_outputs({
            "dataKeyArn": self.data_key_arn, "logsKeyArn": self.logs_key_arn, "secretsKeyArn": self.secrets_key_arn,
            "ecsExecutionRoleArn": self.ecs_execution_role.arn, "ecsTaskRoleArn": self.ecs_task_role.arn,
            "lambdaRoleArn": self.lambda_role.arn, "sagemakerRoleArn": self.sagemaker_role.arn,
            "secretArns": self.secret_arns})
