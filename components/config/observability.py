"""Observability, governance and cost settings: alarm thresholds, dashboard, tracing, the account
baseline (CloudTrail, Config, GuardDuty, password policy, cost-allocation tags) and the budget."""
from __future__ import annotations

import dataclasses

from .schema import Bool, ConfigError, Enum, EnvDefault, Int, ListOf, Num, Section, Str, setting

EMAIL = Str(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address", max_len=254)
# AWS managed Config rules this platform's policy pack mirrors (identifiers from the AWS Config
# managed-rules list; none of these needs input parameters).
DEFAULT_CONFIG_RULES = [
    "ENCRYPTED_VOLUMES", "S3_BUCKET_PUBLIC_READ_PROHIBITED", "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "S3_BUCKET_SSL_REQUESTS_ONLY", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "RDS_STORAGE_ENCRYPTED",
    "RDS_INSTANCE_PUBLIC_ACCESS_CHECK", "ROOT_ACCOUNT_MFA_ENABLED", "IAM_ROOT_ACCESS_KEY_CHECK",
    "CLOUD_TRAIL_ENABLED", "MULTI_REGION_CLOUD_TRAIL_ENABLED", "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "CLOUD_TRAIL_ENCRYPTION_ENABLED", "VPC_FLOW_LOGS_ENABLED", "VPC_DEFAULT_SECURITY_GROUP_CLOSED",
    "CMK_BACKING_KEY_ROTATION_ENABLED", "CLOUDWATCH_LOG_GROUP_ENCRYPTED", "DYNAMODB_PITR_ENABLED",
    "GUARDDUTY_ENABLED_CENTRALIZED", "IAM_PASSWORD_POLICY", "RESTRICTED_INCOMING_TRAFFIC",
]
CONFIG_RULE_ID = Str(r"[A-Z0-9_]{3,128}", "an AWS managed Config rule identifier such as 'ENCRYPTED_VOLUMES'")
COST_TAGS = ("Project", "Environment", "CostCenter", "Owner", "ManagedBy")


@dataclasses.dataclass(frozen=True)
class AlarmSettings:
    """Thresholds of the alarms; defaults from the platform design."""
    period_seconds: int = setting(Enum(60, 300, 900, 3600), 300, "Period of every alarm's metric (seconds).")
    ecs_cpu_percent: int = setting(Int(1, 100), 90, "ECS service average CPU above this (percent)...")
    ecs_cpu_periods: int = setting(Int(1, 10), 2, "...for this many consecutive periods.")
    ecs_memory_percent: int = setting(Int(1, 100), 85, "ECS service average memory above this (percent).")
    alb_5xx_count: int = setting(Int(0, 100000), 10, "ALB ELB-generated and target 5xx responses per 5 minutes above this.")
    alb_p95_latency_seconds: float = setting(Num(0.01, 60), 3, "ALB TargetResponseTime p95 above this (seconds).")
    rds_cpu_percent: int = setting(Int(1, 100), 80, "RDS CPU above this (percent) for 3 periods.")
    rds_free_storage_gib: int = setting(Int(1, 65536), EnvDefault(5, 20), "RDS FreeStorageSpace below this (GiB).")
    rds_max_connections: int = setting(Int(1, 100000), EnvDefault(80, 400), "RDS DatabaseConnections above this.")
    rds_replica_lag_seconds: int = setting(Int(1, 86400), 300, "RDS read replica ReplicaLag above this (seconds).")
    redis_cpu_percent: int = setting(Int(1, 100), 75, "Redis EngineCPUUtilization above this (percent).")
    redis_memory_percent: int = setting(Int(1, 100), 80, "Redis DatabaseMemoryUsagePercentage above this.")
    lambda_errors: int = setting(Int(0, 100000), 0, "Lambda Errors per period above this.")
    lambda_throttles: int = setting(Int(0, 100000), 0, "Lambda Throttles per period above this.")


@dataclasses.dataclass(frozen=True)
class ObservabilitySettings:
    alarms: AlarmSettings = setting(Section(AlarmSettings), AlarmSettings(), "Alarm thresholds.")
    dashboard: bool = setting(Bool(), True, "Create the stack's CloudWatch dashboard.")
    xray_fixed_rate: float = setting(Num(0, 1), 0.05, "X-Ray sampling: fraction of requests after the reservoir.")
    xray_reservoir: int = setting(Int(0, 100000), 1, "X-Ray sampling: requests per second always traced.")
    xray_priority: int = setting(Int(1, 9999), 9000, "X-Ray rule priority (the built-in default rule is 10000).")

    account_baseline: bool = setting(
        Bool(), EnvDefault(False, True),
        "This stack owns the account/region singletons: CloudTrail, Config recorder and rules, GuardDuty, "
        "password policy, cost-allocation tags, ECR replication, Backup region settings. Exactly one stack per "
        "account sets it.")
    trail_data_events: bool = setting(Bool(), False, "Also log S3 object-level (data) events in the trail (billed per event).")
    audit_bucket_retention_days: int = setting(Int(90, 3653), EnvDefault(365, 2557),
                                               "Days CloudTrail/Config objects are kept in the audit bucket.")
    audit_object_lock_mode: str = setting(
        Enum("GOVERNANCE", "COMPLIANCE"), EnvDefault("GOVERNANCE", "COMPLIANCE"),
        "S3 Object Lock mode of the audit bucket's objects: COMPLIANCE (nobody, root included, can delete or shorten "
        "it) or GOVERNANCE (s3:BypassGovernanceRetention can).")
    audit_object_lock_days: int = setting(Int(1, 3653), EnvDefault(30, 365),
                                          "Days each CloudTrail/Config object is locked against deletion.")
    audit_bucket_glacier_after_days: int = setting(Int(30, 3650), 90, "Days before audit objects move to Glacier IR.")
    config_rules: tuple = setting(ListOf(CONFIG_RULE_ID, max_items=100), DEFAULT_CONFIG_RULES,
                                  "AWS managed Config rules (source identifiers) to enable.")
    guardduty_frequency: str = setting(Enum("FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"), "FIFTEEN_MINUTES",
                                       "How often GuardDuty publishes updated findings.")
    password_min_length: int = setting(Int(14, 128), 14, "IAM account password policy minimum length (CIS: 14).")
    activate_cost_allocation_tags: bool = setting(
        Bool(), False, "Activate costAllocationTags through the API (account baseline only). Off by default: it fails "
                       "until billing has seen the tags (up to 24 h) and always in an Organizations member account "
                       "(the payer activates them).")
    cost_allocation_tags: tuple = setting(ListOf(Enum(*COST_TAGS), max_items=len(COST_TAGS)),
                                          ["Project", "Environment", "CostCenter", "Owner"],
                                          "User tags activated for cost allocation (account baseline only).")

    budget_limit_usd: int = setting(Int(1, 10_000_000), 1000, "Monthly cost budget of this stack (USD).")
    budget_filter_tag: str = setting(Enum("CostCenter", "Environment", "Project"), "CostCenter",
                                     "Tag whose value (this stack's) scopes the budget's costs.")
    budget_actual_percent: int = setting(Int(1, 1000), 80, "Alert when actual spend passes this % of the limit.")
    budget_forecast_percent: int = setting(Int(1, 1000), 100, "Alert when forecast spend passes this % of the limit.")
    budget_emails: tuple = setting(ListOf(EMAIL, max_items=10), [],
                                   "E-mail subscribers of the budget alerts (besides the alerts topic).")

    def validate(self, path: str) -> None:
        if self.audit_object_lock_days > self.audit_bucket_retention_days:
            raise ConfigError(f"{path}.auditObjectLockDays", self.audit_object_lock_days,
                              f"at most auditBucketRetentionDays ({self.audit_bucket_retention_days})")
        if self.audit_bucket_glacier_after_days >= self.audit_bucket_retention_days:
            raise ConfigError(f"{path}.auditBucketGlacierAfterDays", self.audit_bucket_glacier_after_days,
                              f"fewer days than auditBucketRetentionDays ({self.audit_bucket_retention_days})")
