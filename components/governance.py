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

import pulumi
import pulumi_aws as aws
from pulumi import Input

from .config.observability import ObservabilitySettings
from .context import Platform, policy_json, publish
from .recipes.buckets import private_bucket
from .recipes.keys import cloudtrail_grants, key_policy, kms_key
from .recipes.log_groups import log_group
from .recipes.roles import MANAGED, service_role
from .tagging import REQUIRED_TAG_KEYS

CONFIG_ROLE_POLICY = MANAGED + "service-role/AWS_ConfigRole"


@dataclasses.dataclass(frozen=True)
class GovernanceTierArgs:
    platform: Platform
    # The `observability` section holds the governance keys too (budget, trail, Config, account baseline).
    settings: ObservabilitySettings
    logs_key_arn: Input[str]
    alerts_topic_arn: Input[str] | None = None
    access_log_bucket_name: Input[str] | None = None


@dataclasses.dataclass(frozen=True)
class GovernanceOutputs:
    budget_name: pulumi.Output[str]
    trail_arn: pulumi.Output[str] | None
    audit_bucket_name: pulumi.Output[str] | None
    guardduty_detector_id: pulumi.Output[str] | None


class GovernanceTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: GovernanceTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__("ai-platform:tier:Governance", name, None, p.tier_options(opts))
        o = args.settings
        child = pulumi.ResourceOptions(parent=self)
        account = p.account_id

        # --- cost guardrail (per stack) ---
        tag_value = {"CostCenter": p.settings.cost_center, "Environment": p.environment,
                     "Project": p.project}[o.budget_filter_tag]
        topics = [args.alerts_topic_arn] if args.alerts_topic_arn is not None else []
        emails = list(o.budget_emails)
        notifications = []
        if topics or emails:
            for kind, percent in (("ACTUAL", o.budget_actual_percent), ("FORECASTED", o.budget_forecast_percent)):
                notifications.append(aws.budgets.BudgetNotificationArgs(
                    comparison_operator="GREATER_THAN", notification_type=kind, threshold=percent,
                    threshold_type="PERCENTAGE", subscriber_sns_topic_arns=topics or None,
                    subscriber_email_addresses=emails or None))
        budget = aws.budgets.Budget(
            "budget", name=p.namer.physical("budget", "monthly"), budget_type="COST",
            limit_amount=f"{o.budget_limit_usd:.1f}", limit_unit="USD", time_unit="MONTHLY",
            # Legacy filter syntax "user:<key>$<value>" (cost-allocation tag, must be activated).
            cost_filters=[aws.budgets.BudgetCostFilterArgs(name="TagKeyValue",
                                                          values=[f"user:{o.budget_filter_tag}${tag_value}"])],
            notifications=notifications or None,
            tags=p.tags(p.namer.base("budget")), opts=child)

        if not p.account_baseline:
            self.outputs = GovernanceOutputs(budget_name=budget.name, trail_arn=None, audit_bucket_name=None,
                                             guardduty_detector_id=None)
            publish(self, self.outputs)
            return

        # --- audit key and bucket ---
        trail_name = p.namer.physical("cloudtrail", "audit")
        trail_arn = account.apply(lambda acct: f"arn:aws:cloudtrail:{p.region}:{acct}:trail/{trail_name}")
        audit_key = kms_key(
            self, p, "audit-key", purpose="audit", alias="audit",
            description=f"{p.namer.base()} audit (CloudTrail, Config) encryption key",
            policy=pulumi.Output.all(account, trail_arn).apply(lambda v: key_policy(v[0], *cloudtrail_grants(*v))))

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
            self, p, "audit", kms_key_arn=audit_key.arn, bucket_opts=p.stateful(self),
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
        bucket = audit.bucket
        bucket_arn = audit.arn

        # --- CloudTrail: S3 (durable, validated) and CloudWatch Logs (queryable, alarmable) ---
        trail_log_name = p.namer.log_group("cloudtrail")
        trail_logs = log_group(self, p, "cloudtrail-logs", trail_log_name, kms_key_arn=args.logs_key_arn,
                               retention="audit", tags=p.tags(trail_log_name, LogClass="audit"))
        trail_delivery = service_role(
            self, p, "cloudtrail-logs-role", service="cloudtrail.amazonaws.com",
            description="CloudTrail delivery to its CloudWatch Logs group", tag_name=p.namer.base("cloudtrail-logs"),
            inline={"cloudtrail-logs-delivery": policy_json(
                {"Sid": "DeliverTrail", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": account.apply(lambda a: [
                     f"arn:aws:logs:{p.region}:{a}:log-group:{trail_log_name}:log-stream:*"])})})
        trail_role, trail_policy = trail_delivery.role, trail_delivery.policies["cloudtrail-logs-delivery"]
        selectors = None
        if o.trail_data_events:
            sel = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs
            selectors = [
                aws.cloudtrail.TrailAdvancedEventSelectorArgs(
                    name="Management events", field_selectors=[sel(field="eventCategory", equals=["Management"])]),
                aws.cloudtrail.TrailAdvancedEventSelectorArgs(
                    name="S3 object events", field_selectors=[sel(field="eventCategory", equals=["Data"]),
                                                              sel(field="resources.type", equals=["AWS::S3::Object"])])]
        trail = aws.cloudtrail.Trail(
            "trail", name=trail_name, s3_bucket_name=bucket.id, s3_key_prefix="cloudtrail",
            is_multi_region_trail=True, include_global_service_events=True, enable_log_file_validation=True,
            enable_logging=True, kms_key_id=audit_key.arn,
            cloud_watch_logs_group_arn=pulumi.Output.concat(trail_logs.arn, ":*"),
            cloud_watch_logs_role_arn=trail_role.arn, advanced_event_selectors=selectors,
            tags=p.tags(trail_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[x for x in (audit.policy, trail_policy) if x is not None]))

        # --- AWS Config ---
        config = service_role(
            self, p, "config-role", service="config.amazonaws.com",
            description="AWS Config recorder and delivery channel", tag_name=p.namer.base("config"),
            managed={"config-managed": CONFIG_ROLE_POLICY},
            inline={"config-delivery": policy_json(
                {"Sid": "DeliverToAuditBucket", "Effect": "Allow", "Action": ["s3:PutObject"],
                 "Resource": pulumi.Output.all(bucket_arn, account).apply(lambda v: f"{v[0]}/config/AWSLogs/{v[1]}/*")},
                {"Sid": "CheckAuditBucket", "Effect": "Allow", "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                 "Resource": bucket_arn},
                # The audit key's ARN is unknown until created; S3 is the only path this role encrypts through.
                {"Sid": "EncryptThroughS3", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                 "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": f"s3.{p.region}.amazonaws.com"}}})})
        config_role, config_delivery = config.role, config.policies["config-delivery"]
        recorder_name = p.namer.physical("config_recorder")
        recorder = aws.cfg.Recorder(
            "config-recorder", name=recorder_name, role_arn=config_role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(all_supported=True, include_global_resource_types=True),
            opts=child)
        channel = aws.cfg.DeliveryChannel(
            "config-delivery-channel", name=recorder_name, s3_bucket_name=bucket.id, s3_key_prefix="config",
            s3_kms_key_arn=audit_key.arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency="TwentyFour_Hours"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[x for x in (recorder, audit.policy, config_delivery) if x is not None]))
        aws.cfg.RecorderStatus("config-recorder-status", name=recorder.name, is_enabled=True,
                               opts=pulumi.ResourceOptions(parent=self, depends_on=[channel]))
        rule_opts = pulumi.ResourceOptions(parent=self, depends_on=[recorder])
        for rule_id in o.config_rules:
            rule_name = p.namer.physical("config_rule", rule_id.lower().replace("_", "-"))
            aws.cfg.Rule(
                f"config-rule-{rule_id.lower().replace('_', '-')}", name=rule_name,
                source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier=rule_id),
                tags=p.tags(rule_name), opts=rule_opts)
        required = list(REQUIRED_TAG_KEYS)
        aws.cfg.Rule("config-rule-required-tags", name=p.namer.physical("config_rule", "required-tags"),
                     source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier="REQUIRED_TAGS"),
                     input_parameters=json.dumps({f"tag{i + 1}Key": k for i, k in enumerate(required)}),
                     tags=p.tags(p.namer.base("required-tags")), opts=rule_opts)

        # --- GuardDuty, password policy, cost allocation tags ---
        detector = aws.guardduty.Detector(
            "guardduty", enable=True, finding_publishing_frequency=o.guardduty_frequency,
            tags=p.tags(p.namer.base("guardduty")), opts=child)
        aws.iam.AccountPasswordPolicy(
            "password-policy", minimum_password_length=o.password_min_length, require_lowercase_characters=True,
            require_uppercase_characters=True, require_numbers=True, require_symbols=True,
            allow_users_to_change_password=True, max_password_age=90, password_reuse_prevention=24, opts=child)
        for key in (o.cost_allocation_tags if o.activate_cost_allocation_tags else ()):
            aws.costexplorer.CostAllocationTag(f"cost-tag-{key.lower()}", tag_key=key, status="Active", opts=child)

        self.outputs = GovernanceOutputs(budget_name=budget.name, trail_arn=trail.arn, audit_bucket_name=bucket.id,
                                         guardduty_detector_id=detector.id)
        publish(self, self.outputs)
