"""Governance tier: the audit trail, AWS Config, GuardDuty, the password policy and the cost guardrails.

CloudTrail (one multi-region trail), the Config recorder (one per region per account), the GuardDuty
detector (one per region), the password policy and cost-allocation tags (one per account) are account
singletons: several stacks may share an account, so they are built only by the stack whose
`observability.accountBaseline` is true (prod by default). The budget is per stack and always built.

The trail is encrypted with a dedicated audit KMS key owned here, whose key policy grants CloudTrail
exactly what it needs (scoped to this trail by aws:SourceArn), so the security tier's keys need no
CloudTrail grant and audit data is not readable by whoever can read the data key.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Optional

import pulumi
import pulumi_aws as aws

from .buckets import private_bucket
from .context import Platform, assume_role_policy, policy_json
from .observability import encrypted_log_group

Input = pulumi.Input
CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"


@dataclasses.dataclass(frozen=True)
class GovernanceTierArgs:
    platform: Platform
    logs_key_arn: Input[str]
    alerts_topic_arn: Optional[Input[str]] = None
    access_log_bucket_name: Optional[Input[str]] = None


def audit_key_policy(account: str, region: str, trail_arn: str) -> str:
    trail_context = f"arn:aws:cloudtrail:*:{account}:trail/*"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministersKey", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudTrailEncryptsLogs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn},
                       "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_context}}},
        {"Sid": "CloudTrailDescribesKey", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
        # The audit bucket uses an S3 Bucket Key with this key: CloudTrail then needs kms:Decrypt to create or
        # update an SSE-KMS trail (CloudTrail User Guide, "Granting decrypt permissions"; the documented
        # statement has no condition, and CreateTrail fails with InsufficientEncryptionPolicyException without it).
        {"Sid": "CloudTrailDecryptsForBucketKey", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"},
    ]})


class GovernanceTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: GovernanceTierArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ai-platform:tier:Governance", name, None, opts)
        p = args.platform
        o = p.settings.observability
        child = pulumi.ResourceOptions(parent=self)
        account = p.account_id()

        # --- cost guardrail (per stack) ---
        tag_value = {"CostCenter": p.settings.platform.cost_center, "Environment": p.settings.platform.environment,
                     "Project": p.settings.project}[o.budget_filter_tag]
        topics = [args.alerts_topic_arn] if args.alerts_topic_arn is not None else []
        emails = list(o.budget_emails)
        notifications = []
        if topics or emails:
            for kind, percent in (("ACTUAL", o.budget_actual_percent), ("FORECASTED", o.budget_forecast_percent)):
                notifications.append(aws.budgets.BudgetNotificationArgs(
                    comparison_operator="GREATER_THAN", notification_type=kind, threshold=percent,
                    threshold_type="PERCENTAGE", subscriber_sns_topic_arns=topics or None,
                    subscriber_email_addresses=emails or None))
        self.budget = aws.budgets.Budget(
            "budget", name=p.namer.physical("budget", "monthly"), budget_type="COST",
            limit_amount=f"{o.budget_limit_usd:.1f}", limit_unit="USD", time_unit="MONTHLY",
            # Legacy filter syntax "user:<key>$<value>" (cost-allocation tag, must be activated).
            cost_filters=[aws.budgets.BudgetCostFilterArgs(name="TagKeyValue",
                                                          values=[f"user:{o.budget_filter_tag}${tag_value}"])],
            notifications=notifications or None,
            tags=p.tags(p.namer.base("budget")), opts=child)

        self.trail = None
        self.audit_bucket = None
        self.audit_key = None
        self.recorder = None
        self.detector = None
        if not o.account_baseline:
            self.register_outputs({"budgetName": self.budget.name})
            return

        # --- audit key and bucket ---
        trail_name = p.namer.physical("cloudtrail", "audit")
        trail_arn = account.apply(lambda acct: f"arn:aws:cloudtrail:{p.region}:{acct}:trail/{trail_name}")
        self.audit_key = aws.kms.Key(
            "audit-key", description=f"{p.namer.base()} audit (CloudTrail, Config) encryption key",
            enable_key_rotation=True, rotation_period_in_days=365,
            deletion_window_in_days=p.settings.security.kms_deletion_window_days,
            policy=pulumi.Output.all(account, trail_arn).apply(lambda v: audit_key_policy(v[0], p.region, v[1])),
            tags=p.tags(p.namer.base("audit"), Purpose="audit"), opts=p.stateful(self))
        aws.kms.Alias("audit-key-alias", name=f"alias/{p.namer.physical('kms_alias', 'audit')}",
                      target_key_id=self.audit_key.key_id, opts=child)

        def bucket_statements(bucket_arn: pulumi.Output[str]) -> list[dict]:
            return [
                {"Sid": "CloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:GetBucketAcl", "Resource": bucket_arn,
                 "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
                {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:PutObject",
                 "Resource": pulumi.Output.all(bucket_arn, account).apply(lambda v: f"{v[0]}/cloudtrail/AWSLogs/{v[1]}/*"),
                 "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}}},
                {"Sid": "ConfigAclCheck", "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
                 "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": bucket_arn,
                 "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
                {"Sid": "ConfigWrite", "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
                 "Action": "s3:PutObject",
                 "Resource": pulumi.Output.all(bucket_arn, account).apply(lambda v: f"{v[0]}/config/AWSLogs/{v[1]}/Config/*"),
                 "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                                "aws:SourceAccount": account}}},
            ]

        audit = private_bucket(
            self, p, "audit", kms_key_arn=self.audit_key.arn, bucket_opts=p.stateful(self),
            extra_statements=bucket_statements, access_log_bucket=args.access_log_bucket_name,
            lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="audit-retention", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=o.audit_bucket_glacier_after_days, storage_class="GLACIER_IR")],
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=o.audit_bucket_retention_days),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=30),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7))],
            tags=p.tags(p.namer.base("audit"), Purpose="audit"))
        self.audit_bucket = bucket = audit.bucket
        bucket_arn = audit.arn

        # --- CloudTrail: S3 (durable, validated) and CloudWatch Logs (queryable, alarmable) ---
        trail_log_name = p.namer.log_group("cloudtrail")
        trail_logs = encrypted_log_group(self, p, "cloudtrail-logs", trail_log_name, args.logs_key_arn, audit=True)
        trail_role = aws.iam.Role(
            "cloudtrail-logs-role", description="CloudTrail delivery to its CloudWatch Logs group",
            assume_role_policy=assume_role_policy("cloudtrail.amazonaws.com", account),
            tags=p.tags(p.namer.base("cloudtrail-logs")), opts=child)
        trail_policy = aws.iam.RolePolicy(
            "cloudtrail-logs-delivery", role=trail_role.id,
            policy=policy_json({"Sid": "DeliverTrail", "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": account.apply(lambda a: [
                                    f"arn:aws:logs:{p.region}:{a}:log-group:{trail_log_name}:log-stream:*"])}),
            opts=child)
        selectors = None
        if o.trail_data_events:
            sel = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs
            selectors = [
                aws.cloudtrail.TrailAdvancedEventSelectorArgs(
                    name="Management events", field_selectors=[sel(field="eventCategory", equals=["Management"])]),
                aws.cloudtrail.TrailAdvancedEventSelectorArgs(
                    name="S3 object events", field_selectors=[sel(field="eventCategory", equals=["Data"]),
                                                              sel(field="resources.type", equals=["AWS::S3::Object"])])]
        self.trail = aws.cloudtrail.Trail(
            "trail", name=trail_name, s3_bucket_name=bucket.id, s3_key_prefix="cloudtrail",
            is_multi_region_trail=True, include_global_service_events=True, enable_log_file_validation=True,
            enable_logging=True, kms_key_id=self.audit_key.arn,
            cloud_watch_logs_group_arn=pulumi.Output.concat(trail_logs.arn, ":*"),
            cloud_watch_logs_role_arn=trail_role.arn, advanced_event_selectors=selectors,
            tags=p.tags(trail_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[audit.policy, trail_policy]))

        # --- AWS Config ---
        config_role = aws.iam.Role(
            "config-role", description="AWS Config recorder and delivery channel",
            assume_role_policy=assume_role_policy("config.amazonaws.com", account),
            tags=p.tags(p.namer.base("config")), opts=child)
        aws.iam.RolePolicyAttachment("config-managed", role=config_role.name, policy_arn=CONFIG_ROLE_POLICY,
                                     opts=child)
        config_delivery = aws.iam.RolePolicy(
            "config-delivery", role=config_role.id,
            policy=policy_json(
                {"Sid": "DeliverToAuditBucket", "Effect": "Allow", "Action": ["s3:PutObject"],
                 "Resource": pulumi.Output.all(bucket_arn, account).apply(lambda v: f"{v[0]}/config/AWSLogs/{v[1]}/*")},
                {"Sid": "CheckAuditBucket", "Effect": "Allow", "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                 "Resource": bucket_arn},
                # The audit key's ARN is unknown until created; S3 is the only path this role encrypts through.
                {"Sid": "EncryptThroughS3", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                 "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": f"s3.{p.region}.amazonaws.com"}}}),
            opts=child)
        recorder_name = p.namer.base()
        self.recorder = aws.cfg.Recorder(
            "config-recorder", name=recorder_name, role_arn=config_role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(all_supported=True, include_global_resource_types=True),
            opts=child)
        channel = aws.cfg.DeliveryChannel(
            "config-delivery-channel", name=recorder_name, s3_bucket_name=bucket.id, s3_key_prefix="config",
            s3_kms_key_arn=self.audit_key.arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency="TwentyFour_Hours"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.recorder, audit.policy, config_delivery]))
        aws.cfg.RecorderStatus("config-recorder-status", name=self.recorder.name, is_enabled=True,
                               opts=pulumi.ResourceOptions(parent=self, depends_on=[channel]))
        rule_opts = pulumi.ResourceOptions(parent=self, depends_on=[self.recorder])
        self.config_rules = {}
        for rule_id in o.config_rules:
            rule_name = p.namer.base(rule_id.lower().replace("_", "-"))[:128]
            self.config_rules[rule_id] = aws.cfg.Rule(
                f"config-rule-{rule_id.lower().replace('_', '-')}", name=rule_name,
                source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier=rule_id),
                tags=p.tags(rule_name), opts=rule_opts)
        required = ["Project", "Environment", "ManagedBy", "Owner", "CostCenter"]
        aws.cfg.Rule("config-rule-required-tags", name=p.namer.base("required-tags"),
                     source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier="REQUIRED_TAGS"),
                     input_parameters=json.dumps({f"tag{i + 1}Key": k for i, k in enumerate(required)}),
                     tags=p.tags(p.namer.base("required-tags")), opts=rule_opts)

        # --- GuardDuty, password policy, cost allocation tags ---
        self.detector = aws.guardduty.Detector(
            "guardduty", enable=True, finding_publishing_frequency=o.guardduty_frequency,
            tags=p.tags(p.namer.base("guardduty")), opts=child)
        aws.iam.AccountPasswordPolicy(
            "password-policy", minimum_password_length=o.password_min_length, require_lowercase_characters=True,
            require_uppercase_characters=True, require_numbers=True, require_symbols=True,
            allow_users_to_change_password=True, max_password_age=90, password_reuse_prevention=24, opts=child)
        for key in o.cost_allocation_tags:
            aws.costexplorer.CostAllocationTag(f"cost-tag-{key.lower()}", tag_key=key, status="Active", opts=child)

        self.register_outputs({"budgetName": self.budget.name, "trailArn": self.trail.arn,
                               "auditBucket": bucket.id, "guardDutyDetectorId": self.detector.id})
