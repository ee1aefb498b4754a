"""The one private S3 bucket recipe every tier uses (data stores, logs, audit trail, DR replicas).

Versioned, encrypted (SSE-KMS, or SSE-S3 where a log-delivery service requires it), never public,
ACLs disabled (BucketOwnerEnforced), TLS-only, with lifecycle and optional access logging. In
pulumi-aws 7 each of these is its own resource, tied to the bucket by `bucket=bucket.id`: that recorded
dependency is how the pack's S3 stack policies match configurations to buckets in a preview.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pulumi
import pulumi_aws as aws
from pulumi import Input

from ..context import Platform, policy_json

# Regions launched before August 2022 deliver ALB access logs as the regional ELB account (looked up
# with aws.elb.get_service_account); newer regions use the log-delivery service principal.
LEGACY_ELB_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1", "me-south-1", "sa-east-1",
    "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1"})

def private_bucket(parent: pulumi.Resource, platform: Platform, key: str, *, kms_key_arn: Input[str] | None,
                   extra_statements: Callable[[pulumi.Output[str]], Sequence[pulumi.Input[dict]]] | None = None,
                   opts: pulumi.ResourceOptions | None = None,
                   bucket_opts: pulumi.ResourceOptions | None = None, tags: dict | None = None,
                   access_log_bucket: Input[str] | None = None,
                   lifecycle_rules: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgs] | None = None,
                   region: str | None = None, logical_name: str | None = None,
                   log_prefix: str | None = None, force_destroy: bool | None = None,
                   manage_policy: bool = True) -> PrivateBucket:
    """A versioned, SSE-KMS, never-public, owner-enforced, TLS-only bucket, named
    {project}-{stack}-{key}-{account}-{region} (globally unique, and known in a preview so policies that
    reference the bucket's ARN can be checked before it exists).
    `opts` applies to every resource (e.g. a provider); `bucket_opts` adds protection to the bucket;
    access logs go under `s3/<key>/` (the prefix the log buckets' policies admit for logging.s3);
    `kms_key_arn=None` means SSE-S3 (server access log destinations cannot use SSE-KMS);
    `extra_statements(bucket_arn)` returns the bucket policy's statements besides TLS-only; the default
    lifecycle expires noncurrent versions after 30 days and aborts stale multipart uploads."""
    p = platform
    base = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts)
    name = p.account_id.apply(lambda acct: p.namer.physical("s3_bucket", key, acct, region or p.region))
    arn = name.apply(lambda n: f"arn:aws:s3:::{n}")
    bucket = aws.s3.Bucket(
        logical_name or p.namer.logical("s3_bucket", key), bucket=name,
        force_destroy=(not p.protect) if force_destroy is None else force_destroy,
        tags=tags or p.tags(p.namer.base(key)),
        opts=pulumi.ResourceOptions.merge(base, bucket_opts))
    versioning = aws.s3.BucketVersioning(
        f"{key}-versioning", bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"), opts=base)
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{key}-sse", bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms" if kms_key_arn is not None else "AES256", kms_master_key_id=kms_key_arn),
            bucket_key_enabled=kms_key_arn is not None)], opts=base)
    pab = aws.s3.BucketPublicAccessBlock(
        f"{key}-public-access-block", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=base)
    aws.s3.BucketOwnershipControls(
        f"{key}-ownership", bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=base)
    policy = None
    if manage_policy:  # else the caller writes it (it names a resource that needs this bucket first)
        policy = aws.s3.BucketPolicy(
            f"{key}-policy", bucket=bucket.id,
            policy=policy_json(tls_only(arn), *(extra_statements(arn) if extra_statements else ())),
            opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[pab])))
    aws.s3.BucketLifecycleConfiguration(
        f"{key}-lifecycle", bucket=bucket.id,
        rules=lifecycle_rules or [aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="noncurrent-versions", status="Enabled", filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=30),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=7))],
        opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[versioning])))
    if access_log_bucket is not None:
        aws.s3.BucketLogging(f"{key}-access-logs", bucket=bucket.id, target_bucket=access_log_bucket,
                             target_prefix=log_prefix or f"s3/{key}/", opts=base)
    # Consumers (ALB access logs, log delivery, replication) must not start before the bucket policy
    # exists, or the first `up` fails with Access Denied. The policy's URN is known in a preview, so the
    # name stays known while carrying that dependency.
    ready_name = pulumi.Output.all(name, policy.urn).apply(lambda v: v[0]) if policy is not None else name
    return PrivateBucket(bucket, arn, policy, versioning, ready_name, pab)


@dataclasses.dataclass(frozen=True)
class PrivateBucket:
    bucket: aws.s3.Bucket
    arn: pulumi.Output[str]   # from the explicit name: known in a preview
    policy: aws.s3.BucketPolicy | None
    versioning: aws.s3.BucketVersioning
    name: pulumi.Output[str]  # known in a preview; depends on the bucket policy when it manages one
    public_access_block: aws.s3.BucketPublicAccessBlock


def tls_only(bucket_arn: Input[str]) -> dict:
    """Deny every request not made over TLS (the S3 'secure transport' control)."""
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
