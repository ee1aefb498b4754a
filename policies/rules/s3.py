"""S3: versioning, encryption, public access blocks, public ACLs, TLS-only policies, lifecycle, server access
logging and replication, over pulumi-aws 7's split bucket resources."""
from __future__ import annotations

import fnmatch

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import is_unknown
from ._lib import (
    Autofix,
    cis,
    depends_on,
    flag,
    fsbp,
    get,
    items,
    plain,
    policy_document,
    rule,
    stack_policy,
    statements,
)
from ._shared import DEFAULT_ENVIRONMENTS, ENV_SCHEMA

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")

BUCKET_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")


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


REPLICATION = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
               "aws:s3/bucketReplicationConfigV2:BucketReplicationConfigV2")

DEFAULT_DATA_BUCKET_PATTERNS = ["*data-lake*", "*documents*", "*ml-artifacts*"]


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


VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")

ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")

PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)

BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)

LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")

SSE_ALGORITHMS = ("aws:kms", "aws:kms:dsse", "AES256")

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def configs_of(resources, bucket, types) -> list:
    """The configuration resources of `types` whose `bucket` input comes from `bucket`."""
    return [r for r in resources if r.resource_type in types and depends_on(r, bucket, "bucket")]


def _buckets(resources) -> list:
    return [r for r in resources if r.resource_type in BUCKETS]


def _versioning(resources, report, args):
    for bucket in _buckets(resources):
        if flag(bucket.props, "versioning.enabled") is True:
            continue
        found = configs_of(resources, bucket, VERSIONING)
        if not any(get(c.props, "versioningConfiguration.status") == "Enabled" for c in found):
            report(f"bucket {bucket.name} has no BucketVersioning with status Enabled"
                   + (" (a versioning resource exists but does not enable it)." if found else "."), bucket.urn)


def _sse_algorithms(rules) -> list:
    return [get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") for rule in items(rules)]


def _encryption(resources, report, args):
    allowed = list((args.get_config() or {}).get("allowedAlgorithms", SSE_ALGORITHMS))
    for bucket in _buckets(resources):
        inline = _sse_algorithms(get(bucket.props, "serverSideEncryptionConfiguration.rule"))
        if any(a in allowed for a in inline):
            continue
        found = configs_of(resources, bucket, ENCRYPTION)
        algorithms = [a for c in found for a in _sse_algorithms(get(c.props, "rules"))]
        if not any(a in allowed for a in algorithms):
            report(f"bucket {bucket.name} has no BucketServerSideEncryptionConfiguration with a default algorithm in "
                   f"{', '.join(allowed)}" + (f" (found {algorithms})." if found else "."), bucket.urn)


def _public_access_block(resources, report, args):
    for bucket in _buckets(resources):
        found = configs_of(resources, bucket, PUBLIC_ACCESS_BLOCK)
        if not found:
            report(f"bucket {bucket.name} has no BucketPublicAccessBlock.", bucket.urn)
            continue
        if not any(all(flag(c.props, f) is True for f in PAB_FLAGS) for c in found):
            off = sorted({f for c in found for f in PAB_FLAGS if flag(c.props, f) is not True})
            report(f"bucket {bucket.name}'s public access block leaves {', '.join(off)} off.", bucket.urn)


def denies_insecure_transport(doc) -> bool:
    for st in statements(doc):
        if st.get("Effect") != "Deny":
            continue
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if not any(a in ("s3:*", "*") for a in actions):
            continue
        principal = st.get("Principal")
        if principal not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
            continue
        # Condition operators and keys are case-insensitive; values may be a string, a bool or a list.
        for op, block in (st.get("Condition") or {}).items():
            if op.lower() != "bool" or not isinstance(block, dict):
                continue
            for key, value in block.items():
                if key.lower() == "aws:securetransport" and \
                        any(str(v).lower() == "false" for v in (value if isinstance(value, list) else [value])):
                    return True
    return False


def _tls_only(resources, report, args):
    for bucket in _buckets(resources):
        if denies_insecure_transport(policy_document(get(bucket.props, "policy"))):
            continue
        found = configs_of(resources, bucket, BUCKET_POLICY)
        if not any(denies_insecure_transport(policy_document(get(c.props, "policy"))) for c in found):
            report(f"bucket {bucket.name} has no bucket policy denying requests without TLS "
                   "(Deny s3:* to * when aws:SecureTransport is false).", bucket.urn)


def _lifecycle(resources, report, args):
    for bucket in _buckets(resources):
        if any(flag(rule, "enabled") is True for rule in items(get(bucket.props, "lifecycleRules"))):
            continue
        found = configs_of(resources, bucket, LIFECYCLE)
        if not any(get(rule, "status") == "Enabled" for c in found for rule in items(get(c.props, "rules"))):
            report(f"bucket {bucket.name} has no BucketLifecycleConfiguration with an enabled rule.", bucket.urn)


BUCKET_ACLS = ("aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl")

OBJECTS = ("aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject")

PUBLIC_CANNED = ("public-read", "public-read-write", "authenticated-read")

PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


@rule("s3-no-public-acl", "S3 buckets and objects must not grant access to everyone (or every AWS account) "
      "through an ACL.", types=BUCKETS + BUCKET_ACLS + OBJECTS, severity=Severity.CRITICAL, framework=fsbp("S3.2"),
      refs={"pulumi": "aws-s3-bucket-disallow-public-read", "checkov": ["CKV_AWS_20", "CKV_AWS_57", "CKV2_AWS_43"]},
      steps="Remove the canned ACL / grant (set object ownership BucketOwnerEnforced, which disables ACLs); share "
            "through CloudFront with OAC or a scoped bucket policy.", tags=["s3", "exposure"])
def _no_public_acl(props, report, args):
    acl = get(props, "acl")
    if acl in PUBLIC_CANNED:
        report(f"acl {acl!r} opens the data to {'every AWS account' if acl == 'authenticated-read' else 'everyone'}.")
    grants = items(get(props, "grants")) + items(get(props, "accessControlPolicy.grants"))
    for g in grants:
        uris = [get(g, "uri"), get(g, "grantee.uri")]
        for uri in uris:
            if uri in PUBLIC_GROUPS:
                perms = get(g, "permission") or ", ".join(map(str, items(get(g, "permissions"))))
                report(f"grant {perms} to {uri.rsplit('/', 1)[-1]}.")


POLICIES = [
    stack_policy(
        "s3-bucket-logging-enabled", "S3 buckets must have server access logging (log destination buckets "
        "excepted).", _bucket_logging, severity=Severity.MEDIUM, framework=fsbp("S3.9"),
        remediation="Add aws.s3.BucketLogging(bucket=b.id, target_bucket=<access-log bucket>.id, target_prefix=...).",
        tags=["s3", "logging", "awsguard:s3-bucket-logging-enabled", "checkov:CKV_AWS_18", "cdk-nag:AwsSolutions-S1"],
        config_schema=PolicyConfigSchema(properties={
            "exemptBuckets": {"type": "array", "items": {"type": "string"}, "default": [],
                              "description": "resource names of buckets that need no access log"}}),
        types=('aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2', 'aws:s3/bucketLogging:BucketLogging',
               'aws:s3/bucketLoggingV2:BucketLoggingV2')),
    stack_policy(
        "s3-data-buckets-replicated",
        "Buckets holding data (tag DataClassification or a data-bucket name) must replicate to the DR region.",
        _data_buckets, severity=Severity.HIGH, framework=fsbp("S3.7"),
        remediation="Enable dr.enabled so the DR tier adds a BucketReplicationConfig for the bucket.",
        tags=["checkov:CKV_AWS_144", "compliance-policies:aws-s3-bucket-enable-replication-configuration",
              "dr", "s3"],
        config_schema=PolicyConfigSchema(properties={
            "environments": ENV_SCHEMA,
            "dataBucketPatterns": {"type": "array", "items": {"type": "string"},
                                   "default": DEFAULT_DATA_BUCKET_PATTERNS},
            "dataTagKey": {"type": "string", "default": "DataClassification"}}),
        types=('aws:s3/bucketReplicationConfig:BucketReplicationConfig',
               'aws:s3/bucketReplicationConfigV2:BucketReplicationConfigV2', 'aws:s3/bucket:Bucket',
               'aws:s3/bucketV2:BucketV2')),
    stack_policy(
        "s3-versioning-enabled", "S3 buckets must have versioning enabled.", _versioning,
        severity=Severity.MEDIUM, framework=fsbp("S3.14"),
        remediation="Add aws.s3.BucketVersioning(bucket=<bucket>.id, versioning_configuration={'status': 'Enabled'}).",
        tags=["resilience", "s3", "checkov:CKV_AWS_21"],
        types=('aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2', 'aws:s3/bucketVersioning:BucketVersioning',
               'aws:s3/bucketVersioningV2:BucketVersioningV2')),
    stack_policy(
        "s3-encryption-enabled", "S3 buckets must set default server-side encryption explicitly.", _encryption,
        severity=Severity.HIGH, framework=fsbp("S3.17"),
        remediation="Add aws.s3.BucketServerSideEncryptionConfiguration(bucket=<bucket>.id, rules=[{"
                    "'apply_server_side_encryption_by_default': {'sse_algorithm': 'aws:kms', 'kms_master_key_id': "
                    "<key>}, 'bucket_key_enabled': True}]) (AES256 only where the writer requires SSE-S3).",
        tags=["compliance-policies:aws-s3-bucket-enable-server-side-encryption",
              "encryption", "s3", "checkov:CKV_AWS_19", "checkov:CKV_AWS_145"],
        config_schema=PolicyConfigSchema(properties={
            "allowedAlgorithms": {"type": "array", "items": {"type": "string"}, "default": list(SSE_ALGORITHMS)}}),
        types=('aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2',
               'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
               'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2')),
    stack_policy(
        "s3-public-access-block", "S3 buckets must block all public access.", _public_access_block,
        severity=Severity.CRITICAL, framework=cis("2.1.4"),
        remediation="Add aws.s3.BucketPublicAccessBlock(bucket=<bucket>.id) with all four flags True.",
        tags=["checkov:CKV_AWS_53", "checkov:CKV_AWS_54", "checkov:CKV_AWS_55", "checkov:CKV_AWS_56",
              "exposure", "s3", "checkov:CKV2_AWS_6", "cdk-nag:S2"],
        autofix=Autofix("report",
            "A block can be opened on purpose (a public site, a policy the team means); re-closing it "
            "silently makes the next PutBucketPolicy fail. The former s3-public-access-block-remediation is "
            "removed."),
        types=('aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2',
               'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')),
    stack_policy(
        "s3-tls-only-policy", "S3 bucket policies must deny requests made without TLS.", _tls_only,
        severity=Severity.HIGH, framework=cis("2.1.1"),
        remediation="Add a BucketPolicy statement: Deny, Principal '*', Action 's3:*', Resource [bucket, bucket/*], "
                    "Condition Bool aws:SecureTransport 'false'.",
        tags=["encryption", "transport", "s3", "checkov:CKV_AWS_379", "cdk-nag:S10"],
        types=('aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2', 'aws:s3/bucketPolicy:BucketPolicy')),
    stack_policy(
        "s3-lifecycle-configured", "S3 buckets must have a lifecycle configuration (tiering, expiry of noncurrent "
        "versions, aborting incomplete uploads).", _lifecycle,
        severity=Severity.LOW, framework=fsbp("S3.13"),
        remediation="Add aws.s3.BucketLifecycleConfiguration(bucket=<bucket>.id, rules=[...]) with status Enabled.",
        tags=["cost", "s3", "checkov:CKV2_AWS_61"],
        types=('aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2',
               'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
               'aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2')),
]


# ------------------------------------------------------------------ deployability (issue 24)
def _replication_versioning(resources, report, args):
    from ._compliance import is_unknown as unknown
    from ._links import linked

    def enabled(bucket) -> list:
        return [c for c in configs_of(resources, bucket, VERSIONING)
                if not unknown(c.props, "versioningConfiguration")
                and get(c.props, "versioningConfiguration.status") == "Enabled"]

    for cfg in (r for r in resources if r.resource_type in REPLICATION):
        sources = linked(resources, cfg, "bucket", BUCKETS, keys=("bucket",))
        dests = [b for b in linked(resources, cfg, "rules", BUCKETS) if b not in sources]
        if not unknown(cfg.props, "rules"):
            names = set()
            for r in items(get(cfg.props, "rules")):
                if not unknown(r, "destination") and not unknown(get(r, "destination"), "bucket"):
                    arn = get(r, "destination.bucket")
                    if isinstance(arn, str) and arn.startswith("arn:aws:s3:::"):
                        names.add(arn[len("arn:aws:s3:::"):])
            dests += [b for b in _buckets(resources) if b not in dests and not unknown(b.props, "bucket")
                      and get(b.props, "bucket") in names]
        for role, buckets in (("source", sources), ("destination", dests)):
            for b in buckets:
                if flag(b.props, "versioning.enabled") is True:
                    continue
                found = enabled(b)
                if not found:
                    report(f"replication {cfg.name}: its {role} bucket {b.name} has no BucketVersioning with status "
                           "Enabled: S3 rejects the replication configuration.", cfg.urn)
                elif role == "source" and not any(depends_on(cfg, v) for v in found):
                    report(f"replication {cfg.name} does not depend on {found[0].name}: S3 rejects a replication "
                           "configuration until the source's versioning is enabled (add depends_on).", cfg.urn)


POLICIES.append(stack_policy(
    "s3-replication-requires-versioning",
    "S3 replication requires versioning enabled on the source and the destination bucket, in place before the "
    "replication configuration (S3 User Guide, \"Requirements and considerations for replication\": "
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html).",
    _replication_versioning, types=REPLICATION + BUCKETS + VERSIONING, severity=Severity.HIGH,
    remediation="aws.s3.BucketVersioning(status Enabled) on both buckets, and depends_on=[source versioning] on the "
                "BucketReplicationConfig.", tags=["s3", "deployability", "dr"]))
