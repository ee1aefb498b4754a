"""The log group recipe: KMS-encrypted, with a retention, created before the service that writes to it.

A service that finds no group creates one itself, unencrypted and never expiring, and a later attempt to
create it here then fails with ResourceAlreadyExistsException: so every group a service writes to is
declared first, by this recipe, and the writer depends on it.
"""
from __future__ import annotations

from typing import Union

import pulumi
import pulumi_aws as aws

from ..context import Platform

Retention = Union[int, str]  # noqa: UP007 - a runtime alias; days, or "app" / "audit" (the platform's retention classes)


def retention_days(platform: Platform, retention: Retention) -> int:
    if retention == "app":
        return platform.settings.app_log_retention_days
    if retention == "audit":
        return platform.settings.audit_log_retention_days
    return int(retention)


def log_group(parent: pulumi.Resource, platform: Platform, logical_name: str, name: pulumi.Input[str], *,
              kms_key_arn: pulumi.Input[str], retention: Retention = "app", tags: dict | None = None,
              opts: pulumi.ResourceOptions | None = None) -> aws.cloudwatch.LogGroup:
    """`name` comes from the naming helper (`Namer.log_group` or `Namer.fixed("log_group", ...)`); a computed name
    (a service names the group after an id) needs `tags`."""
    if tags is None and not isinstance(name, str):
        raise ValueError(f"log group {logical_name}: a computed name needs explicit tags")
    return aws.cloudwatch.LogGroup(
        logical_name, name=name, retention_in_days=retention_days(platform, retention), kms_key_id=kms_key_arn,
        tags=tags if tags is not None else platform.tags(str(name)),
        opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts))
