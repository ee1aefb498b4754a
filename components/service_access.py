"""What one service may do, derived from its contract (`application.services.<name>.uses`): the statements of
its own task role, the secrets injected into its containers (which its own execution role may read, and
nothing else), and the environment that tells it how to connect.

An application-tier helper: every ARN comes from the other tiers' published outputs (`ServiceDependencies`).
KMS grants go through `kms:ViaService` (the key is only usable through the service that encrypts the
resource) plus, where the service sends one, the encryption context of the exact resource.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pulumi
from pulumi import Input

from functions.db_bootstrap.names import role_name

from . import bedrock
from .config.application import ResolvedService

QUEUE_CONSUMER = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
                  "sqs:GetQueueUrl"]
BUCKET_READ = ["s3:GetObject", "s3:GetObjectVersion"]
BUCKET_WRITE = ["s3:PutObject", "s3:AbortMultipartUpload"]
TABLE_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem",
              "dynamodb:DescribeTable"]
TABLE_WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
MODEL_INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
# Direct uploads: the service creates the multipart upload, presigns its parts for the browser (a presigned URL
# acts with the signer's permissions), completes or aborts it. With SSE-KMS a multipart upload needs
# kms:GenerateDataKey and kms:Decrypt ("Uploading and copying objects using multipart upload", S3 User Guide).
UPLOAD = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
UPLOAD_PREFIX = "uploads/"
UPLOAD_PART_SIZE_MB = 16       # S3 parts: 5 MiB - 5 GiB, at most 10,000 parts (16 MiB parts: files up to 156 GiB)
UPLOAD_URL_TTL_SECONDS = 900


@dataclasses.dataclass(frozen=True)
class ServiceDependencies:
    """The published outputs a service's contract may name (all from other tiers). ARNs used in IAM documents are
    the ones the owning tiers derive from explicit names: known in a preview, so the documents are checkable
    before the first `up` (only the database's resource id is AWS-computed)."""
    region: str
    account_id: Input[str]
    secret_arns: Mapping[str, Input[str]]             # security tier's secrets by name (valueFrom)
    secret_arn_patterns: Mapping[str, Input[str]]     # ... as name-based ARN patterns (IAM)
    bucket_arns: Mapping[str, Input[str]]             # data tier's buckets by key
    table_arns: Mapping[str, Input[str]]
    queue_arns: Mapping[str, Input[str]]              # events tier's queues by name
    event_bus_arn: Input[str]
    event_sources: Mapping[str, Sequence[str]]        # detail-type -> sources the bus rules match it with
    db_resource_id: Input[str] | None
    db_address: Input[str] | None
    db_reader_address: Input[str] | None
    db_port: Input[str] | None                         # a string: a container environment value (mypy checks)
    db_name: str | None
    redis_endpoint: Input[str] | None
    redis_port: Input[str] | None                      # a string: a container environment value (mypy checks)
    redis_auth_secret_arn: Input[str] | None
    redis_auth_secret_arn_pattern: Input[str] | None
    # The read replica's own DbiResourceId: a readonly service given the replica's address is granted this one.
    db_reader_resource_id: Input[str] | None = None
    # Objects whose creation starts an event-driven power (the ML tier's S3 training trigger), by bucket key: a
    # contract's write grant on that bucket never covers them (an explicit Deny; issue 32).
    trigger_objects: Mapping[str, Sequence[Input[str]]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        # Ports reach container environments, whose values ECS types as strings (KeyValuePair.value; pulumi-aws
        # cannot unmarshal a number into it and every `up` of the task definition fails). Three checks: the
        # fields are declared Input[str], so `.ci/run`'s mypy refuses a number (tests/test_types.py); a number
        # that gets here anyway (an untyped caller) is turned into a string, once, for every caller (the DR
        # region's copy made with dataclasses.replace included); and `python -m plan` reports a number that
        # reaches a container definition as a deploy error (plan/deploy_errors.py).
        for name in ("db_port", "redis_port"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, pulumi.Output.from_input(value).apply(str))


def db_user(service: str) -> str:
    """The service's own (non-master) PostgreSQL user, which authenticates with IAM (GRANT rds_iam): created and
    granted by the database bootstrap (components/database_users.py) from `database_roles`."""
    return role_name(service)


def database_roles(catalogue: Sequence[ResolvedService]) -> dict:
    """The database bootstrap's input (functions/db_bootstrap/grants.py): each enabled service with a database, its
    login role, its mode, and the schemas it reads (those of enabled readwrite services). A service not listed
    loses its login when the bootstrap runs; its schema and data stay."""
    owners = {svc.name for svc in catalogue if svc.settings.uses.database == "readwrite"}
    return {"roles": {
        db_user(svc.name): {"mode": svc.settings.uses.database,
                            "reads": [db_user(s) for s in svc.settings.uses.schemas if s in owners]}
        for svc in catalogue if svc.settings.uses.database != "none"}}


def env_name(secret: str) -> str:
    return secret.upper().replace("-", "_")


def database_target(svc: ResolvedService, deps: ServiceDependencies) -> tuple[Input[str] | None, Input[str] | None]:
    """(host, DbiResourceId) of the instance the service connects to: the read replica for a readonly contract
    when there is one, else the primary. One decision for both the DB_HOST it is given and the instance its
    `rds-db:connect` grant names (each instance has its own resource id; the flow check follows DB_HOST)."""
    mode = svc.settings.uses.database
    if mode == "none":
        return None, None
    if mode == "readonly" and deps.db_reader_address is not None and deps.db_reader_resource_id is not None:
        return deps.db_reader_address, deps.db_reader_resource_id
    return deps.db_address, deps.db_resource_id


def secrets(svc: ResolvedService, deps: ServiceDependencies, *, patterns: bool = False) -> dict[str, Input[str]]:
    """Container env var -> secret ARN (or its name-based pattern, for IAM): the security-tier secrets it names,
    and the Redis AUTH token if it uses the cache. Never the database master secret (IAM authentication)."""
    s = svc.settings
    arns = deps.secret_arn_patterns if patterns else deps.secret_arns
    out = {env_name(n): arns[n] for n in dict.fromkeys([*s.secrets, *s.uses.secrets])}
    token = deps.redis_auth_secret_arn_pattern if patterns else deps.redis_auth_secret_arn
    if s.uses.cache and token is not None:
        out["REDIS_AUTH_TOKEN"] = token
    return out


def environment(svc: ResolvedService, deps: ServiceDependencies) -> dict[str, Input[str]]:
    """How to reach what the contract names (endpoints and names, never a credential)."""
    u = svc.settings.uses
    env: dict[str, Input[str] | None] = {}   # None: not published (dropped below)
    host, _ = database_target(svc, deps)
    if host is not None:
        env.update({"DB_HOST": host, "DB_PORT": deps.db_port, "DB_NAME": deps.db_name, "DB_USER": db_user(svc.name),
                    "DB_IAM_AUTH": "true", "DB_SSLMODE": "verify-full"})
    if u.cache and deps.redis_endpoint is not None:
        env.update({"REDIS_HOST": deps.redis_endpoint, "REDIS_PORT": deps.redis_port, "REDIS_TLS": "true"})
    if u.publishes:
        env["EVENT_BUS_ARN"] = deps.event_bus_arn
    for q in u.queues:
        env[f"QUEUE_{env_name(q)}_ARN"] = deps.queue_arns[q]
    for b in sorted(u.buckets):
        env[f"BUCKET_{env_name(b)}_ARN"] = deps.bucket_arns[b]
    if u.guardrail:
        gid, _, version = u.guardrail.partition(":")
        env.update({"BEDROCK_GUARDRAIL_ID": gid, "BEDROCK_GUARDRAIL_VERSION": version or "DRAFT"})
    for b in sorted(u.uploads):
        env[f"UPLOADS_{env_name(b)}_ARN"] = deps.bucket_arns[b]
    if u.uploads:
        env.update({"UPLOAD_PREFIX": UPLOAD_PREFIX, "UPLOAD_PART_SIZE_MB": str(UPLOAD_PART_SIZE_MB),
                    "UPLOAD_URL_TTL_SECONDS": str(UPLOAD_URL_TTL_SECONDS)})
    return {k: v for k, v in env.items() if v is not None}


def _via(service: str, region: str) -> dict:
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com"}


def database_statements(svc: ResolvedService, deps: ServiceDependencies) -> list[dict]:
    """`rds-db:connect` as the service's own user on this instance only: its own policy, because the instance's
    resource id is computed by AWS (unknown until the database exists)."""
    _, resource_id = database_target(svc, deps)
    if resource_id is None:
        return []
    user, r = db_user(svc.name), deps.region
    return [{"Sid": "ConnectAsOwnDbUser", "Effect": "Allow", "Action": ["rds-db:connect"],
             "Resource": pulumi.Output.all(deps.account_id, resource_id).apply(
                 lambda v: f"arn:aws:rds-db:{r}:{v[0]}:dbuser:{v[1]}/{user}")}]


def _key_use(sid: str, actions: list, service: str, region: str, account: Input[str], *,
             equals: dict | None = None, like: dict | None = None) -> dict:
    """A key, only through `service` and only for the named resources (their encryption context): the grant
    follows the resource to whichever key encrypts it, and stays checkable in a preview (key ARNs are not)."""
    condition: dict = {"StringEquals": {**_via(service, region), "kms:CallerAccount": account, **(equals or {})}}
    if like:
        condition["StringLike"] = like
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*", "Condition": condition}


def task_statements(svc: ResolvedService, deps: ServiceDependencies) -> list[dict]:
    """The task role's statements: exact ARNs for every resource the contract names, nothing else (the
    database grant is `database_statements`)."""
    return uses_statements(svc.settings.uses, deps)


def uses_statements(u, deps: ServiceDependencies) -> list[dict]:
    """A contract's (`UsesSettings`) exact grants: a service's task role, the Batch jobs' role."""
    r, acct = deps.region, deps.account_id
    out: list[dict] = []
    if u.queues:
        arns = [deps.queue_arns[q] for q in u.queues]
        out.append({"Sid": "ConsumeOwnQueues", "Effect": "Allow", "Action": QUEUE_CONSUMER, "Resource": arns})
        out.append(_key_use("DecryptQueueMessages", ["kms:Decrypt"], "sqs", r, acct,
                            equals={"kms:EncryptionContext:aws:sqs:arn": arns}))
    if u.publishes:
        sources = sorted({src for t in u.publishes for src in deps.event_sources.get(t, ())})
        out.append({"Sid": "PublishOwnEvents", "Effect": "Allow", "Action": ["events:PutEvents"],
                    "Resource": deps.event_bus_arn,
                    "Condition": {"StringEquals": {"events:detail-type": list(u.publishes), "events:source": sources}}})
    reads = [deps.bucket_arns[b] for b, mode in sorted(u.buckets.items()) if "read" in mode]
    writes = [deps.bucket_arns[b] for b, mode in sorted(u.buckets.items()) if "write" in mode]
    if u.buckets:
        out.append({"Sid": "ListOwnBuckets", "Effect": "Allow", "Action": ["s3:ListBucket"],
                    "Resource": [deps.bucket_arns[b] for b in sorted(u.buckets)]})
    if reads:
        out.append({"Sid": "ReadBuckets", "Effect": "Allow", "Action": BUCKET_READ,
                    "Resource": [pulumi.Output.concat(a, "/*") for a in reads]})
    if writes:
        out.append({"Sid": "WriteBuckets", "Effect": "Allow", "Action": BUCKET_WRITE,
                    "Resource": [pulumi.Output.concat(a, "/*") for a in writes]})
        # Writing a bucket is not the power its triggers hold (a training request starts SageMaker training):
        # contracts must not combine into a power no contract grants.
        triggered = [t for b, mode in sorted(u.buckets.items()) if "write" in mode
                     for t in deps.trigger_objects.get(b, ())]
        if triggered:
            out.append({"Sid": "NoTriggeredPowers", "Effect": "Deny", "Action": ["s3:PutObject"],
                        "Resource": triggered})
    if u.uploads:
        out.append({"Sid": "IssueUploads", "Effect": "Allow", "Action": UPLOAD,
                    "Resource": [pulumi.Output.concat(deps.bucket_arns[b], "/" + UPLOAD_PREFIX + "*")
                                 for b in sorted(u.uploads)]})
    if u.buckets or u.uploads:
        keyed = sorted({*u.buckets, *u.uploads})
        actions = (["kms:Decrypt"] if reads or u.uploads else []) + (
            ["kms:GenerateDataKey"] if writes or u.uploads else [])
        out.append(_key_use("BucketObjectsKey", actions, "s3", r, acct, like={
            "kms:EncryptionContext:aws:s3:arn": [
                pulumi.Output.concat(deps.bucket_arns[b], "*") for b in keyed]}))
    if u.tables:
        arns = [deps.table_arns[t] for t in u.tables]
        out.append({"Sid": "UseOwnTables", "Effect": "Allow", "Action": TABLE_READ + TABLE_WRITE,
                    "Resource": arns + [pulumi.Output.concat(a, "/index/*") for a in arns]})
        out.append(_key_use("TablesKey", ["kms:Decrypt", "kms:GenerateDataKey"], "dynamodb", r, acct, equals={
            "kms:EncryptionContext:aws:dynamodb:tableName": [
                pulumi.Output.from_input(a).apply(lambda x: x.split("/")[-1]) for a in arns]}))
    if u.guardrail:
        gid = u.guardrail.split(":")[0]
        out.append({"Sid": "ApplyOwnGuardrail", "Effect": "Allow", "Action": ["bedrock:ApplyGuardrail"],
                    "Resource": pulumi.Output.from_input(acct).apply(
                        lambda a: f"arn:aws:bedrock:{r}:{a}:guardrail/{gid}")})
    if u.models:
        out += bedrock.invoke_statements(r, acct, u.models, arn_of=lambda reg, a, m: pulumi.Output.from_input(a).apply(
            lambda account: bedrock.profile_arn(reg, account, m)))
    return out


def execution_statements(svc: ResolvedService, deps: ServiceDependencies) -> list[dict]:
    """The execution role reads exactly the secrets injected into this service's containers (name-based ARN
    patterns: Secrets Manager appends 6 random characters to a secret's ARN)."""
    arns = list(secrets(svc, deps, patterns=True).values())
    if not arns:
        return []
    return [
        {"Sid": "ReadInjectedSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": arns},
        _key_use("DecryptInjectedSecrets", ["kms:Decrypt"], "secretsmanager", deps.region, deps.account_id,
                 like={"kms:EncryptionContext:SecretARN": arns})]
