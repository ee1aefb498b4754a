"""The platform's Lambda convention, used by every tier that deploys a function.

One call gives: the function (active X-Ray tracing, arm64, code from functions/<dir> as an asset
archive), its own log group (retention + KMS, created first so Lambda never auto-creates an
unencrypted one), an encrypted dead-letter queue, and a per-function execution role that can
write only to that log group and that queue, plus whatever `statements` the caller adds.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
import pulumi_aws as aws

from ..context import Platform, policy_json
from .log_groups import log_group as make_log_group
from .roles import service_role

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


INSTALLER_FILES = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")


def _plain(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")


@functools.cache
def distribution_files(name: str) -> tuple[tuple[str, str], ...]:
    """(path in the archive, file) of an installed pure-Python distribution: what `pip install` put in
    site-packages from the deploy lock (requirements.txt), so the function runs exactly the locked version.
    Pure Python only (the functions run on arm64; no wheel of this machine's architecture may ship)."""
    dist = importlib.metadata.distribution(name)
    out = []
    for f in dist.files or ():
        # Not what the installer writes about itself (RECORD, INSTALLER...: they differ between pip and uv, and
        # would change the archive's hash from one machine to the next).
        if f.parts[0] == ".." or not _plain(Path(*f.parts)) or f.name in INSTALLER_FILES:
            continue
        if f.suffix in (".so", ".pyd", ".dylib"):
            raise ValueError(f"{name} is not pure Python ({f}): it cannot be bundled into an arm64 function")
        out.append((str(f), str(f.locate())))
    return tuple(sorted(out))


def source_archive(source_dir: str, packages: tuple[str, ...] = ()) -> pulumi.AssetArchive:
    """The function's code: every file under functions/<dir>, without bytecode caches, so the archive (and
    its hash, hence the deployment) depends only on the source and not on whether tests ran first; plus the
    files of the installed `packages` (distribution names) at the archive's root, where the runtime imports them."""
    root = FUNCTIONS_DIR / source_dir
    files = sorted(f for f in root.rglob("*") if f.is_file() and _plain(f))
    if not files:
        raise ValueError(f"functions/{source_dir} has no source files")
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {path: pulumi.FileAsset(file) for name in packages for path, file in distribution_files(name)}
    assets.update({str(f.relative_to(root)): pulumi.FileAsset(str(f)) for f in files})
    return pulumi.AssetArchive(assets)


@dataclasses.dataclass(frozen=True)
class LambdaSpec:
    name: str                                   # short name, e.g. "training-orchestrator"
    handler: str                                # "module.function" inside the source dir
    source_dir: str                             # folder under functions/
    timeout: int = 60
    memory: int = 256
    reserved_concurrency: int | None = None  # None: unreserved
    environment: Mapping[str, pulumi.Input[str]] = dataclasses.field(default_factory=dict)
    runtime: str = "python3.12"
    # Installed pure-Python distributions bundled with the code (from the deploy lock), e.g. ("pg8000", ...).
    packages: tuple[str, ...] = ()
    # An explicit IAM name for the execution role: its ARN is then known in a preview (a resource policy may
    # name it); None: auto-named.
    role_name: str | None = None


@dataclasses.dataclass
class PlatformFunction:
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    dlq: aws.sqs.Queue
    name: str
    policy: aws.iam.RolePolicy | None = None


def platform_function(parent: pulumi.Resource, platform: Platform, spec: LambdaSpec, *,
                      data_key_arn: pulumi.Input[str], logs_key_arn: pulumi.Input[str],
                      statements: Sequence[dict] = (), subnet_ids: pulumi.Input[Sequence[str]] | None = None,
                      security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
                      dlq_statements: Sequence[dict] = ()) -> PlatformFunction:
    """`dlq_statements`: who else may send to the dead-letter queue (e.g. EventBridge rules' undeliverable events);
    the queue's one policy always denies requests without TLS, as every queue's does."""
    p = platform
    child = pulumi.ResourceOptions(parent=parent)
    account = p.account_id
    fn_name = p.namer.physical("lambda", spec.name)
    log_name = p.namer.service_log_group("/aws/lambda", fn_name)

    log_group = make_log_group(parent, p, f"{spec.name}-logs", log_name, kms_key_arn=logs_key_arn,
                               tags=p.tags(fn_name))
    dlq = aws.sqs.Queue(
        f"{spec.name}-dlq", name=p.namer.physical("sqs", spec.name, "dlq"), kms_master_key_id=data_key_arn,
        kms_data_key_reuse_period_seconds=300, message_retention_seconds=1209600,
        tags=p.tags(p.namer.base(spec.name, "dlq"), Purpose="dead-letter"), opts=child)
    dlq_arn = account.apply(lambda a: f"arn:aws:sqs:{p.region}:{a}:{p.namer.physical('sqs', spec.name, 'dlq')}")
    aws.sqs.QueuePolicy(
        f"{spec.name}-dlq-policy", queue_url=dlq.url,
        policy=policy_json(*dlq_statements, {
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
            "Resource": dlq_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        opts=child)

    own: list[dict] = [
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": account.apply(lambda a: f"arn:aws:logs:{p.region}:{a}:log-group:{log_name}:*")},
        {"Sid": "DeadLetters", "Effect": "Allow", "Action": ["sqs:SendMessage"],
         "Resource": dlq_arn},
        {"Sid": "EncryptDeadLetters", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{p.region}.amazonaws.com"}}},
        {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
         "Resource": "*"},
    ]
    if subnet_ids is not None:
        own.append({"Sid": "VpcNetworking", "Effect": "Allow",
                    "Action": ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                               "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                               "ec2:UnassignPrivateIpAddresses"], "Resource": "*"})
    made = service_role(parent, p, f"{spec.name}-role", service="lambda.amazonaws.com", name=spec.role_name,
                        description=f"Execution role of {fn_name}", tag_name=p.namer.base(spec.name),
                        inline={f"{spec.name}-policy": policy_json(*own, *statements)})
    role, policy = made.role, made.policies[f"{spec.name}-policy"]

    vpc_config = None
    if subnet_ids is not None:
        vpc_config = aws.lambda_.FunctionVpcConfigArgs(subnet_ids=subnet_ids,
                                                       security_group_ids=security_group_ids or [])
    function = aws.lambda_.Function(
        spec.name,
        name=fn_name,
        role=role.arn,
        runtime=spec.runtime,
        architectures=["arm64"],
        handler=spec.handler,
        code=source_archive(spec.source_dir, spec.packages),
        timeout=spec.timeout,
        memory_size=spec.memory,
        reserved_concurrent_executions=spec.reserved_concurrency if spec.reserved_concurrency is not None else -1,
        tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
        dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=dlq.arn),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_name),
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(spec.environment)) if spec.environment else None,
        vpc_config=vpc_config,
        tags=p.tags(fn_name),
        # CreateFunction checks the role can send to the DLQ (and create ENIs when in a VPC): the
        # inline policy must exist first, or the first `up` fails on a race.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group, policy]))
    return PlatformFunction(function=function, role=role, log_group=log_group, dlq=dlq, name=fn_name, policy=policy)
