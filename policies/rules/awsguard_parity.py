"""awsguard rules no service module covers, with awsguard's names, intent and options: API Gateway stage
caching, method-cache encryption and endpoint types; S3 server access logging (as a stack policy over
pulumi-aws 7 BucketLogging resources, exempting the log buckets themselves: awsguard issues #36/#59)."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import is_unknown, nist
from ._lib import (
    as_list,
    depends_on,
    flag,
    fsbp,
    get,
    items,
    plain,
    resource_policy,
    stack_policy,
)

STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
REST_API = "aws:apigateway/restApi:RestApi"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")


def _stage_cached(props, report, args):
    if flag(props, "cacheClusterEnabled") is not True:
        report("cacheClusterEnabled must be true.")


def _method_cache(props, report, args):
    require = (args.get_config() or {}).get("requireCaching", True)
    caching = flag(props, "settings.cachingEnabled") is True
    if require and not caching:
        report("settings.cachingEnabled must be true.")
    if caching and flag(props, "settings.cacheDataEncrypted") is not True:
        report("settings.cacheDataEncrypted must be true when caching is enabled.")


def _endpoint_type(props, report, args):
    cfg = args.get_config() or {}
    allowed = {t for t, key, default in (("EDGE", "allowEdge", True), ("REGIONAL", "allowRegional", False),
                                        ("PRIVATE", "allowPrivate", False)) if cfg.get(key, default)}
    # No endpointConfiguration: API Gateway creates an EDGE API (judged as EDGE, allowed by default).
    types = as_list(plain(get(props, "endpointConfiguration.types"))) or ["EDGE"]
    for t in types:
        if t not in allowed:
            report(f"endpoint type {t} is not allowed (allowed: {', '.join(sorted(allowed)) or 'none'}).")


def _bucket_logging(resources, report, args):
    buckets = [r for r in resources if r.resource_type in BUCKETS]
    loggings = [r for r in resources if r.resource_type in BUCKET_LOGGING]
    exempt = list((args.get_config() or {}).get("exemptBuckets", []))

    def is_target(bucket) -> bool:
        """A log destination: named by a BucketLogging's targetBucket (by URN, or by its literal name)."""
        for log in loggings:
            if depends_on(log, bucket, "targetBucket"):
                return True
            if not log.property_dependencies.get("targetBucket") and not is_unknown(bucket.props, "bucket") \
                    and not is_unknown(log.props, "targetBucket"):
                # a literal target name; an auto-named (unknown) bucket can only be targeted through its output
                if get(bucket.props, "bucket") and get(log.props, "targetBucket") == get(bucket.props, "bucket"):
                    return True
        return False

    for bucket in buckets:
        if bucket.name in exempt or is_target(bucket):
            continue
        if items(get(bucket.props, "loggings")) or get(bucket.props, "logging"):
            continue  # the deprecated inline style
        if not any(depends_on(log, bucket, "bucket") for log in loggings):
            report(f"bucket {bucket.name} has no server access logging (aws.s3.BucketLogging).", bucket.urn)


POLICIES = [
    resource_policy(
        "apigateway-stage-cached", "API Gateway REST API stages should have a cache cluster.", (STAGE,),
        _stage_cached, severity=Severity.LOW, framework=nist("SC-5"),
        remediation="Set cacheClusterEnabled=True and cacheClusterSize on the stage (billed per hour).",
        tags=["apigateway", "performance", "awsguard:apigateway-stage-cached", "checkov:CKV_AWS_120"]),
    resource_policy(
        "apigateway-method-cached-and-encrypted", "API Gateway method caches must be encrypted (and, by default, "
        "enabled).", (METHOD_SETTINGS,), _method_cache, severity=Severity.MEDIUM, framework=fsbp("APIGateway.5"),
        remediation="settings={'caching_enabled': True, 'cache_data_encrypted': True}.",
        tags=["apigateway", "encryption", "awsguard:apigateway-method-cached-and-encrypted", "checkov:CKV_AWS_225",
              "checkov:CKV_AWS_308"],
        config_schema=PolicyConfigSchema(properties={
            "requireCaching": {"type": "boolean", "default": True,
                               "description": "false: only require encryption where caching is on"}})),
    resource_policy(
        "apigateway-endpoint-type", "API Gateway REST APIs must use an allowed endpoint type.", (REST_API,),
        _endpoint_type, severity=Severity.MEDIUM, framework=nist("SC-7"),
        remediation="Set endpointConfiguration={'types': 'REGIONAL'} (or EDGE/PRIVATE) as the config allows.",
        tags=["apigateway", "network", "awsguard:apigateway-endpoint-type"],
        config_schema=PolicyConfigSchema(properties={
            "allowEdge": {"type": "boolean", "default": True},
            "allowRegional": {"type": "boolean", "default": False},
            "allowPrivate": {"type": "boolean", "default": False}})),
    stack_policy(
        "s3-bucket-logging-enabled", "S3 buckets must have server access logging (log destination buckets "
        "excepted).", _bucket_logging, severity=Severity.MEDIUM, framework=fsbp("S3.9"),
        remediation="Add aws.s3.BucketLogging(bucket=b.id, target_bucket=<access-log bucket>.id, target_prefix=...).",
        tags=["s3", "logging", "awsguard:s3-bucket-logging-enabled", "checkov:CKV_AWS_18", "cdk-nag:AwsSolutions-S1"],
        config_schema=PolicyConfigSchema(properties={
            "exemptBuckets": {"type": "array", "items": {"type": "string"}, "default": [],
                              "description": "resource names of buckets that need no access log"}}),
        types=('aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2', 'aws:s3/bucketLogging:BucketLogging', 'aws:s3/bucketLoggingV2:BucketLoggingV2')),
]
