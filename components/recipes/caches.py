"""The Redis cache building block: one ElastiCache replication group with TLS, AUTH, encryption at rest, its
slow and engine logs delivered to encrypted log groups, and the AUTH token generated into Secrets Manager.

Used by the data tier (the primary's cache) and by the DR region (`DrCache`: a one-node standby cache that is
empty at failover), so both caches are built - and checked by the pack - the same way.
"""
from __future__ import annotations

import dataclasses

import pulumi
import pulumi_aws as aws

from ..config.data import REDIS_FAMILY
from ..context import Platform
from .log_groups import log_group

REDIS_PORT = 6379


@dataclasses.dataclass(frozen=True)
class RedisSpec:
    """What differs between caches; the rest (TLS, AUTH, encryption, logs) is not negotiable."""
    engine_version: str
    node_type: str
    nodes: int = 1
    multi_az: bool = False
    snapshot_retention_days: int = 0
    snapshot_window: str = "05:00-06:00"
    maintenance_window: str = "sun:06:30-sun:07:30"
    maxmemory_policy: str = "volatile-lru"


@dataclasses.dataclass(frozen=True)
class RedisCache:
    group: aws.elasticache.ReplicationGroup
    secret: aws.secretsmanager.Secret
    # Name-based ARN of the AUTH secret: IAM documents naming it are complete in a preview of a new stack.
    secret_arn_pattern: pulumi.Output[str]


def redis_cache(parent: pulumi.Resource, platform: Platform, spec: RedisSpec, *,
                subnet_ids: pulumi.Input, security_group_id: pulumi.Input[str], kms_key_arn: pulumi.Input[str],
                secrets_key_arn: pulumi.Input[str], logs_key_arn: pulumi.Input[str]) -> RedisCache:
    """A Redis replication group on `subnet_ids` behind `security_group_id`. Logical names are the same for
    every cache (`redis`, `redis-auth`, ...): two caches in one program sit under different parents."""
    p = platform
    child = pulumi.ResourceOptions(parent=parent)
    family = REDIS_FAMILY[spec.engine_version]
    group_id = p.namer.physical("elasticache", "redis")

    subnets = aws.elasticache.SubnetGroup(
        "redis-subnets", name=p.namer.physical("elasticache", "redis-subnets"), subnet_ids=subnet_ids,
        description="Redis on the isolated subnets", tags=p.tags(p.namer.base("redis-subnets")), opts=child)
    params = aws.elasticache.ParameterGroup(
        p.namer.logical("elasticache", "redis", family.replace(".", "-")), family=family,
        description=f"{p.namer.base()} {family}",
        parameters=[aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy",
                                                                value=spec.maxmemory_policy)],
        tags=p.tags(p.namer.base("redis-params")), opts=child)

    # AUTH token: generated once, stored in Secrets Manager, never in config. The random value is a
    # secret Output; ignore_changes keeps later runs (which draw a new value) from rotating it.
    # Rotate on purpose with `pulumi up --target ... ` after removing ignore_changes, strategy ROTATE.
    secret_name = p.namer.physical("secret", "redis-auth")
    secret = aws.secretsmanager.Secret(
        "redis-auth", name=secret_name,
        description=f"Redis AUTH token of {group_id} (clients connect with TLS + this token)",
        kms_key_id=secrets_key_arn, recovery_window_in_days=p.secret_recovery_window_days,
        tags=p.tags("redis-auth"), opts=child)
    token: pulumi.Output[str] = pulumi.Output.secret(aws.secretsmanager.get_random_password_output(
        password_length=64, exclude_punctuation=True, opts=p.invoke_options()).random_password)
    aws.secretsmanager.SecretVersion(
        "redis-auth-initial", secret_id=secret.id, secret_string=token,
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["secretString"]))

    # KMS-encrypted groups with retention, created before the service would create plain ones.
    logs = {kind: log_group(parent, p, f"redis-{kind}", p.namer.log_group("elasticache", "redis", kind),
                            kms_key_arn=logs_key_arn, retention="audit", tags=p.tags(p.namer.base(f"redis-{kind}")))
            for kind in ("slow-log", "engine-log")}
    group = aws.elasticache.ReplicationGroup(
        "redis", replication_group_id=group_id, description=f"{p.namer.base()} Redis (TLS + AUTH)",
        engine="redis", engine_version=spec.engine_version, node_type=spec.node_type,
        num_cache_clusters=spec.nodes, port=REDIS_PORT, parameter_group_name=params.name,
        subnet_group_name=subnets.name, security_group_ids=[security_group_id],
        at_rest_encryption_enabled=True, kms_key_id=kms_key_arn,
        # TransitEncryptionMode exists from Redis 7.0.5 (AWS rejects it for 6.x, where TLS is always required).
        transit_encryption_enabled=True, transit_encryption_mode="required" if family == "redis7" else None,
        auth_token=token, auth_token_update_strategy="ROTATE",
        automatic_failover_enabled=spec.multi_az, multi_az_enabled=spec.multi_az,
        snapshot_retention_limit=spec.snapshot_retention_days, snapshot_window=spec.snapshot_window,
        maintenance_window=spec.maintenance_window, auto_minor_version_upgrade=True,
        apply_immediately=not p.protect, final_snapshot_identifier=f"{group_id}-final" if p.protect else None,
        log_delivery_configurations=[
            aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                destination=lg.name, destination_type="cloudwatch-logs", log_format="json", log_type=kind)
            for kind, lg in logs.items()],
        tags=p.tags(group_id, Engine="redis"),
        opts=p.stateful(parent, ignore_changes=["authToken"]))
    return RedisCache(group=group, secret=secret,
                      secret_arn_pattern=p.arn("secretsmanager", f"secret:{secret_name}-??????"))
