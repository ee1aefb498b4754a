"""DR tier: AWS Backup for every stateful resource, and (when `dr.enabled`, prod by default) a second
region that holds a recent copy of every data store.

Recovery objectives (platform design): RTO 4 h, RPO 1 h. How each store meets the RPO in the DR region:
- S3 data buckets: cross-region replication (with Replication Time Control: 15 min SLA) to replica
  buckets encrypted with a DR-region KMS key.
- PostgreSQL: automated-backup replication (snapshots + transaction logs, point-in-time restore to within
  minutes in the DR region), cheaper than a standing cross-region replica; the restore fits the RTO.
- DynamoDB: a global-table replica (seconds); `dynamodbStrategy: backup-copy` trades it for the daily copy.
- Everything AWS Backup selects: daily recovery points copied to the DR vault (a second line of defence,
  also against deletion: the vaults are locked in prod).
Every DR-region resource is created through the DR provider; only configuration that lives on a
primary-region resource (S3 replication on the source bucket, the ECR registry's replication rule) is not.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi import Input

from .config.dr import DrSettings
from .context import Platform, after, policy_json, publish
from .recipes.alarms import metric_alarm
from .recipes.buckets import LEGACY_ELB_REGIONS, PrivateBucket, private_bucket
from .recipes.keys import key_policy, kms_key
from .recipes.roles import service_role

BACKUP_POLICIES = ("arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
                   "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores")
# Backup region settings. The provider reads back every service type, so all are listed (else a diff on
# every run); DynamoDB and EFS need the "advanced" management for cross-region copies.
BACKUP_OPT_IN = {t: True for t in ("Aurora", "CloudFormation", "DocumentDB", "DynamoDB", "EBS", "EC2", "EFS", "FSx",
                                   "Neptune", "RDS", "Redshift", "S3", "SAP HANA on Amazon EC2", "Storage Gateway",
                                   "Timestream", "VirtualMachine")}
BACKUP_MANAGED = {"DynamoDB": True, "EFS": True}
SITE = "site"   # the replica key of the edge tier's site bucket


def replica_origin(p: Platform, region: str, key: str = SITE) -> pulumi.Output[str]:
    """A replica bucket's regional domain name, from the explicit name private_bucket gives it: CloudFront's
    secondary origin is declared by the edge tier, before this tier (which needs the distribution's ARN for
    the replica's policy) creates the bucket."""
    return p.account_id.apply(lambda a: f"{p.namer.physical('s3_bucket', f'dr-{key}', a, region)}.s3.{region}.amazonaws.com")


def oac_read(bucket_arn: Input[str], distribution_arn: Input[str]) -> dict:
    """CloudFront (Origin Access Control) may read the objects, for one distribution only."""
    return {"Sid": "CloudFrontOacRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject", "Resource": pulumi.Output.concat(bucket_arn, "/*"),
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}}


@dataclasses.dataclass(frozen=True)
class DrTierArgs:
    platform: Platform
    settings: DrSettings
    # The DR region's Platform (its provider: components/platform.py builds it once for every DR-region tier);
    # required when settings.enabled.
    dr_platform: Platform | None = None
    # Source buckets by key: their ids (bucket.id: each replication configuration depends on its bucket) and ARNs.
    bucket_ids: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    bucket_arns: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    # Each source bucket's versioning configuration id: S3 rejects a replication configuration until the source's
    # versioning is Enabled ("Versioning must be 'Enabled' on the bucket"), so each configuration waits for it.
    bucket_versioning_ids: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    db_instance_arn: Input[str] | None = None
    table_arns: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)
    docdb_cluster_arn: Input[str] | None = None
    # pilot-light/warm-standby: the primary's DB host, kept in the primary region's db-endpoint parameter (the
    # failback procedure writes the re-created primary's address there; components/dr_region.py has the DR one).
    db_address: Input[str] | None = None
    # The edge tier's site bucket (SSE-S3) and its distribution: replicated like the data buckets, to an SSE-S3
    # replica whose policy lets that distribution read it through OAC (CloudFront's secondary origin).
    site_bucket_id: Input[str] | None = None
    site_bucket_arn: Input[str] | None = None
    site_versioning_id: Input[str] | None = None
    site_distribution_arn: Input[str] | None = None
    # The ML tier's ECR lifecycle policy: the DR region's replicas get it through a repository creation template.
    ecr_lifecycle_policy: str | None = None
    # Days the data buckets keep noncurrent versions (data.lifecycleNoncurrentExpireDays): the DR copies keep them
    # as long (issue 26: a copy that forgets sooner than its source is no second line for an overwrite).
    noncurrent_version_days: int = 30
    # The data buckets' key (the security tier's data key): the reverse rules (DR -> primary, standing modes)
    # re-encrypt what they bring back under it.
    bucket_kms_key_arn: Input[str] | None = None
    # The primary region's alerts topic: the replication alarms whose metric lives in the primary region.
    alerts_topic_arn: Input[str] | None = None
    # Tables' names (DynamoDB ReplicationLatency is dimensioned by TableName and ReceivingRegion).
    table_names: Mapping[str, Input[str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class DrOutputs:
    dr_region: str | None
    dr_key_arn: pulumi.Output[str] | None
    dr_access_log_bucket_name: pulumi.Output[str] | None   # SSE-S3, DR region: replica and DR ALB access logs
    backup_vault_name: pulumi.Output[str] | None
    dr_backup_vault_arn: pulumi.Output[str] | None
    replica_bucket_names: Mapping[str, pulumi.Output[str]]
    # Every S3 replication rule the stack builds, both directions (primary -> DR always with dr.enabled; DR ->
    # primary in the standing modes): {key, ruleId, source, destination (bucket names), sourceRegion,
    # destinationRegion, rtcMinutes}. replication_alarms() alarms each in the region its metrics live in.
    replication_rules: Sequence[Mapping[str, Any]] = ()
    # DynamoDB tables with a DR-region replica (global tables: multi-active, both directions): their names.
    replicated_tables: Mapping[str, pulumi.Output[str]] = dataclasses.field(default_factory=dict)
    reverse_replication_role_arn: pulumi.Output[str] | None = None   # DR -> primary (standing modes)


class DrTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: DrTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:Dr", name, None, p.tier_options(opts))
        self._platform = p
        self._settings = d = args.settings
        baseline = p.account_baseline
        child = pulumi.ResourceOptions(parent=self)
        account = p.account_id
        # Administered by the account: services use the keys through the IAM permissions of their caller/role.
        root_only = account.apply(key_policy)

        self.provider: pulumi.ProviderResource | None = None
        self.dr_key: aws.kms.Key | None = None
        self.dr_vault: aws.backup.Vault | None = None
        self.replica_buckets: dict[str, aws.s3.Bucket] = {}
        self.dr_logs: PrivateBucket | None = None
        self.replication_rules: list[dict] = []
        self.reverse_role_arn: pulumi.Output[str] | None = None
        self.table_replicas: dict[str, aws.dynamodb.TableReplica] = {}
        if d.enabled:
            if args.dr_platform is None or args.dr_platform.provider is None:
                raise ValueError("DrTierArgs.dr_platform (with the DR region's provider) is required when dr.enabled")
            self.provider = args.dr_platform.provider
            dr_opts = pulumi.ResourceOptions(parent=self, provider=self.provider)
            dr_stateful = pulumi.ResourceOptions.merge(p.stateful(self), pulumi.ResourceOptions(provider=self.provider))

            self.dr_key = kms_key(
                self, p, "dr-key", purpose="dr", alias="dr", policy=root_only,
                description=f"{p.namer.base()} DR-region encryption key (replicas, backups)",
                opts=pulumi.ResourceOptions(provider=self.provider))

            # --- S3 cross-region replication of the data buckets (and the site's bundle) ---
            if args.bucket_arns or args.site_bucket_arn is not None:
                self._replicate_buckets(p, args, dr_opts, dr_stateful, child)

            # --- PostgreSQL: automated backups (PITR) replicated to the DR region ---
            self.rds_backup_replication = None
            if args.db_instance_arn is not None:
                # RDS replicates automated backups only: config checks that the source keeps some (components/config).
                self.rds_backup_replication = aws.rds.InstanceAutomatedBackupsReplication(
                    "rds-backups-dr", source_db_instance_arn=args.db_instance_arn, kms_key_id=self.dr_key.arn,
                    retention_period=d.rds_backup_retention_days, opts=dr_opts)

            # --- DynamoDB: global-table replicas (multi-active: a write in either region replicates to the other,
            # so what the DR services write during an outage is in the primary's table when it is back) ---
            if d.dynamodb_strategy == "replica":
                for key, arn in sorted(args.table_arns.items()):
                    self.table_replicas[key] = aws.dynamodb.TableReplica(
                        f"dynamodb-{key}-dr", global_table_arn=arn, kms_key_arn=self.dr_key.arn,
                        point_in_time_recovery=True, deletion_protection_enabled=p.protect,
                        tags=p.tags(p.namer.base(key, "dr")), opts=dr_stateful)

            if d.backup:
                self.dr_vault = aws.backup.Vault(
                    "dr-backup-vault", name=p.namer.physical("backup", "dr-vault"), kms_key_arn=self.dr_key.arn,
                    force_destroy=not p.protect, tags=p.tags(p.namer.physical("backup", "dr-vault")),
                    opts=dr_stateful)
                self._lock("dr-backup-vault-lock", self.dr_vault, d.backup_copy_retention_days, dr_opts)

            # --- ECR: registry-wide replication rule (account singleton) ---
            if baseline:
                aws.ecr.ReplicationConfiguration(
                    "ecr-replication",
                    replication_configuration=aws.ecr.ReplicationConfigurationReplicationConfigurationArgs(rules=[
                        aws.ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                            destinations=[aws.ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(
                                region=d.region, registry_id=account)],
                            repository_filters=[aws.ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                                # This stack's repositories only ({project}/{stack}/...): never dev's images.
                                filter=p.namer.physical("ecr", "") + "/", filter_type="PREFIX_MATCH")])]),
                    opts=child)
                # Replication creates the DR region's repositories itself, with no lifecycle policy: images would
                # pile up there forever. A creation template (in the DR region, for REPLICATION) gives every replica
                # of this stack's repositories the primary's lifecycle policy.
                if args.ecr_lifecycle_policy:
                    aws.ecr.RepositoryCreationTemplate(
                        "ecr-dr-replica-template", prefix=p.namer.physical("ecr", "").rstrip("/"),
                        applied_fors=["REPLICATION"], lifecycle_policy=args.ecr_lifecycle_policy,
                        description="DR replicas of this stack's repositories: the primary's lifecycle policy",
                        opts=dr_opts)

            if d.standby and args.db_address is not None:
                aws.ssm.Parameter("db-endpoint", name=p.namer.physical("ssm_parameter", "db-endpoint"), type="String",
                                  value=args.db_address, tags=p.tags(p.namer.base("db-endpoint")),
                                  description="PostgreSQL host of the primary region (dr_failover failback)",
                                  opts=child)

        # --- AWS Backup (every environment) ---
        self.vault: aws.backup.Vault | None = None
        self.plan: aws.backup.Plan | None = None
        self.selections: dict[str, aws.backup.Selection] = {}
        if d.backup:
            self._backup(p, args, child, root_only, baseline)

        self.outputs = DrOutputs(
            dr_region=d.region if d.enabled else None, dr_key_arn=self.dr_key.arn if self.dr_key else None,
            dr_access_log_bucket_name=self.dr_logs.bucket.bucket if self.dr_logs else None,
            backup_vault_name=self.vault.name if self.vault else None,
            dr_backup_vault_arn=self.dr_vault.arn if self.dr_vault else None,
            replica_bucket_names={k: b.bucket for k, b in self.replica_buckets.items()},
            replication_rules=self.replication_rules,
            replicated_tables={k: pulumi.Output.from_input(args.table_names[k]) for k in sorted(self.table_replicas)
                               if k in args.table_names},
            reverse_replication_role_arn=self.reverse_role_arn)
        if d.enabled and args.alerts_topic_arn is not None:
            # The replication alarms whose metrics live in the primary region (the DR region's: build_dr_region).
            replication_alarms(self, p, rules=self.replication_rules, tables=self.outputs.replicated_tables,
                               other_region=d.region, topic=args.alerts_topic_arn)
        publish(self, self.outputs)

    def _lock(self, logical: str, vault: aws.backup.Vault, retention: int, opts: pulumi.ResourceOptions) -> None:
        d = self._settings
        if not d.vault_lock:
            return
        aws.backup.VaultLockConfiguration(
            logical, backup_vault_name=vault.name, min_retention_days=min(7, retention),
            max_retention_days=d.vault_lock_max_retention_days,
            # Omitted = governance mode (removable with backup:DeleteBackupVaultLockConfiguration);
            # set = compliance mode, immutable once the cooling-off days have passed.
            changeable_for_days=d.vault_lock_cooling_off_days if d.vault_lock_mode == "compliance" else None,
            opts=opts)

    def _rule(self, rule_id: str, destination_arn: Input[str], replica_key_arn: Input[str] | None,
              ) -> aws.s3.BucketReplicationConfigRuleArgs:
        """One replication rule, the same in both directions: everything (prefix ""), delete markers replicated,
        replica modification sync on (two-way replication: metadata changes made to a replica flow back; S3 User
        Guide, 'Replicating metadata changes with replica modification sync'), RTC and its metrics when
        `dr.s3ReplicationTimeControl`. `replica_key_arn` None: SSE-S3 objects (the site), replicated as they are
        (S3 rejects a KMS selection criterion without a replica key)."""
        d = self._settings
        kms = replica_key_arn is not None
        return aws.s3.BucketReplicationConfigRuleArgs(
            id=rule_id, status="Enabled", priority=1,
            filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
            delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
            source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                replica_modifications=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(
                    status="Enabled"),
                sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                    status="Enabled") if kms else None),
            destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                bucket=destination_arn, storage_class="STANDARD",
                encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                    replica_kms_key_id=replica_key_arn) if replica_key_arn is not None else None,
                replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                    status="Enabled", time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(minutes=15))
                if d.s3_replication_time_control else None,
                # Replication metrics always (OperationsFailedReplication, ReplicationLatency: the alarms read them);
                # the event threshold is RTC's 15 minutes.
                metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                    status="Enabled", event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(minutes=15)
                    if d.s3_replication_time_control else None)))

    def _replicate_buckets(self, p, args: DrTierArgs, dr_opts, dr_stateful, child) -> None:
        d, dr_key = self._settings, self.dr_key
        assert dr_key is not None, "bucket replication runs only with dr.enabled (after the DR key)"
        site_distribution_arn = args.site_distribution_arn
        role_name = p.namer.physical("iam_role", "s3-replication")
        buckets = dict(args.bucket_arns)
        ids, versioning_ids = dict(args.bucket_ids), dict(args.bucket_versioning_ids)
        if args.site_bucket_arn is not None:
            buckets[SITE] = args.site_bucket_arn
            if args.site_bucket_id is not None:
                ids[SITE] = args.site_bucket_id
            if args.site_versioning_id is not None:
                versioning_ids[SITE] = args.site_versioning_id
        sources = [arn for _, arn in sorted(buckets.items())]
        # Two-way in the standing modes (pilot-light, warm-standby): the DR services write to the replicas during
        # an outage, and each replica replicates back to its source, so what was written there is in the primary
        # bucket at failback (the forward rule does not re-replicate a replica; replica modification sync keeps
        # metadata in step both ways). backup-restore has no DR writer until the region is stood up (a standing
        # mode), which adds the reverse rules.
        two_way = d.standby
        if two_way and any(k != SITE for k in buckets) and args.bucket_kms_key_arn is None:
            raise ValueError("DrTierArgs.bucket_kms_key_arn (the data buckets' key) is required for the reverse "
                             "replication of the standing DR modes")
        replicas = []
        configs = []
        reverse = []
        rules: list[dict] = []
        # Server access logs of the replicas: the destination must be in the same region and use SSE-S3.
        # Protected like every other prod store (access logs are evidence; force_destroy is off in prod).
        logs = self.dr_logs = private_bucket(
            self, p, "dr-access-logs", kms_key_arn=None, opts=dr_opts, region=d.region, bucket_opts=p.stateful(self),
            tags=p.tags(p.namer.base("dr", "access-logs"), Purpose="access-logs"),
            extra_statements=lambda arn: [{
                "Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject", "Resource": pulumi.Output.concat(arn, "/*"),
                "Condition": {"StringEquals": {"aws:SourceAccount": p.account_id}}},
                *(self._elb_delivery(arn) if d.standby else [])],
            lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=p.settings.audit_log_retention_days),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=7))])
        rtc = 15 if d.s3_replication_time_control else None
        for key in sorted(buckets):
            # The site's replica: SSE-S3 like its source (CloudFront reads it through OAC without a KMS grant),
            # readable by the one distribution that has it as its secondary origin.
            site = key == SITE
            replica = private_bucket(
                self, p, f"dr-{key}", kms_key_arn=None if site else dr_key.arn, opts=dr_opts, region=d.region,
                bucket_opts=p.stateful(self), access_log_bucket=logs.bucket.id,
                lifecycle_rules=None if site else [aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="noncurrent-versions", status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_version_days),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7))],
                tags=p.tags(p.namer.base("dr", key), ReplicaOf=key, Purpose="dr-replica"),
                extra_statements=(lambda arn: [oac_read(arn, site_distribution_arn)])
                if site and site_distribution_arn is not None else None)
            self.replica_buckets[key] = replica.bucket
            replicas.append(replica.arn)
            # The source's name from its (explicit, known in a preview) ARN: the alarms' dimensions; its id (when
            # given) carries the dependency on the bucket for the configuration.
            known_name = pulumi.Output.from_input(buckets[key]).apply(lambda a: a.split(":::")[-1])
            source_name = ids.get(key, known_name)
            # the replica's ARN from its explicit name (known in a preview); the configuration waits for the replica
            # itself through its versioning and policy (depends_on below)
            rule = self._rule("dr-region", replica.arn, None if site else dr_key.arn)
            # On the SOURCE bucket, hence the primary-region provider. Versioning must be Enabled on both sides.
            source_versioning = after(versioning_ids[key]) if key in versioning_ids else []
            replica_ready = [r for r in (replica.versioning, replica.policy) if r is not None]
            configs.append((f"replication-{key}", source_name, rule, replica_ready + source_versioning))
            rules.append({"key": key, "ruleId": "dr-region", "source": known_name,
                          "destination": replica.bucket.bucket, "sourceRegion": p.region,
                          "destinationRegion": d.region, "rtcMinutes": rtc})
            if two_way:
                back = self._rule("to-primary", buckets[key], None if site else args.bucket_kms_key_arn)
                reverse.append((f"replication-{key}-back", replica.bucket.id, back, replica_ready + source_versioning))
                rules.append({"key": key, "ruleId": "to-primary", "source": replica.bucket.bucket,
                              "destination": known_name, "sourceRegion": d.region,
                              "destinationRegion": p.region, "rtcMinutes": rtc})
        self.replication_rules = rules
        forward = self._replication_role(
            "s3-replication-role", "s3-replication-policy", role_name, sources, replicas,
            encrypt_region=d.region, decrypt_region=p.region, description="S3 cross-region replication to the DR region")
        # After the role's permissions exist: replication starts with the first object written after this.
        for logical, source_name, rule, ready in configs:
            aws.s3.BucketReplicationConfig(
                logical, bucket=source_name, role=forward.role.arn, rules=[rule],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*ready, forward.policies["s3-replication-policy"]]))
        self.reverse_role_arn = None
        if reverse:
            # Its own role, built in the DR region (IAM is global; the DR provider keeps every DR-side resource on
            # one provider): it reads the replicas and writes only into the primary buckets.
            back_role = self._replication_role(
                "s3-replication-back-role", "s3-replication-back-policy", p.namer.physical("iam_role", "s3-replication-back"),
                replicas, sources, encrypt_region=p.region, decrypt_region=d.region,
                description="S3 replication back from the DR region to the primary buckets (two-way)",
                opts=pulumi.ResourceOptions(provider=self.provider))
            self.reverse_role_arn = back_role.role.arn
            for logical, bucket_id, rule, ready in reverse:
                aws.s3.BucketReplicationConfig(
                    logical, bucket=bucket_id, role=back_role.role.arn, rules=[rule],
                    opts=pulumi.ResourceOptions(parent=self, provider=self.provider,
                                                depends_on=[*ready, back_role.policies["s3-replication-back-policy"]]))

    def _replication_role(self, logical: str, policy_key: str, name: str, sources: list, destinations: list, *,
                          encrypt_region: str, decrypt_region: str, description: str,
                          opts: pulumi.ResourceOptions | None = None):
        """The grants S3 replication needs (S3 User Guide, 'Setting up permissions for live replication'): read
        the sources' configuration and versions, replicate into the destinations, decrypt in the source region's
        S3 and encrypt in the destination region's."""
        p = self._platform
        statements: list[dict] = [
            {"Sid": "ReadSourceConfiguration", "Effect": "Allow",
             "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": sources},
            {"Sid": "ReadSourceVersions", "Effect": "Allow",
             "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
             "Resource": [pulumi.Output.concat(a, "/*") for a in sources]},
            {"Sid": "WriteReplicas", "Effect": "Allow",
             "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
             "Resource": [pulumi.Output.concat(a, "/*") for a in destinations]},
            # Key ARNs are unknown until created: scope by the S3 endpoint of each region instead, so the
            # policy is checkable in a preview (the role can only reach the buckets above anyway).
            {"Sid": "EncryptReplicas", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
             "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": f"s3.{encrypt_region}.amazonaws.com"}}},
            {"Sid": "DecryptSources", "Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": f"s3.{decrypt_region}.amazonaws.com"}}},
        ]
        return service_role(self, p, logical, service="s3.amazonaws.com", name=name, tag_name=name,
                            description=description, inline={policy_key: policy_json(*statements)},
                            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(provider=self.provider), opts))

    def _elb_delivery(self, arn: pulumi.Output) -> list[dict]:
        """The DR load balancer's access logs (pilot-light/warm-standby): ELB writes <bucket>/<prefix>/AWSLogs/<acct>/.
        In the regions launched before August 2022 (the usual DR regions) it writes as the regional ELB account;
        newer regions use the log-delivery service principal."""
        d, p = self._settings, self._platform
        objects = pulumi.Output.all(arn, p.account_id).apply(lambda v: [f"{v[0]}/*/AWSLogs/{v[1]}/*"])
        if d.region in LEGACY_ELB_REGIONS:
            elb = aws.elb.get_service_account_output(region=d.region, opts=pulumi.InvokeOptions(provider=self.provider))
            principal: dict = {"AWS": elb.arn}
        else:
            principal = {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
        return [{"Sid": "AlbAccessLogs", "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
                 "Resource": objects}]

    def _backup(self, p, args: DrTierArgs, child, root_only, baseline: bool) -> None:
        d = self._settings
        key = kms_key(self, p, "backup-key", purpose="backup", alias="backup", policy=root_only,
                      description=f"{p.namer.base()} AWS Backup vault key")
        vault_name = p.namer.physical("backup", "vault")
        vault = self.vault = aws.backup.Vault("backup-vault", name=vault_name, kms_key_arn=key.arn,
                                              force_destroy=not p.protect, tags=p.tags(vault_name), opts=p.stateful(self))
        self._lock("backup-vault-lock", vault, d.backup_retention_days, child)

        role_name = p.namer.physical("iam_role", "backup")
        backup = service_role(self, p, "backup-role", service="backup.amazonaws.com", name=role_name,
                              tag_name=role_name, description="AWS Backup jobs and restores",
                              managed={f"backup-managed-{i}": arn for i, arn in enumerate(BACKUP_POLICIES)})
        role, attachments = backup.role, list(backup.attachments)

        copies = None
        if self.dr_vault is not None:
            copies = [aws.backup.PlanRuleCopyActionArgs(
                destination_vault_arn=self.dr_vault.arn,
                lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=d.backup_copy_retention_days))]
        plan_name = p.namer.physical("backup", "daily")
        plan = self.plan = aws.backup.Plan(
            "backup-plan", name=plan_name,
            rules=[aws.backup.PlanRuleArgs(
                rule_name="daily", target_vault_name=vault.name, schedule=d.backup_schedule,
                start_window=60, completion_window=360,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=d.backup_retention_days),
                copy_actions=copies, recovery_point_tags=p.tags())],
            tags=p.tags(plan_name), opts=child)

        sel_opts = pulumi.ResourceOptions(parent=self, depends_on=attachments)
        arns = [a for a in [args.db_instance_arn, args.docdb_cluster_arn] if a is not None]
        arns += [a for _, a in sorted(args.table_arns.items())]
        if arns:
            self.selections["stateful"] = aws.backup.Selection(
                "backup-stateful", name=p.namer.physical("backup", "stateful"), plan_id=plan.id,
                iam_role_arn=role.arn, resources=arns, opts=sel_opts)
        # Opt-in for anything else a tier tags Backup=true (EFS, volumes...).
        self.selections["tagged"] = aws.backup.Selection(
            "backup-tagged", name=p.namer.physical("backup", "tagged"), plan_id=plan.id, iam_role_arn=role.arn,
            selection_tags=[aws.backup.SelectionSelectionTagArgs(type="STRINGEQUALS", key=d.tag_selection_key,
                                                                 value="true")],
            opts=sel_opts)
        if baseline:
            aws.backup.RegionSettings("backup-region-settings", resource_type_opt_in_preference=BACKUP_OPT_IN,
                                      resource_type_management_preference=BACKUP_MANAGED, opts=child)


# S3 replication metrics (S3 User Guide, 'Using S3 Replication metrics',
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html, and 'Metrics and dimensions',
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html): namespace AWS/S3, dimensions
# SourceBucket, DestinationBucket, RuleId. OperationsFailedReplication is published in the Region of the SOURCE
# bucket and only when an operation fails; ReplicationLatency (seconds) in the Region of the DESTINATION bucket.
# DynamoDB (Developer Guide, 'Monitoring global tables', .../amazondynamodb/latest/developerguide/
# V2globaltables_monitoring.html; 'DynamoDB Metrics and dimensions'): AWS/DynamoDB ReplicationLatency
# (milliseconds), dimensions TableName and ReceivingRegion, emitted in the region the write was made in, for each
# source/destination pair, only while items are written.
S3_NAMESPACE, DYNAMODB_NAMESPACE = "AWS/S3", "AWS/DynamoDB"
DYNAMODB_LATENCY_MS = 60_000     # a minute behind for 5 minutes pages (typical: about a second)


def replication_alarms(parent: pulumi.Resource, p: Platform, *, rules: Sequence[Mapping[str, Any]],
                       tables: Mapping[str, Input[str]], other_region: str, topic: Input[str]) -> None:
    """The replication alarms whose metric is published in `p.region`, to that region's alerts topic (an alarm
    notifies a topic of its own region): S3 failures of the rules whose source is here, S3 latency of the rules
    whose destination is here (above the RTC threshold), DynamoDB latency of the writes made here towards
    `other_region`. Missing data is not breaching for all of them: none is emitted while nothing replicates
    (a failure count exists only when an operation failed; DynamoDB's latency only while items are written), and
    a stall shows as a growing latency value, not as a gap: so each alarm returns to OK when its direction is quiet
    (e.g. the reverse rules while the primary serves, the forward ones while the primary region is lost)."""
    here = p.region
    for rule in rules:
        dims = {"SourceBucket": rule["source"], "DestinationBucket": rule["destination"], "RuleId": rule["ruleId"]}
        way = f"{rule['sourceRegion']} -> {rule['destinationRegion']}"
        tag = f"{rule['key']}-{rule['ruleId']}"
        if rule["sourceRegion"] == here:
            metric_alarm(parent, p, f"s3-replication-failed-{tag}", f"s3-repl-failed-{tag}", namespace=S3_NAMESPACE,
                         metric="OperationsFailedReplication", dimensions=dims, op=">", threshold=0.0,
                         statistic="Sum", period=300, actions=[topic], missing="notBreaching", severity="critical",
                         description=f"S3 replication of {rule['key']} ({way}, rule {rule['ruleId']}) failed "
                                     "operations: the copy in the other region is missing them")
        if rule["destinationRegion"] == here:
            limit = float((rule.get("rtcMinutes") or 15) * 60)
            metric_alarm(parent, p, f"s3-replication-latency-{tag}", f"s3-repl-latency-{tag}", namespace=S3_NAMESPACE,
                         metric="ReplicationLatency", dimensions=dims, op=">", threshold=limit, statistic="Maximum",
                         period=60, periods=5, actions=[topic], missing="notBreaching", severity="critical",
                         description=f"S3 replication of {rule['key']} ({way}) more than {limit / 60:.0f} min behind "
                                     "(the RTC threshold: the RPO is broken)")
    for key, table in sorted(tables.items()):
        name = pulumi.Output.from_input(table)
        metric_alarm(parent, p, f"dynamodb-replication-latency-{key}", f"dynamodb-repl-latency-{key}",
                     namespace=DYNAMODB_NAMESPACE, metric="ReplicationLatency",
                     dimensions={"TableName": name, "ReceivingRegion": other_region}, op=">",
                     threshold=float(DYNAMODB_LATENCY_MS), statistic="Maximum", period=60, periods=5, actions=[topic],
                     missing="notBreaching", severity="critical",
                     description=f"DynamoDB global-table replication from {here} to {other_region} more than "
                                 f"{DYNAMODB_LATENCY_MS // 1000} s behind")
