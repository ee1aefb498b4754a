"""Physical and logical names that AWS will accept.

Mock runtimes accept any name; AWS does not (ALB 32 chars, IAM role 64, S3 63 lowercase...).
Every explicit name goes through `Namer.physical`; every auto-named resource's logical name goes
through `Namer.logical`, which leaves room for the 8 characters Pulumi appends ("-" + 7 random).
A name that is too long is shortened and given a stable hash so two long names never collide.
Limits come from the AWS API models (see ../shared/reference/aws-facts.md, section 3).
"""
from __future__ import annotations

import dataclasses
import hashlib
import re

AUTONAME_SUFFIX = 8  # "-" + 7 random characters


@dataclasses.dataclass(frozen=True)
class NameRule:
    max_len: int
    allowed: str            # regex character class of allowed characters
    lowercase: bool = False
    letter_first: bool = False
    separator: str = "-"


# AWS name rules by kind. Keys are the `kind` argument of Namer methods.
RULES: dict[str, NameRule] = {
    "alb": NameRule(32, "a-zA-Z0-9-"),
    "target_group": NameRule(32, "a-zA-Z0-9-"),
    "iam_role": NameRule(64, r"\w+=,.@-"),
    "iam_policy": NameRule(128, r"\w+=,.@-"),
    "instance_profile": NameRule(128, r"\w+=,.@-"),
    "s3_bucket": NameRule(63, "a-z0-9-", lowercase=True, letter_first=True),
    "rds": NameRule(63, "a-z0-9-", lowercase=True, letter_first=True),
    "db_subnet_group": NameRule(255, "a-z0-9-", lowercase=True, letter_first=True),
    "db_parameter_group": NameRule(255, "a-z0-9-", lowercase=True, letter_first=True),
    "elasticache": NameRule(40, "a-z0-9-", lowercase=True, letter_first=True),
    "docdb": NameRule(63, "a-z0-9-", lowercase=True, letter_first=True),
    "lambda": NameRule(64, "a-zA-Z0-9_-"),
    "sqs": NameRule(80, "a-zA-Z0-9_-"),
    "sns": NameRule(256, "a-zA-Z0-9_-"),
    "dynamodb": NameRule(255, "a-zA-Z0-9_.-"),
    "ecs": NameRule(255, "a-zA-Z0-9_-"),
    "eks": NameRule(100, "a-zA-Z0-9_-", letter_first=True),
    "kinesis": NameRule(128, "a-zA-Z0-9_.-"),
    "log_group": NameRule(512, r"a-zA-Z0-9_./#-", separator="/"),
    "secret": NameRule(512, r"a-zA-Z0-9/_+=.@-", separator="/"),
    "ssm_parameter": NameRule(1011, r"a-zA-Z0-9_./-", separator="/"),
    "kms_alias": NameRule(256 - len("alias/"), "a-zA-Z0-9:/_-"),
    "ecr": NameRule(256, "a-z0-9_./-", lowercase=True, letter_first=True, separator="/"),
    "cognito": NameRule(128, r"\w+=,.@-"),
    "cognito_domain": NameRule(63, "a-z0-9-", lowercase=True, letter_first=True),
    "waf": NameRule(128, r"\w-"),
    "budget": NameRule(100, r"\w+=,.@ -"),
    "sagemaker": NameRule(63, "a-zA-Z0-9-", letter_first=True),
    "batch": NameRule(128, "a-zA-Z0-9_-"),
    "backup": NameRule(50, "a-zA-Z0-9_-"),
    "eventbridge_rule": NameRule(64, "a-zA-Z0-9_.-"),
    "event_bus": NameRule(256, "a-zA-Z0-9_./-"),
    "cloudtrail": NameRule(128, "a-zA-Z0-9_.-", letter_first=True),
    "codebuild": NameRule(150, "A-Za-z0-9_-", letter_first=True),
    "codepipeline": NameRule(100, "A-Za-z0-9.@_-"),
    "codestar_connection": NameRule(32, "A-Za-z0-9-", letter_first=True),
    "security_group": NameRule(255, r"a-zA-Z0-9 ._:/()#,@\[\]+=&;{}!$*-"),
    "alarm": NameRule(255, r"\w .:/+=@-"),
    "rest_api": NameRule(1024, r"\w .:/+=@-"),
    "config_rule": NameRule(128, r"\w.-"),
    "config_recorder": NameRule(256, r"\w.-"),
    "xray_rule": NameRule(32, "a-zA-Z0-9_-"),
    "dashboard": NameRule(255, "a-zA-Z0-9_-"),
    "scaling_policy": NameRule(256, r"\w.:/-"),
    "event_archive": NameRule(48, "a-zA-Z0-9_.-"),
    "schedule": NameRule(64, "a-zA-Z0-9_.-"),
    "generic": NameRule(64, "a-zA-Z0-9-"),
}

# Resource type token -> (input property holding its physical name, naming rule kind). When the property
# is absent Pulumi auto-names from the logical name + 8 characters, so that must fit the same rule.
# tests/test_stacks.py checks every resource of both stacks against this table.
NAME_PROPERTIES: dict[str, tuple[str, str]] = {
    "aws:lb/loadBalancer:LoadBalancer": ("name", "alb"),
    "aws:alb/loadBalancer:LoadBalancer": ("name", "alb"),
    "aws:lb/targetGroup:TargetGroup": ("name", "target_group"),
    "aws:alb/targetGroup:TargetGroup": ("name", "target_group"),
    "aws:iam/role:Role": ("name", "iam_role"),
    "aws:iam/policy:Policy": ("name", "iam_policy"),
    "aws:iam/instanceProfile:InstanceProfile": ("name", "instance_profile"),
    "aws:s3/bucket:Bucket": ("bucket", "s3_bucket"),
    "aws:rds/instance:Instance": ("identifier", "rds"),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", "elasticache"),
    "aws:docdb/cluster:Cluster": ("clusterIdentifier", "docdb"),
    "aws:lambda/function:Function": ("name", "lambda"),
    "aws:sqs/queue:Queue": ("name", "sqs"),
    "aws:sns/topic:Topic": ("name", "sns"),
    "aws:dynamodb/table:Table": ("name", "dynamodb"),
    "aws:ecs/cluster:Cluster": ("name", "ecs"),
    "aws:eks/cluster:Cluster": ("name", "eks"),
    "aws:kinesis/stream:Stream": ("name", "kinesis"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "log_group"),
    "aws:secretsmanager/secret:Secret": ("name", "secret"),
    "aws:ecr/repository:Repository": ("name", "ecr"),
    "aws:cognito/userPool:UserPool": ("name", "cognito"),
    "aws:wafv2/webAcl:WebAcl": ("name", "waf"),
    "aws:budgets/budget:Budget": ("name", "budget"),
    "aws:sagemaker/endpoint:Endpoint": ("name", "sagemaker"),
    "aws:sagemaker/model:Model": ("name", "sagemaker"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": ("name", "sagemaker"),
    "aws:batch/computeEnvironment:ComputeEnvironment": ("name", "batch"),
    "aws:batch/jobQueue:JobQueue": ("name", "batch"),
    "aws:backup/vault:Vault": ("name", "backup"),
    "aws:cloudwatch/eventRule:EventRule": ("name", "eventbridge_rule"),
    "aws:cloudtrail/trail:Trail": ("name", "cloudtrail"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "alarm"),
    "aws:cfg/rule:Rule": ("name", "config_rule"),
    "aws:xray/samplingRule:SamplingRule": ("ruleName", "xray_rule"),
    "aws:cloudwatch/eventArchive:EventArchive": ("name", "event_archive"),
    "aws:scheduler/schedule:Schedule": ("name", "schedule"),
    "aws:codebuild/project:Project": ("name", "codebuild"),
    "aws:codepipeline/pipeline:Pipeline": ("name", "codepipeline"),
    "aws:codestarconnections/connection:Connection": ("name", "codestar_connection"),
}


def _hash(text: str, n: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def fit(kind: str, text: str, reserve: int = 0) -> str:
    """Make `text` valid for `kind`: charset, case, first character, length (minus `reserve`)."""
    rule = RULES[kind]
    limit = rule.max_len - reserve
    if rule.lowercase:
        text = text.lower()
    cleaned = re.sub(f"[^{rule.allowed}]", "-", text)
    if "-" in rule.allowed:
        cleaned = re.sub("-{2,}", "-", cleaned).strip("-")
    if rule.letter_first and not cleaned[:1].isalpha():
        cleaned = "x" + cleaned
    if len(cleaned) > limit:
        digest = _hash(text)
        cleaned = cleaned[: limit - len(digest) - 1].rstrip("-_./") + "-" + digest
    return cleaned


@dataclasses.dataclass(frozen=True)
class Namer:
    project: str
    stack: str

    def base(self, *parts: str) -> str:
        return "-".join(p for p in (self.project, self.stack, *parts) if p)

    def physical(self, kind: str, *parts: str) -> str:
        """An explicit name `{project}-{stack}-{parts}` within the AWS rule for `kind`."""
        rule = RULES[kind]
        if rule.separator == "/" and kind in ("log_group", "secret", "ecr", "ssm_parameter"):
            prefix = {"log_group": "/", "secret": "", "ecr": "", "ssm_parameter": "/"}[kind]
            text = prefix + "/".join((self.project, self.stack, *[p for p in parts if p]))
            return fit(kind, text)
        return fit(kind, self.base(*parts))

    def logical(self, kind: str, *parts: str) -> str:
        """A Pulumi logical name short enough for auto-naming to stay within the AWS limit."""
        return fit(kind, self.base(*parts), reserve=AUTONAME_SUFFIX)

    def log_group(self, *parts: str) -> str:
        """`/{project}/{stack}/{parts}`: a group this platform names itself."""
        return self.physical("log_group", *parts)

    def service_log_group(self, prefix: str, *parts: str) -> str:
        """A group whose name the writing service fixes (`/aws/lambda/<fn>`, `/aws/rds/instance/<id>/<log>`,
        `aws-waf-logs-<...>`): `prefix` is the service's, `parts` follow it."""
        sep = "" if prefix.endswith(("/", "-")) else "/"
        return fit("log_group", prefix + sep + "/".join(p for p in parts if p))

    def kms_alias(self, *parts: str) -> str:
        """`alias/{project}-{stack}-{parts}` (the alias other tiers name a key by in IAM conditions)."""
        return "alias/" + self.physical("kms_alias", *parts)

    def fixed(self, kind: str, text: str, reserve: int = 0) -> str:
        """A name that is not `{project}-{stack}-...` (fixed by AWS or already built): made valid for `kind`."""
        return fit(kind, text, reserve=reserve)
