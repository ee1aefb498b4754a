"""The KMS key recipe: one key-policy builder, grant statements by purpose, and the key + alias builder.

Keys rotate yearly; the account root administers every key (so IAM policies can grant use, and nobody
is locked out); services that encrypt on their own behalf get exactly the grant their documentation asks
for, scoped to this account or to the exact source where the service sends one.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pulumi
import pulumi_aws as aws

from ..context import Platform

# Services that encrypt with the data key on their own behalf (not through an IAM caller): EventBridge delivering
# to the encrypted queues and topics, SNS delivering to the encrypted queues, Budgets notifying the encrypted
# alerts topic. Nothing else does (no S3 event notification, vended log delivery or SQS-to-SQS path uses this
# key), so no other service principal is named: a grant nothing uses is a confused deputy waiting.
DATA_KEY_SERVICES = ["events.amazonaws.com", "sns.amazonaws.com", "budgets.amazonaws.com"]

Grants = Callable[[str, str], Sequence[dict]]   # (account, region) -> statements besides the root's


def key_policy(account: str, *statements: dict) -> str:
    """The one key-policy document: the account administers the key, plus the given service grants."""
    root = {"Sid": "AccountAdministersKey", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]})


def logs_grants(account: str, region: str) -> list[dict]:
    """CloudWatch Logs of this region encrypts this account's log groups."""
    return [{
        "Sid": "CloudWatchLogsUseKey", "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:log-group:*"}}}]


def data_grants(account: str, region: str) -> list[dict]:
    """Services that write encrypted messages, objects and logs of this account on their own behalf."""
    return [
        {"Sid": "AwsServicesEncryptData", "Effect": "Allow", "Principal": {"Service": DATA_KEY_SERVICES},
         "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
        # CloudWatch alarms publishing to the KMS-encrypted alerts topic: alarm actions carry no aws:SourceAccount,
        # so the grant is scoped by what SNS always sends, the encryption context naming the topic: this
        # account's topics in this region only.
        {"Sid": "CloudWatchAlarmsToEncryptedTopics", "Effect": "Allow",
         "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
         "Condition": {"ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": f"arn:aws:sns:{region}:{account}:*"}}}]


def cloudtrail_grants(account: str, trail_arn: str) -> list[dict]:
    """CloudTrail encrypts this trail's log files (and decrypts for the audit bucket's S3 Bucket Key)."""
    trail_context = f"arn:aws:cloudtrail:*:{account}:trail/*"
    return [
        {"Sid": "CloudTrailEncryptsLogs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn},
                       "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_context}}},
        {"Sid": "CloudTrailDescribesKey", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
        # The audit bucket uses an S3 Bucket Key with this key: CloudTrail then needs kms:Decrypt to create or
        # update an SSE-KMS trail (CloudTrail User Guide, "Granting decrypt permissions"; the documented
        # statement has no condition, and CreateTrail fails with InsufficientEncryptionPolicyException without it).
        # Scoped like its neighbours to this trail (aws:SourceArn): no other account's trail may have it decrypt.
        {"Sid": "CloudTrailDecryptsForBucketKey", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}}]


def purpose_grants(purpose: str, account: str, region: str) -> list[dict]:
    """The grants of the security tier's key purposes (data, logs, secrets)."""
    return {"logs": logs_grants, "data": data_grants}.get(purpose, lambda a, r: [])(account, region)


def kms_key(parent: pulumi.Resource, platform: Platform, logical_name: str, *, purpose: str, description: str,
            policy: pulumi.Input[str], alias: str | None = None, tags: dict | None = None,
            opts: pulumi.ResourceOptions | None = None) -> aws.kms.Key:
    """A yearly-rotating key, protected like every stateful resource; `alias` (a short purpose) adds
    `alias/{project}-{stack}-{alias}` through the naming helper. `opts` may carry another region's provider."""
    p = platform
    key = aws.kms.Key(
        logical_name, description=description, enable_key_rotation=True, rotation_period_in_days=365,
        deletion_window_in_days=p.key_deletion_window_days, policy=policy,
        tags=tags if tags is not None else p.tags(p.namer.base(purpose), Purpose=purpose),
        opts=pulumi.ResourceOptions.merge(p.stateful(parent), opts))
    if alias is not None:
        aws.kms.Alias(f"{logical_name}-alias", name=p.namer.kms_alias(alias), target_key_id=key.key_id,
                      opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts))
    return key
