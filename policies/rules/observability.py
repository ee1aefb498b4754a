"""Audit, logging, alarms, backup and replication: what must exist to operate and recover the platform."""
from __future__ import annotations

import fnmatch

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import (
    LOAD_BALANCERS,
    cis,
    depends_on,
    flag,
    fsbp,
    get,
    items,
    plain,
    resource_policy,
    stack_policy,
)

TRAIL = "aws:cloudtrail/trail:Trail"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
REPLICATION = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
               "aws:s3/bucketReplicationConfigV2:BucketReplicationConfigV2")
BACKUP_SELECTION = "aws:backup/selection:Selection"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
STATEFUL = (RDS_INSTANCE, RDS_CLUSTER, "aws:dynamodb/table:Table", "aws:efs/fileSystem:FileSystem",
            "aws:docdb/cluster:Cluster")
DATABASES = (RDS_INSTANCE, RDS_CLUSTER, "aws:docdb/cluster:Cluster")

DEFAULT_MIN_RETENTION = 7
DEFAULT_ENVIRONMENTS = ["prod"]
DEFAULT_DATA_BUCKET_PATTERNS = ["*data-lake*", "*documents*", "*ml-artifacts*"]
ENV_SCHEMA = {"type": "array", "items": {"type": "string"}, "default": DEFAULT_ENVIRONMENTS}


def has_key(props, key: str) -> bool:
    """Whether an input is set, without reading its value: an ARN that comes from another resource is
    unknown in a preview of a new stack but is set (iterating keys and the raw target never raise)."""
    if not any(k == key for k in props):
        return False
    try:
        raw = props["__target"][key]  # the proxy's raw dict: an unknown stays a sentinel, not an error
    except (KeyError, TypeError):  # pragma: no cover - not an SDK proxy
        raw = props.get(key)
    return raw is not None and raw != ""


def _trail(props, report, args):
    if flag(props, "isMultiRegionTrail") is not True:
        report("isMultiRegionTrail must be true (one trail records every region).")
    if flag(props, "enableLogFileValidation") is not True:
        report("enableLogFileValidation must be true (digest files prove the logs were not altered).")
    if flag(props, "includeGlobalServiceEvents", True) is False:
        report("includeGlobalServiceEvents must not be false (IAM, STS and CloudFront events are global).")
    if not has_key(props, "kmsKeyId"):
        report("kmsKeyId must be set: trail log files are encrypted with a customer managed KMS key.")


def _log_group(props, report, args):
    minimum = int((args.get_config() or {}).get("minRetentionDays", DEFAULT_MIN_RETENTION))
    if not has_key(props, "kmsKeyId"):
        report("kmsKeyId must be set: log groups are encrypted with the logs KMS key.")
    retention = get(props, "retentionInDays")
    if retention is None or retention == 0:
        report("retentionInDays must be set: a log group that never expires grows without bound.")
    elif retention < minimum:
        report(f"retentionInDays is {retention}; at least {minimum} days are required.")


def _environment(resource) -> object:
    """The resource's Environment tag (reading it raises when unknown, as it should)."""
    return get(resource.props, "tags.Environment")


def _in_scope(resource, environments) -> bool:
    return _environment(resource) in environments


def _data_buckets(resources, report, args):
    cfg = args.get_config() or {}
    environments = list(cfg.get("environments", DEFAULT_ENVIRONMENTS))
    patterns = list(cfg.get("dataBucketPatterns", DEFAULT_DATA_BUCKET_PATTERNS))
    tag_key = cfg.get("dataTagKey", "DataClassification")
    replications = [r for r in resources if r.resource_type in REPLICATION]
    buckets = [r for r in resources if r.resource_type in BUCKETS]
    # A replication destination is itself a replica, not a source that needs replicating.
    destinations = {b.urn for b in buckets for r in replications if depends_on(r, b, "rules")}
    for bucket in buckets:
        if bucket.urn in destinations:
            continue
        tags = plain(get(bucket.props, "tags", {})) or {}
        is_data = tag_key in tags or any(fnmatch.fnmatch(bucket.name, pat) for pat in patterns)
        if not is_data or tags.get("Environment") not in environments:
            continue
        if not any(depends_on(r, bucket, "bucket") for r in replications):
            report(f"data bucket {bucket.name} has no BucketReplicationConfig (bucket=<this bucket>) to the DR "
                   f"region.", bucket.urn)


def _selection_covers(selection, resource) -> bool:
    if depends_on(selection, resource, "resources"):
        return True
    tags = plain(get(resource.props, "tags", {})) or {}
    for cond in items(get(selection.props, "selectionTags")):
        if get(cond, "type", "STRINGEQUALS") == "STRINGEQUALS" and tags.get(get(cond, "key")) == get(cond, "value"):
            return True
    resources = [str(x) for x in items(get(selection.props, "resources"))]
    equals = [c for cond in items(get(selection.props, "conditions"))
              for c in items(get(cond, "stringEquals"))]
    if "*" in resources and equals:
        return all(tags.get(str(get(c, "key", "")).removeprefix("aws:ResourceTag/")) == get(c, "value")
                   for c in equals)
    return False


def _backup_covers(resources, report, args):
    environments = list((args.get_config() or {}).get("environments", DEFAULT_ENVIRONMENTS))
    selections = [r for r in resources if r.resource_type == BACKUP_SELECTION]
    for res in resources:
        if res.resource_type not in STATEFUL or not _in_scope(res, environments):
            continue
        if res.resource_type == RDS_INSTANCE and get(res.props, "replicateSourceDb"):
            continue  # a read replica is restored from its source's backups
        if not any(_selection_covers(s, res) for s in selections):
            report(f"{res.resource_type.split(':')[-1]} {res.name} is not selected by any AWS Backup selection "
                   f"(by ARN in `resources` or by a tag it carries).", res.urn)


def _alarms(resources, report, args):
    environments = list((args.get_config() or {}).get("environments", DEFAULT_ENVIRONMENTS))
    alarms = [r for r in resources if r.resource_type == METRIC_ALARM]
    for res in resources:
        if res.resource_type not in LOAD_BALANCERS + DATABASES or not _in_scope(res, environments):
            continue
        if not any(depends_on(a, res, "dimensions") for a in alarms):
            report(f"{res.resource_type.split(':')[-1]} {res.name} has no CloudWatch MetricAlarm whose dimensions "
                   f"come from it.", res.urn)


POLICIES = [
    resource_policy(
        "cloudtrail-multi-region-validated-encrypted",
        "CloudTrail trails must be multi-region, include global events, validate log files and use KMS.",
        (TRAIL,), _trail, severity=Severity.HIGH, framework=cis("3.1"),
        remediation="Set isMultiRegionTrail, includeGlobalServiceEvents and enableLogFileValidation to true and "
                    "kmsKeyId to a customer managed key whose policy grants cloudtrail.amazonaws.com.",
        tags=["logging", "audit", "encryption"]),
    resource_policy(
        "log-group-encrypted-with-retention",
        "CloudWatch log groups must be KMS-encrypted and expire after a retention of at least the minimum.",
        (LOG_GROUP,), _log_group, severity=Severity.MEDIUM, framework=fsbp("CloudWatch.16"),
        remediation="Set kmsKeyId to the logs key and retentionInDays (app 30, audit 90+ days by default).",
        tags=["logging", "encryption"],
        config_schema=PolicyConfigSchema(properties={
            "minRetentionDays": {"type": "integer", "default": DEFAULT_MIN_RETENTION}})),
    stack_policy(
        "s3-data-buckets-replicated",
        "Buckets holding data (tag DataClassification or a data-bucket name) must replicate to the DR region.",
        _data_buckets, severity=Severity.HIGH, framework=fsbp("S3.7"),
        remediation="Enable dr.enabled so the DR tier adds a BucketReplicationConfig for the bucket.",
        tags=["dr", "s3"],
        config_schema=PolicyConfigSchema(properties={
            "environments": ENV_SCHEMA,
            "dataBucketPatterns": {"type": "array", "items": {"type": "string"},
                                   "default": DEFAULT_DATA_BUCKET_PATTERNS},
            "dataTagKey": {"type": "string", "default": "DataClassification"}}),
        types=('aws:s3/bucketReplicationConfig:BucketReplicationConfig', 'aws:s3/bucketReplicationConfigV2:BucketReplicationConfigV2', 'aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2')),
    stack_policy(
        "backup-plan-covers-stateful",
        "Every RDS instance/cluster, DynamoDB table, EFS file system and DocumentDB cluster must be selected by an "
        "AWS Backup selection.",
        _backup_covers, severity=Severity.HIGH, framework=fsbp("RDS.26"),
        remediation="Pass the resource's ARN to the DR tier (backup selection `resources`) or tag it Backup=true.",
        tags=["dr", "backup"],
        config_schema=PolicyConfigSchema(properties={"environments": ENV_SCHEMA}),
        types=('aws:backup/selection:Selection', 'aws:rds/instance:Instance', 'aws:rds/cluster:Cluster', 'aws:dynamodb/table:Table', 'aws:efs/fileSystem:FileSystem', 'aws:docdb/cluster:Cluster')),
    stack_policy(
        "alarms-for-load-balancers-and-databases",
        "Every load balancer and database must have at least one CloudWatch alarm watching it.",
        _alarms, severity=Severity.MEDIUM,
        remediation="Pass the resource's outputs (arn_suffix, identifier) to the observability tier.",
        tags=["monitoring"],
        config_schema=PolicyConfigSchema(properties={"environments": ENV_SCHEMA}),
        types=('aws:cloudwatch/metricAlarm:MetricAlarm', 'aws:lb/loadBalancer:LoadBalancer', 'aws:alb/loadBalancer:LoadBalancer', 'aws:rds/instance:Instance', 'aws:rds/cluster:Cluster', 'aws:docdb/cluster:Cluster')),
]
