"""Disaster-recovery settings: the second region, what is replicated there, and AWS Backup."""
from __future__ import annotations

import dataclasses

from .application import CERTIFICATE_ARN
from .data import CACHE_NODE
from .platform import REGION
from .schema import (
    HOSTED_ZONE_ID,
    Bool,
    Cidr,
    ConfigError,
    Enum,
    EnvDefault,
    Int,
    Maybe,
    Str,
    setting,
)

USER_POOL_ARN = Str(r"arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[a-z0-9-]+_[A-Za-z0-9]+",
                    "a Cognito user pool ARN such as arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_AbC")
MODES = ("backup-restore", "pilot-light", "warm-standby")


@dataclasses.dataclass(frozen=True)
class DrSettings:
    enabled: bool = setting(Bool(), EnvDefault(False, True),
                            "Build the second-region resources (replica buckets, RDS backup replication, DynamoDB "
                            "replica, DR backup vault and cross-region copies).")
    region: str = setting(REGION, "us-west-2", "The DR region (must differ from aws:region).")
    mode: str = setting(Enum(*MODES), EnvDefault("backup-restore", "pilot-light"),
                        "backup-restore: data copies only (restore by hand). pilot-light: a promotable cross-region "
                        "DB replica, network and ECS services defined in the DR region at 0 tasks. warm-standby: "
                        "the same with standbyCount tasks per service running. Needs enabled: true for anything "
                        "but backup-restore.")
    vpc_cidr: str = setting(Cidr(), "10.30.0.0/16",
                            "DR VPC CIDR (pilot-light/warm-standby); distinct from the primary's so the two can peer.")
    nat_strategy: str = setting(Enum("none", "single", "one-per-az"), "single",
                                "NAT gateways of the DR VPC (single: one NAT until a failover needs more).")
    interface_endpoints: bool = setting(Bool(), False,
                                        "DR VPC with the primary's interface endpoints; false: AWS APIs (ECR pulls at "
                                        "failover) through the NAT gateway, about $110/month less in standby.")
    standby_count: int = setting(Int(1, 100), 1, "warm-standby: tasks each DR service runs (and its autoscaling floor).")
    db_instance_class: str | None = setting(Maybe(Str(r"db\.[a-z0-9]+\.[a-z0-9]+", "an RDS class such as db.r6g.large")),
                                               None, "Class of the DR read replica (default: the primary's).")
    cache_node_type: str = setting(CACHE_NODE, "cache.t4g.micro",
                                   "Node type of the DR region's standby Redis (pilot-light/warm-standby; two nodes "
                                   "when data.redisMultiAz): empty at failover, refilled from the database; resize "
                                   "online after a failover.")
    alb_certificate_arn: str | None = setting(Maybe(CERTIFICATE_ARN), None,
                                                 "ACM certificate in the DR region for the DR load balancer (covering "
                                                 "application.alb.domainName); none: the DR ALB serves HTTP only.")
    api_certificate_arn: str | None = setting(Maybe(CERTIFICATE_ARN), None,
                                                 "ACM certificate in the DR region covering edge.apiDomainName: the DR "
                                                 "API's regional custom domain (required with edge.apiDomainName).")
    user_pool_arn: str | None = setting(Maybe(USER_POOL_ARN), None,
                                           "A Cognito user pool in the DR region (created by the Cognito procedure, "
                                           "docs/dr.md): the DR API's authorizer accepts its tokens as well as the "
                                           "primary pool's.")
    email_source_arn: str | None = setting(
        Maybe(Str(r"arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity/[^\s]+", "an SES identity ARN")), None,
        "Verified SES identity in the DR region the standing DR user pool sends codes and password resets from "
        "(SES identities are regional; the imported users reset their passwords by e-mail at failover). None: "
        "Cognito's built-in e-mail, refused in prod by cognito-email-through-ses.")
    hosted_zone_id: str | None = setting(Maybe(HOSTED_ZONE_ID), None,
                                            "Route 53 zone holding edge.apiDomainName: the stack creates a "
                                            "PRIMARY/SECONDARY failover record pair (the two regions' API custom "
                                            "domains) with a health check on the primary API.")
    health_check_failure_threshold: int = setting(Int(1, 10), 3,
                                                  "Route 53 failures before unhealthy, as `plan --dr` estimates the "
                                                  "DNS move (the primary API's check itself reads its 5xx alarm).")
    health_check_interval: int = setting(Enum(10, 30), 30, "Route 53 request interval (s) for the same estimate: "
                                                           "10 or 30.")
    rds_backup_retention_days: int = setting(Int(1, 35), 7,
                                             "Days of point-in-time recovery kept by the replicated RDS backups.")
    dynamodb_strategy: str = setting(Enum("replica", "backup-copy"), "replica",
                                     "DynamoDB in the DR region: a global-table replica (RPO seconds) or only the "
                                     "daily Backup copy (RPO 24 h, cheaper).")
    s3_replication_time_control: bool = setting(Bool(), True,
                                                "S3 Replication Time Control: 15-minute replication SLA and metrics.")

    backup: bool = setting(Bool(), True, "AWS Backup vault, plan and selections for the stack's stateful resources.")
    backup_schedule: str = setting(Str(r"cron\(.+\)", "a cron(...) expression", max_len=100), "cron(0 5 * * ? *)",
                                   "When the daily backup runs (UTC).")
    backup_retention_days: int = setting(Int(1, 36500), EnvDefault(7, 35), "Days each recovery point is kept.")
    backup_copy_retention_days: int = setting(Int(1, 36500), EnvDefault(7, 35),
                                              "Days each cross-region copy is kept in the DR vault.")
    vault_lock: bool = setting(Bool(), EnvDefault(False, True),
                               "Lock the backup vaults (no recovery point deleted before minimum retention).")
    vault_lock_mode: str = setting(Enum("governance", "compliance"), "governance",
                                   "governance: removable by a privileged IAM principal. compliance: IRREVERSIBLE "
                                   "after the cooling-off period, even for the root user.")
    vault_lock_cooling_off_days: int = setting(Int(3, 365), 3, "Compliance mode only: days before the lock is permanent.")
    vault_lock_max_retention_days: int = setting(Int(1, 36500), 3650, "Longest retention a vault accepts.")
    tag_selection_key: str = setting(Str(r"[\w.:/=+@ -]{1,128}", "a tag key"), "Backup",
                                     "Resources tagged <key>=true are also backed up (opt-in for other tiers).")

    @property
    def standby(self) -> bool:
        """A standing DR region (network, compute, promotable replica): pilot-light or warm-standby."""
        return self.enabled and self.mode != "backup-restore"

    def validate(self, path: str) -> None:
        if self.mode != "backup-restore" and not self.enabled:
            raise ConfigError(f"{path}.mode", self.mode, "backup-restore unless enabled is true (no second region)")
        if self.vault_lock_max_retention_days < max(self.backup_retention_days, self.backup_copy_retention_days):
            raise ConfigError(f"{path}.vaultLockMaxRetentionDays", self.vault_lock_max_retention_days,
                              "at least backupRetentionDays and backupCopyRetentionDays")
