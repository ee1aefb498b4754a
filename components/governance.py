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
from .recipes.alarms import metric_alarm
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
    # critical: Backup job/copy failures and GuardDuty findings page it (issue 26); alerts_topic_arn is the CIS
    # filters' (warnings)
    critical_topic_arn: Input[str] | None = None


@dataclasses.dataclass(frozen=True)
class GovernanceOutputs:
    budget_name: pulumi.Output[str]
    trail_arn: pulumi.Output[str] | None
    audit_bucket_name: pulumi.Output[str] | None
    guardduty_detector_id: pulumi.Output[str] | None
    # What another region's baseline (RegionBaseline) delivers with: the Config role, the audit bucket and key.
    config_role_arn: pulumi.Output[str] | None = None
    audit_key_arn: pulumi.Output[str] | None = None
    metric_filter_names: tuple = ()


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
                # Nobody erases the audit trail quietly: no principal (administrators included) deletes an object or
                # a version, or bypasses the lock; expiry is the lifecycle rule's alone (S3 itself, not a principal).
                {"Sid": "DenyAuditDeletes", "Effect": "Deny", "Principal": "*",
                 "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"],
                 "Resource": pulumi.Output.concat(bucket_arn, "/*")},
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
                # A version made noncurrent stays as long as its lock (not 30 days): nothing shortens the trail.
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=o.audit_object_lock_days),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7))],
            tags=p.tags(p.namer.base("audit"), Purpose="audit"))
        bucket = audit.bucket
        bucket_arn = audit.arn
        # Object Lock (on new and existing versioned buckets): each trail and Config object is locked for
        # auditObjectLockDays; COMPLIANCE in prod, where not even the root user can delete or shorten it.
        aws.s3.BucketObjectLockConfiguration(
            "audit-object-lock", bucket=bucket.id, object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode=o.audit_object_lock_mode, days=o.audit_object_lock_days)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[audit.versioning]))

        # --- CloudTrail: S3 (durable, validated) and CloudWatch Logs (queryable, alarmable) ---
        trail_log_name = p.namer.log_group("cloudtrail")
        trail_logs = log_group(self, p, "cloudtrail-logs", trail_log_name, kms_key_arn=args.logs_key_arn,
                               retention="audit", tags=p.tags(trail_log_name, LogClass="audit"),
                               opts=p.stateful(self))
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
            # Protected like the data it records: deleting the trail stops the record.
            opts=p.stateful(self, depends_on=[x for x in (audit.policy, trail_policy) if x is not None]))
        filters = cis_metric_alarms(self, p, trail_logs.name, args.alerts_topic_arn)
        if args.critical_topic_arn is not None:
            silent_failure_rules(self, p, args.critical_topic_arn)

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
        recorder, detector = region_baseline(self, p, o, config_role=config_role, bucket_name=bucket.id,
                                             audit_key_arn=audit_key.arn, include_global=True,
                                             depends_on=[x for x in (audit.policy, config_delivery) if x is not None])
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

        # --- password policy, cost allocation tags ---
        aws.iam.AccountPasswordPolicy(
            "password-policy", minimum_password_length=o.password_min_length, require_lowercase_characters=True,
            require_uppercase_characters=True, require_numbers=True, require_symbols=True,
            allow_users_to_change_password=True, max_password_age=90, password_reuse_prevention=24, opts=child)
        for key in (o.cost_allocation_tags if o.activate_cost_allocation_tags else ()):
            aws.costexplorer.CostAllocationTag(f"cost-tag-{key.lower()}", tag_key=key, status="Active", opts=child)

        self.outputs = GovernanceOutputs(budget_name=budget.name, trail_arn=trail.arn, audit_bucket_name=bucket.id,
                                         guardduty_detector_id=detector.id, config_role_arn=config_role.arn,
                                         audit_key_arn=audit_key.arn, metric_filter_names=tuple(filters))
        publish(self, self.outputs)


def region_baseline(parent: pulumi.Resource, p: Platform, o: ObservabilitySettings, *, config_role: Input,
                    bucket_name: Input[str], audit_key_arn: Input[str], include_global: bool,
                    depends_on: list) -> tuple:
    """One region's account singletons: the Config recorder (global resources such as IAM recorded in the primary
    region only, CIS 3.3), its delivery channel into the audit bucket, GuardDuty, and EBS encryption by default
    (CIS 2.2.1). Built in every region the stack runs in (RegionBaseline for the DR region)."""
    child = pulumi.ResourceOptions(parent=parent)
    role_arn = config_role.arn if isinstance(config_role, aws.iam.Role) else config_role
    recorder_name = p.namer.physical("config_recorder")
    recorder = aws.cfg.Recorder(
        "config-recorder", name=recorder_name, role_arn=role_arn,
        recording_group=aws.cfg.RecorderRecordingGroupArgs(all_supported=True,
                                                          include_global_resource_types=include_global),
        opts=child)
    channel = aws.cfg.DeliveryChannel(
        "config-delivery-channel", name=recorder_name, s3_bucket_name=bucket_name, s3_key_prefix="config",
        s3_kms_key_arn=audit_key_arn,
        snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
            delivery_frequency="TwentyFour_Hours"),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[recorder, *depends_on]))
    aws.cfg.RecorderStatus("config-recorder-status", name=recorder.name, is_enabled=True,
                           opts=pulumi.ResourceOptions(parent=parent, depends_on=[channel]))
    detector = aws.guardduty.Detector(
        "guardduty", enable=True, finding_publishing_frequency=o.guardduty_frequency,
        tags=p.tags(p.namer.base("guardduty")), opts=child)
    aws.ebs.EncryptionByDefault("ebs-encryption-by-default", enabled=True, opts=child)
    return recorder, detector


# Failures nothing else reports (issue 26): a failed or aborted AWS Backup job, copy (the DR vault's line) or
# restore, and GuardDuty findings of medium severity and up. EventBridge delivers them to the region's alerts topic
# (its policy admits events.amazonaws.com from this account; its key admits EventBridge). Built in both regions.
SILENT_FAILURES = {
    "backup-job-failures": ("AWS Backup job, copy or restore failed", {
        "source": ["aws.backup"],
        "detail-type": ["Backup Job State Change", "Copy Job State Change", "Restore Job State Change"],
        "detail": {"state": ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"]}}),
    "guardduty-findings": ("GuardDuty finding of medium severity or higher", {
        "source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", 4]}]}}),
}


def silent_failure_rules(parent: pulumi.Resource, p: Platform, topic_arn: Input[str]) -> list:
    child = pulumi.ResourceOptions(parent=parent)
    rules = []
    for key, (description, pattern) in SILENT_FAILURES.items():
        rule = aws.cloudwatch.EventRule(
            key, name=p.namer.physical("eventbridge_rule", key), description=description,
            event_pattern=json.dumps(pattern), tags=p.tags(p.namer.base(key)), opts=child)
        aws.cloudwatch.EventTarget(f"{key}-alerts", rule=rule.name, arn=topic_arn, opts=child)
        rules.append(rule)
    return rules


@dataclasses.dataclass(frozen=True)
class RegionBaselineArgs:
    platform: Platform                  # the other region's
    settings: ObservabilitySettings
    config_role_arn: Input[str]         # the governance tier's published outputs
    audit_bucket_name: Input[str]
    audit_key_arn: Input[str]


class RegionBaseline(pulumi.ComponentResource):
    """The account baseline of another region the stack runs in (the DR region): Config recorder, GuardDuty and
    EBS encryption by default there too (the trail is already multi-region)."""

    def __init__(self, name: str, args: RegionBaselineArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__(p.tier_type("Governance"), name, None, p.tier_options(opts))
        region_baseline(self, p, args.settings, config_role=args.config_role_arn, bucket_name=args.audit_bucket_name,
                        audit_key_arn=args.audit_key_arn, include_global=False, depends_on=[])
        self.register_outputs({})


# CIS AWS Foundations Benchmark v3.0.0, section 4 (Monitoring): one metric filter on the trail's log group and
# one alarm per control, with the benchmark's filter patterns. (v1.x numbered these 3.1-3.14; 4.16, Security Hub,
# is an account setting, not a filter.)
CIS_FILTERS: dict[str, tuple[str, str]] = {
    "4.1": ("unauthorized-api-calls", '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") '
            '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }'),
    "4.2": ("console-signin-without-mfa", '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != '
            '"Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'),
    "4.3": ("root-account-usage", '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
            '$.eventType != "AwsServiceEvent" }'),
    "4.4": ("iam-policy-changes", '{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || '
            '($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || '
            '($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || '
            '($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) '
            '|| ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) '
            '|| ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || '
            '($.eventName = DetachGroupPolicy)) }'),
    "4.5": ("cloudtrail-changes", '{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = '
            'DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }'),
    "4.6": ("console-auth-failures", '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'),
    "4.7": ("cmk-disable-or-deletion", '{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || '
            '($.eventName = ScheduleKeyDeletion)) }'),
    "4.8": ("s3-bucket-policy-changes", '{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || '
            '($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || '
            '($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = '
            'DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }'),
    "4.9": ("config-changes", '{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) '
            '|| ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || ($.eventName = '
            'PutConfigurationRecorder)) }'),
    "4.10": ("security-group-changes", '{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = '
             'AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = '
             'RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = '
             'DeleteSecurityGroup) }'),
    "4.11": ("nacl-changes", '{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || '
             '($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = '
             'ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }'),
    "4.12": ("network-gateway-changes", '{ ($.eventName = CreateCustomerGateway) || ($.eventName = '
             'DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = '
             'CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = '
             'DetachInternetGateway) }'),
    "4.13": ("route-table-changes", '{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || '
             '($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = '
             'ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || '
             '($.eventName = DisassociateRouteTable)) }'),
    "4.14": ("vpc-changes", '{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = '
             'ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = '
             'CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = '
             'RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = '
             'DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = '
             'EnableVpcClassicLink) }'),
    "4.15": ("organizations-changes", '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = '
             '"AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || '
             '($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = '
             '"DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = '
             '"DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || '
             '($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = '
             '"InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = '
             '"MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || '
             '($.eventName = "UpdateOrganizationalUnit")) }'),
}
CIS_NAMESPACE = "CISBenchmark"


def cis_metric_alarms(parent: pulumi.Resource, p: Platform, log_group_name: Input[str],
                      topic_arn: Input[str] | None) -> list[str]:
    """CIS 4.1-4.15: a metric filter on the trail's log group and an alarm on its count (>= 1 in 5 minutes) per
    control, notifying the topic the tier is given (its subscribers are the security contacts)."""
    names = []
    for control, (key, pattern) in CIS_FILTERS.items():
        metric = "".join(part.title() for part in key.split("-"))
        aws.cloudwatch.LogMetricFilter(
            f"cis-{key}", name=p.namer.physical("alarm", "cis", key), log_group_name=log_group_name, pattern=pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=metric, namespace=CIS_NAMESPACE, value="1"),
            opts=pulumi.ResourceOptions(parent=parent))
        metric_alarm(parent, p, f"alarm-cis-{key}", f"cis-{key}", namespace=CIS_NAMESPACE, metric=metric,
                     dimensions={}, op=">=", threshold=1, statistic="Sum", missing="notBreaching",
                     actions=[topic_arn] if topic_arn is not None else [], severity="warning",
                     description=f"CIS AWS Foundations v3.0.0 {control}: {key.replace('-', ' ')} (trail metric filter)")
        names.append(control)
    return names
