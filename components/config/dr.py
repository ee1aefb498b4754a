"""Disaster-recovery settings: the second region, what is replicated there, and AWS Backup."""
from __future__ import annotations

import dataclasses

from .platform import REGION
from .schema import Bool, ConfigError, Enum, EnvDefault, Int, Str, setting


@dataclasses.dataclass(frozen=True)
class DrSettings:
    enabled: bool = setting(Bool(), EnvDefault(False, True),
                            "Build the second-region resources (replica buckets, RDS backup replication, DynamoDB "
                            "replica, DR backup vault and cross-region copies).")
    region: str = setting(REGION, "us-west-2", "The DR region (must differ from aws:region).")
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

    def validate(self, path: str) -> None:
        if self.vault_lock_max_retention_days < max(self.backup_retention_days, self.backup_copy_retention_days):
            raise ConfigError(f"{path}.vaultLockMaxRetentionDays", self.vault_lock_max_retention_days,
                              "at least backupRetentionDays and backupCopyRetentionDays")
