"""Database users as code: the bootstrap function (functions/db_bootstrap) and its run on every `pulumi up` whose
contracts' database part changed.

An application-tier companion, built after the data and application tiers from their published outputs: the
catalogue (whose contracts say who uses the database, how, and which schemas it reads), the primary's address,
the master credential's secret, the private subnets and the application security group (the only group the
data group admits). The function is the platform's convention (its own log group, DLQ, execution role; the
observability tier alarms on its errors, throttles and DLQ like every function's). Its role is the only one that
may read the master secret: named explicitly, so its ARN is known before anything exists and the data tier's
secret policy can name it (`role_arn`).

`aws.lambda_.Invocation` calls it synchronously during the `up` and fails the update when it fails. It runs again
when its input (the roles and grants), its code or the database instance change; the input holds no secret.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from .config.application import ApplicationSettings
from .context import Platform
from .recipes.functions import LambdaSpec, platform_function
from .service_access import database_roles

NAME = "db-bootstrap"
# The PostgreSQL driver and its pure-Python dependencies, bundled from the deploy lock (requirements.txt).
PACKAGES = ("pg8000", "scramp", "asn1crypto", "python-dateutil", "six")


def role_name(p: Platform) -> str:
    return p.namer.physical("iam_role", NAME, *([p.instance] if p.instance else []))


def role_arn(p: Platform) -> pulumi.Output[str]:
    """The bootstrap's execution role, by name: the one principal the master secret's policy admits."""
    return p.account_id.apply(lambda a: f"arn:aws:iam::{a}:role/{role_name(p)}")


@dataclasses.dataclass(frozen=True)
class DatabaseUsersArgs:
    platform: Platform
    settings: ApplicationSettings
    db_address: pulumi.Input[str]
    db_port: pulumi.Input[str]
    db_name: str
    db_resource_id: pulumi.Input[str]          # a new instance (replaced, restored) is bootstrapped again
    master_username: str
    master_secret_arn: pulumi.Input[str]
    # Its name-based ARN (`...:secret:<name>-??????`): the role's policy is then known in a new stack's preview,
    # where the secret's ARN (random suffix) is not, so the pack and the flow check can decide it before `up`.
    master_secret_arn_pattern: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[str]]
    app_sg_id: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]


@dataclasses.dataclass(frozen=True)
class DatabaseUsersOutputs:
    function_name: pulumi.Output[str]
    dlq_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    invocation_result: pulumi.Output[str]     # the run's answer: {"roles": [...], "changes": [...]}
    roles: dict                               # the input: role -> {mode, reads}


class DatabaseUsers(pulumi.ComponentResource):
    def __init__(self, name: str, args: DatabaseUsersArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__(p.tier_type("DatabaseUsers"), name, None, p.tier_options(opts))
        desired = database_roles(args.settings.catalogue())
        secret = pulumi.Output.from_input(args.master_secret_arn)
        pattern = args.master_secret_arn_pattern
        statements: list[dict] = [
            {"Sid": "ReadTheMasterCredential", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
             "Resource": pattern},
            {"Sid": "DecryptTheMasterCredential", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{p.region}.amazonaws.com",
                                            "kms:CallerAccount": p.account_id},
                           "StringLike": {"kms:EncryptionContext:SecretARN": pattern}}},
        ]
        fn = platform_function(
            self, p, LambdaSpec(
                name=NAME, handler="handler.handler", source_dir="db_bootstrap", timeout=120, memory=256,
                # No reserved concurrency (a new account's quota of 10 leaves none to reserve): concurrent runs
                # serialise on an advisory lock in the database (grants.py).
                packages=PACKAGES, role_name=role_name(p),
                environment={"DB_HOST": args.db_address, "DB_PORT": args.db_port, "DB_NAME": args.db_name,
                             "MASTER_SECRET_ARN": secret, "MASTER_USERNAME": args.master_username}),
            data_key_arn=args.data_key_arn, logs_key_arn=args.logs_key_arn, statements=statements,
            subnet_ids=args.private_subnet_ids, security_group_ids=[args.app_sg_id])
        self.run = aws.lambda_.Invocation(
            f"{NAME}-run", function_name=fn.function.name, input=json.dumps(desired, sort_keys=True),
            triggers={"code": fn.function.source_code_hash, "database": pulumi.Output.from_input(args.db_resource_id),
                      "secret": secret},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[fn.function, *([fn.policy] if fn.policy else [])]))
        self.outputs = DatabaseUsersOutputs(
            function_name=fn.function.name, dlq_name=fn.dlq.name, role_arn=fn.role.arn, invocation_result=self.run.result,
            roles=desired["roles"])
        self.register_outputs({"functionName": fn.function.name})
