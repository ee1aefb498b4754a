"""Data tier: PostgreSQL (RDS), Redis (ElastiCache), DynamoDB, optional DocumentDB, and the S3 buckets.

Everything lives on the isolated subnets behind the data security group (reachable only from the
application group), is encrypted with the security tier's data key, and in prod is protected twice:
by the service's own setting (deletion protection, final snapshot) and by Pulumi `protect` +
`retain_on_delete` (`platform.stateful`).

Names that other resources' policies refer to (bucket names, DB identifiers, log group names) are
explicit and derived from known values (project, stack, account id, region), so the policies that
reference them are complete, and checkable, in a preview of a new stack where ids are unknown.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from .config.data import (
    BUCKET_KEYS,
    DOCDB_FAMILY,
    POSTGRES_FAMILY,
    SYNTHETIC_DATA_TABLE,
    DataSettings,
    TableSettings,
)
from .context import Platform, publish
from .recipes.buckets import LEGACY_ELB_REGIONS, private_bucket
from .recipes.caches import REDIS_PORT, RedisSpec, redis_cache
from .recipes.log_groups import log_group
from .recipes.roles import MANAGED, service_role

BUCKET_PURPOSES = BUCKET_KEYS
POSTGRES_PORT, DOCDB_PORT = 5432, 27017


@dataclasses.dataclass(frozen=True)
class DataTierArgs:
    platform: Platform
    settings: DataSettings
    vpc_id: pulumi.Input[str]
    isolated_subnet_ids: pulumi.Input[Sequence[str]]
    data_sg_id: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    # Key for the PostgreSQL master secret and the Redis auth secret; the data key if not given.
    secrets_key_arn: pulumi.Input[str] | None = None
    # Who may read the PostgreSQL master credential (role ARNs): the database bootstrap, nothing else. Everyone
    # else is denied GetSecretValue by the secret's own policy (with no reader, nobody reads it; operators
    # change the policy on purpose: docs/runbooks.md).
    master_secret_readers: Sequence[pulumi.Input[str]] = ()
    # DR (pilot-light/warm-standby): the master credential is replicated there (the promoted replica keeps it).
    replica_region: str | None = None
    replica_kms_key_arn: pulumi.Input[str] | None = None


@dataclasses.dataclass(frozen=True)
class DataOutputs:
    security_group_id: pulumi.Input[str]      # the group every store here is attached to
    db_address: pulumi.Output[str]
    db_port: pulumi.Output[int]
    db_name: str
    db_instance_identifier: pulumi.Output[str]
    db_instance_arn: pulumi.Output[str]
    db_resource_id: pulumi.Output[str]        # rds-db:connect ARNs name it: dbuser:<resource-id>/<user>
    # The stack-owned master credential (JSON: engine, host, port, username, password, dbname; the shape of RDS's
    # rotation functions): for the database bootstrap (`master_secret_readers`), never for services.
    db_master_secret_arn: pulumi.Output
    db_master_secret_arn_pattern: pulumi.Output[str]   # name-based (IAM documents known in a preview)
    db_replica_identifier: pulumi.Output[str] | None
    db_replica_address: pulumi.Output[str] | None
    db_replica_resource_id: pulumi.Output[str] | None   # the replica's own DbiResourceId (its rds-db:connect ARNs)
    db_subnet_group_name: pulumi.Output[str]      # the DR failover re-creates a replica here at failback
    redis_endpoint: pulumi.Output[str]
    redis_reader_endpoint: pulumi.Output[str]
    redis_port: pulumi.Output[int]
    redis_auth_secret_arn: pulumi.Output[str]
    redis_auth_secret_arn_pattern: pulumi.Output[str]      # name-based (IAM documents known in a preview)
    redis_replication_group_id: pulumi.Output[str]
    redis_node_count: int
    table_names: Mapping[str, pulumi.Output[str]]
    table_arns: Mapping[str, pulumi.Output[str]]
    table_iam_arns: Mapping[str, pulumi.Output[str]]       # from the explicit names (IAM documents, preview)
    table_stream_arns: Mapping[str, pulumi.Output[str]]
    docdb_endpoint: pulumi.Output[str] | None
    docdb_cluster_arn: pulumi.Output[str] | None
    docdb_cluster_identifier: pulumi.Output[str] | None
    bucket_names: Mapping[str, pulumi.Output[str]]     # known in a preview (explicit names)
    bucket_arns: Mapping[str, pulumi.Output[str]]
    bucket_ids: Mapping[str, pulumi.Output[str]]       # bucket.id: carries the dependency on the bucket
    # Each data bucket's versioning configuration: S3 replication waits for it (context.after).
    bucket_versioning_ids: Mapping[str, pulumi.Output[str]]
    log_bucket_name: pulumi.Output[str]
    log_bucket_arn: pulumi.Output[str]
    log_bucket_domain_name: pulumi.Output[str]   # regional endpoint name (for log deliveries that want one)
    db_parameter_group_name: pulumi.Output[str] | None = None   # restored on the new primary at failback
    # the group's family and parameters: the DR region's replica gets the same group there (groups are regional)
    db_parameter_family: str | None = None
    db_parameters: tuple = ()


def postgres_parameters(d) -> list[dict]:
    """The PostgreSQL parameter group's settings: TLS only, statement and connection logging (the primary's, and
    the DR replica's group in its own region)."""
    return [dict(name="rds.force_ssl", value="1", apply_method="pending-reboot"),
            dict(name="log_statement", value=d.db_log_statement),
            dict(name="log_connections", value="1"),
            dict(name="log_disconnections", value="1"),
            dict(name="log_min_duration_statement", value=str(d.db_log_min_duration_ms))]


def _tiering_rules(d) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    return [aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="tiering-and-cleanup", status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=d.lifecycle_ia_days,
                                                                           storage_class="STANDARD_IA"),
                     # Glacier Instant Retrieval: GetObject still works (Flexible Retrieval needs a restore first,
                     # which would break a training job or endpoint reading an older dataset or model).
                     aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=d.lifecycle_glacier_days,
                                                                           storage_class="GLACIER_IR")],
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=d.lifecycle_noncurrent_expire_days),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=d.lifecycle_abort_multipart_days))]


def _log_rules(d) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    return [aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="expire-logs", status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=d.access_log_expire_days),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=30),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=d.lifecycle_abort_multipart_days))]


class DataTier(pulumi.ComponentResource):
    """Stateful stores. Outputs are endpoints, names, ARNs and secret ARNs; never a secret value."""

    def __init__(self, name: str, args: DataTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:Data", name, None, p.tier_options(opts))
        self._p = p
        self._d = d = args.settings
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self._account = p.account_id
        self._secrets_key = args.secrets_key_arn if args.secrets_key_arn is not None else args.data_key_arn

        self._buckets()
        self._postgres()
        self._redis()
        self._tables()
        self._docdb()

        self.outputs = DataOutputs(
            security_group_id=args.data_sg_id, db_address=self.db.address, db_port=self.db.port, db_name=d.db_name,
            db_instance_identifier=self.db.identifier, db_instance_arn=self.db.arn, db_resource_id=self.db.resource_id,
            # Resolved once the credential is in it: whoever reads the secret (the database bootstrap's run) comes
            # after its first version, never between the secret's creation and its value.
            db_master_secret_arn=pulumi.Output.all(self.db_master_secret.arn, self._master_version.id).apply(
                lambda v: v[0]),
            db_master_secret_arn_pattern=self._master_secret_pattern,
            db_replica_identifier=self.db_replica.identifier if self.db_replica is not None else None,
            db_replica_address=self.db_replica.address if self.db_replica is not None else None,
            db_replica_resource_id=self.db_replica.resource_id if self.db_replica is not None else None,
            db_subnet_group_name=self.db_subnet_group.name, db_parameter_group_name=self.db_parameter_group.name,
            db_parameter_family=POSTGRES_FAMILY[d.postgres_version], db_parameters=tuple(postgres_parameters(d)),
            redis_endpoint=self.redis.primary_endpoint_address, redis_reader_endpoint=self.redis.reader_endpoint_address,
            redis_port=pulumi.Output.from_input(REDIS_PORT), redis_auth_secret_arn=self._redis_secret.arn,
            redis_auth_secret_arn_pattern=self._redis_secret_pattern,
            redis_replication_group_id=self.redis.replication_group_id, redis_node_count=d.redis_nodes,
            table_names={k: t.name for k, t in self.tables.items()},
            table_arns={k: t.arn for k, t in self.tables.items()},
            table_iam_arns={k: p.arn("dynamodb", f"table/{p.namer.physical('dynamodb', k)}") for k in self.tables},
            table_stream_arns={k: t.stream_arn for k, t in self.tables.items()},
            docdb_endpoint=self.docdb.endpoint if self.docdb else None,
            docdb_cluster_arn=self.docdb.arn if self.docdb else None,
            docdb_cluster_identifier=self.docdb.cluster_identifier if self.docdb else None,
            bucket_names=self._bucket_names, bucket_arns=self._bucket_arns, bucket_ids=self._bucket_ids,
            bucket_versioning_ids=self._bucket_versioning_ids,
            log_bucket_name=self._log_bucket_name, log_bucket_arn=self._log_bucket_arn,
            log_bucket_domain_name=self._log_bucket_name.apply(lambda n: f"{n}.s3.{p.region}.amazonaws.com"))
        publish(self, self.outputs)

    # ------------------------------------------------------------------ helpers
    def _log_group(self, key: str, log_name: str) -> aws.cloudwatch.LogGroup:
        """A KMS-encrypted group with retention, created before the service would create a plain one."""
        p = self._p
        return log_group(self, p, key, log_name, kms_key_arn=self._args.logs_key_arn, retention="audit",
                         tags=p.tags(p.namer.base(key)))

    # ------------------------------------------------------------------ S3
    def _buckets(self) -> None:
        p, d, a = self._p, self._d, self._args
        account, region = self._account, p.region

        def log_delivery(arn: pulumi.Output) -> list[dict]:
            objects = pulumi.Output.concat(arn, "/*")
            same_account = {"StringEquals": {"aws:SourceAccount": account}}
            statements = [
                {"Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": pulumi.Output.concat(arn, "/s3/*"), "Condition": same_account},
                {"Sid": "VendedLogsAclCheck", "Effect": "Allow",
                 "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:GetBucketAcl",
                 "Resource": arn, "Condition": same_account},
                {"Sid": "VendedLogsWrite", "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": objects, "Condition": same_account},
            ]
            # <bucket>/[<prefix>/]AWSLogs/<account>/...: any prefix the application tier chooses.
            elb_objects = pulumi.Output.all(arn, account).apply(
                lambda v: [f"{v[0]}/AWSLogs/{v[1]}/*", f"{v[0]}/*/AWSLogs/{v[1]}/*"])
            if region in LEGACY_ELB_REGIONS:
                elb = aws.elb.get_service_account_output(region=region, opts=p.invoke_options()).arn
                statements.append({"Sid": "AlbAccessLogs", "Effect": "Allow", "Principal": {"AWS": elb},
                                   "Action": "s3:PutObject", "Resource": elb_objects})
            else:
                statements.append({"Sid": "AlbAccessLogs", "Effect": "Allow",
                                   "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                                   "Action": "s3:PutObject", "Resource": elb_objects})
            return statements

        # SSE-S3: ALB access logs cannot be written to an SSE-KMS bucket.
        logs = private_bucket(
            self, p, "access-logs", kms_key_arn=None, lifecycle_rules=_log_rules(d), extra_statements=log_delivery,
            force_destroy=d.bucket_force_destroy, logical_name="access-logs-bucket", bucket_opts=p.stateful(self),
            tags=p.tags(p.namer.base("access-logs"), Purpose="access-logs"))
        self._log_bucket_name, self._log_bucket_arn = logs.name, logs.arn

        buckets: dict[str, aws.s3.Bucket] = {}
        self._bucket_names: dict[str, pulumi.Output] = {}
        self._bucket_arns: dict[str, pulumi.Output] = {}
        self._bucket_ids: dict[str, pulumi.Output] = {}
        self._bucket_versioning_ids: dict[str, pulumi.Output] = {}
        for purpose in BUCKET_PURPOSES:
            made = private_bucket(
                self, p, purpose, kms_key_arn=a.data_key_arn, lifecycle_rules=_tiering_rules(d),
                access_log_bucket=logs.bucket.id, log_prefix=f"s3/{purpose}/", force_destroy=d.bucket_force_destroy,
                logical_name=f"{purpose}-bucket", bucket_opts=p.stateful(self),
                tags=p.tags(p.namer.base(purpose), Purpose=purpose))
            buckets[purpose] = made.bucket
            self._bucket_names[purpose], self._bucket_arns[purpose] = made.name, made.arn
            self._bucket_ids[purpose], self._bucket_versioning_ids[purpose] = made.bucket.id, made.versioning.id
        # S3 "Object Created" events on EventBridge: the ML tier's training orchestrator is triggered by them.
        aws.s3.BucketNotification("data-lake-eventbridge", bucket=buckets["data-lake"].id, eventbridge=True,
                                  opts=self._child)

    # ------------------------------------------------------------------ PostgreSQL
    def _postgres(self) -> None:
        p, d, a = self._p, self._d, self._args
        protect = p.protect
        family = POSTGRES_FAMILY[d.postgres_version]
        identifier = p.namer.physical("rds", "postgres")
        replica_identifier = p.namer.physical("rds", "postgres", "replica")

        subnets = self.db_subnet_group = aws.rds.SubnetGroup(
            "postgres-subnets", name=p.namer.physical("db_subnet_group", "postgres"), subnet_ids=a.isolated_subnet_ids,
            description="PostgreSQL on the isolated subnets (no route to the internet)",
            tags=p.tags(p.namer.base("postgres-subnets")), opts=self._child)
        # Auto-named: a version upgrade creates the new family's group before the old one is deleted.
        params = self.db_parameter_group = aws.rds.ParameterGroup(
            p.namer.logical("db_parameter_group", family), family=family,
            description=f"{p.namer.base()} {family}: TLS only, statement and connection logging",
            parameters=[aws.rds.ParameterGroupParameterArgs(**kw) for kw in postgres_parameters(d)],
            tags=p.tags(p.namer.base("postgres-params")), opts=self._child)

        monitoring = service_role(
            self, p, "postgres-monitoring-role", service="monitoring.rds.amazonaws.com",
            description="RDS Enhanced Monitoring publishes OS metrics to CloudWatch Logs",
            tag_name=p.namer.base("rds-monitoring"),
            managed={"postgres-monitoring-managed": MANAGED + "service-role/AmazonRDSEnhancedMonitoringRole"})
        monitoring_role, [monitoring_attach] = monitoring.role, monitoring.attachments

        log_groups = [self._log_group(f"postgres-logs-{log}", p.namer.service_log_group("/aws/rds/instance", identifier, log))
                      for log in d.db_log_exports]
        common: dict[str, Any] = dict(
            instance_class=d.db_instance_class, storage_type="gp3", max_allocated_storage=d.db_max_allocated_storage_gb,
            storage_encrypted=True, kms_key_id=a.data_key_arn, parameter_group_name=params.name,
            vpc_security_group_ids=[a.data_sg_id], publicly_accessible=False, port=POSTGRES_PORT,
            performance_insights_enabled=True, performance_insights_kms_key_id=a.data_key_arn,
            performance_insights_retention_period=d.db_performance_insights_retention_days,
            monitoring_interval=d.db_monitoring_interval, monitoring_role_arn=monitoring_role.arn,
            enabled_cloudwatch_logs_exports=list(d.db_log_exports), auto_minor_version_upgrade=True,
            maintenance_window=d.db_maintenance_window, ca_cert_identifier="rds-ca-rsa2048-g1",
            copy_tags_to_snapshot=True, deletion_protection=protect, apply_immediately=not protect)
        password = self._master_secret(identifier)
        self.db = aws.rds.Instance(
            "postgres", identifier=identifier, engine="postgres", engine_version=d.postgres_version,
            # postgresVersion is a major version: changing it must upgrade in place (RDS rejects a major
            # upgrade without this flag) rather than fail the `up`.
            allow_major_version_upgrade=True,
            allocated_storage=d.db_allocated_storage_gb, db_name=d.db_name, username=d.db_master_username,
            # Not manage_master_user_password: RDS creates no read replica of a source whose master password it
            # manages (RDS User Guide, "Password management with Amazon RDS and AWS Secrets Manager",
            # Limitations), and both replicas (postgres-replica, the DR region's postgres-dr) would be refused.
            # The stack generates the password once and keeps it in its own secret (_master_secret).
            password=password,
            iam_database_authentication_enabled=True, db_subnet_group_name=subnets.name, multi_az=d.db_multi_az,
            backup_retention_period=d.db_backup_retention_days, backup_window=d.db_backup_window,
            delete_automated_backups=not protect, skip_final_snapshot=not protect,
            final_snapshot_identifier=f"{identifier}-final" if protect else None,
            tags=p.tags(identifier, Engine="postgres"), **common,
            # Later runs draw a new random value: the first one stays (rotate on purpose, docs/runbooks.md).
            opts=p.stateful(self, depends_on=[monitoring_attach, *log_groups], ignore_changes=["password"]))
        self._master_version = aws.secretsmanager.SecretVersion(
            "postgres-master-initial", secret_id=self.db_master_secret.id,
            # secret: the password in it is (secretness propagates through all/apply)
            secret_string=pulumi.Output.all(host=self.db.address, password=password).apply(lambda v: json.dumps({
                "engine": "postgres", "host": v["host"], "port": POSTGRES_PORT, "username": d.db_master_username,
                "password": v["password"], "dbname": d.db_name, "dbInstanceIdentifier": identifier})),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secretString"]))

        self.db_replica = None
        if d.db_read_replica:
            replica_logs = [self._log_group(f"postgres-replica-logs-{log}",
                                            p.namer.service_log_group("/aws/rds/instance", replica_identifier, log))
                            for log in d.db_log_exports]
            # A replica inherits engine, credentials and subnet group from its source; RDS takes no final snapshot
            # of a replica, so its service-level protection is deletion protection. IAM database authentication is
            # an instance setting (the replica's is off unless set): the read-only services connect here as their
            # own IAM users, with a grant naming this instance's DbiResourceId (the pack's
            # rds-replica-iam-auth-matches-source and the flow check hold both).
            self.db_replica = aws.rds.Instance(
                "postgres-replica", identifier=replica_identifier, replicate_source_db=self.db.identifier,
                iam_database_authentication_enabled=True,
                multi_az=False, backup_retention_period=0, skip_final_snapshot=True,
                tags=p.tags(replica_identifier, Engine="postgres", Role="read-replica"), **common,
                opts=p.stateful(self, depends_on=[monitoring_attach, *replica_logs]))


    def _master_secret(self, identifier: str) -> pulumi.Output[str]:
        """The master credential's secret (created before the instance) and the generated password (a secret
        Output). Generated by Secrets Manager (GetRandomPassword) without punctuation: RDS refuses `/`, `"`, `@`
        and spaces in a master password. Readable only by `master_secret_readers` (the database bootstrap)."""
        p, a = self._p, self._args
        name = p.namer.physical("secret", "postgres-master")
        self._master_secret_pattern = p.arn("secretsmanager", f"secret:{name}-??????")
        self.db_master_secret = aws.secretsmanager.Secret(
            "postgres-master", name=name,
            description=f"Master credential of {identifier} (generated once; the database bootstrap reads it)",
            kms_key_id=self._secrets_key, recovery_window_in_days=p.secret_recovery_window_days,
            replicas=[aws.secretsmanager.SecretReplicaArgs(region=a.replica_region, kms_key_id=a.replica_kms_key_arn)]
            if a.replica_region else None,
            tags=p.tags(name, Purpose="db-master"), opts=p.stateful(self))
        readers = list(a.master_secret_readers)
        condition = {"Condition": {"ArnNotEquals": {"aws:PrincipalArn": readers}}} if readers else {}
        aws.secretsmanager.SecretPolicy(
            "postgres-master-policy", secret_arn=self.db_master_secret.arn,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "OnlyTheDatabaseBootstrapReads", "Effect": "Deny", "Principal": "*",
                "Action": "secretsmanager:GetSecretValue", "Resource": "*", **condition}]}),
            opts=self._child)
        return pulumi.Output.secret(aws.secretsmanager.get_random_password_output(
            password_length=40, exclude_punctuation=True, opts=p.invoke_options()).random_password)

    # ------------------------------------------------------------------ Redis
    def _redis(self) -> None:
        p, d, a = self._p, self._d, self._args
        cache = redis_cache(self, p, RedisSpec(
            engine_version=d.redis_engine_version, node_type=d.redis_node_type, nodes=d.redis_nodes,
            multi_az=d.redis_multi_az, snapshot_retention_days=d.redis_snapshot_retention_days,
            snapshot_window=d.redis_snapshot_window, maintenance_window=d.redis_maintenance_window,
            maxmemory_policy=d.redis_maxmemory_policy),
            subnet_ids=a.isolated_subnet_ids, security_group_id=a.data_sg_id, kms_key_arn=a.data_key_arn,
            secrets_key_arn=self._secrets_key, logs_key_arn=a.logs_key_arn)
        self.redis = cache.group
        self._redis_secret = cache.secret
        self._redis_secret_pattern = cache.secret_arn_pattern

    # ------------------------------------------------------------------ DynamoDB
    def _tables(self) -> None:
        p, a = self._p, self._args
        specs: dict[str, TableSettings] = {"synthetic-data": SYNTHETIC_DATA_TABLE, **dict(self._d.tables)}
        self.tables: dict[str, aws.dynamodb.Table] = {}
        for short, spec in specs.items():
            keys = [(spec.partition_key, spec.partition_key_type)]
            if spec.sort_key:
                keys.append((spec.sort_key, spec.sort_key_type))
            indexes = []
            for index_name, index in spec.indexes.items():
                schema = [aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=index.partition_key,
                                                                              key_type="HASH")]
                keys.append((index.partition_key, index.partition_key_type))
                if index.sort_key:
                    schema.append(aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=index.sort_key,
                                                                                      key_type="RANGE"))
                    keys.append((index.sort_key, index.sort_key_type))
                indexes.append(aws.dynamodb.TableGlobalSecondaryIndexArgs(name=index_name, projection_type="ALL",
                                                                          key_schemas=schema))
            attributes = [aws.dynamodb.TableAttributeArgs(name=n, type=t) for n, t in dict(keys).items()]
            table_name = p.namer.physical("dynamodb", short)
            self.tables[short] = aws.dynamodb.Table(
                f"table-{short}", name=table_name, billing_mode="PAY_PER_REQUEST",
                hash_key=spec.partition_key, range_key=spec.sort_key or None, attributes=attributes,
                global_secondary_indexes=indexes or None,
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                stream_enabled=True, stream_view_type="NEW_AND_OLD_IMAGES",
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True,
                                                                                  kms_key_arn=a.data_key_arn),
                ttl=(aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True)
                     if spec.ttl_attribute else None),
                deletion_protection_enabled=p.protect,
                # The DR tier adds cross-region replicas with aws.dynamodb.TableReplica.
                tags=p.tags(table_name), opts=p.stateful(self, ignore_changes=["replicas"]))

    # ------------------------------------------------------------------ DocumentDB
    def _docdb(self) -> None:
        p, d, a = self._p, self._d, self._args
        self.docdb = None
        self.docdb_instances: list[aws.docdb.ClusterInstance] = []
        if not d.docdb_enabled:
            return
        protect = p.protect
        family = DOCDB_FAMILY[d.docdb_engine_version]
        cluster_id = p.namer.physical("docdb", "docdb")
        subnets = aws.docdb.SubnetGroup(
            "docdb-subnets", name=p.namer.physical("db_subnet_group", "docdb"), subnet_ids=a.isolated_subnet_ids,
            description="DocumentDB on the isolated subnets", tags=p.tags(p.namer.base("docdb-subnets")),
            opts=self._child)
        params = aws.docdb.ClusterParameterGroup(
            p.namer.logical("docdb", family.replace(".", "-")), family=family,
            description=f"{p.namer.base()} {family}: TLS enforced, audit and profiler logs",
            parameters=[aws.docdb.ClusterParameterGroupParameterArgs(name="tls", value="enabled",
                                                                     apply_method="pending-reboot"),
                        aws.docdb.ClusterParameterGroupParameterArgs(name="audit_logs", value="enabled"),
                        aws.docdb.ClusterParameterGroupParameterArgs(name="profiler", value="enabled")],
            tags=p.tags(p.namer.base("docdb-params")), opts=self._child)
        logs = [self._log_group(f"docdb-{kind}", p.namer.service_log_group("/aws/docdb", cluster_id, kind)) for kind in ("audit", "profiler")]
        self.docdb = aws.docdb.Cluster(
            "docdb", cluster_identifier=cluster_id, engine="docdb", engine_version=d.docdb_engine_version,
            master_username="docdb_admin", manage_master_user_password=True,
            db_subnet_group_name=subnets.name, db_cluster_parameter_group_name=params.name,
            vpc_security_group_ids=[a.data_sg_id], port=DOCDB_PORT,
            storage_encrypted=True, kms_key_id=a.data_key_arn,
            backup_retention_period=d.docdb_backup_retention_days, preferred_backup_window=d.db_backup_window,
            preferred_maintenance_window=d.db_maintenance_window,
            enabled_cloudwatch_logs_exports=["audit", "profiler"],
            deletion_protection=protect, skip_final_snapshot=not protect,
            final_snapshot_identifier=f"{cluster_id}-final" if protect else None, apply_immediately=not protect,
            tags=p.tags(cluster_id, Engine="docdb"), opts=p.stateful(self, depends_on=logs))
        for i in range(d.docdb_instances):
            self.docdb_instances.append(aws.docdb.ClusterInstance(
                f"docdb-{i + 1}", identifier=p.namer.physical("docdb", "docdb", str(i + 1)),
                cluster_identifier=self.docdb.id, instance_class=d.docdb_instance_class, engine="docdb",
                auto_minor_version_upgrade=True, preferred_maintenance_window=d.db_maintenance_window,
                tags=p.tags(p.namer.base("docdb", str(i + 1))), opts=p.stateful(self)))
