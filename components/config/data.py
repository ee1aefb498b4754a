"""Data tier settings: PostgreSQL, Redis, DynamoDB, DocumentDB and the S3 buckets.

Protection (RDS/DocumentDB deletion protection, final snapshots, DynamoDB deletion protection, Pulumi
protect) follows the stack-wide `platform.protect`; Multi-AZ is per store because it costs money.
"""
from __future__ import annotations

import dataclasses
import re

from .schema import Bool, ConfigError, Enum, EnvDefault, Int, ListOf, MapOf, Section, Str, setting

# Graviton classes only (price/performance; every engine version used here supports them).
DB_CLASS = Str(r"db\.(t4g|m6g|m6gd|m7g|m8g|r6g|r6gd|r7g|r8g|x2g)\.(micro|small|medium|large|xlarge|\d{1,2}xlarge)",
               "a Graviton RDS instance class such as 'db.t4g.micro' or 'db.r6g.large'", max_len=32)
# No r6gd: those nodes only run with data tiering, which this tier does not enable (CreateReplicationGroup
# rejects them without it); t4g stops at medium.
CACHE_NODE = Str(r"cache\.(t4g\.(micro|small|medium)|(m6g|m7g|r6g|r7g)\.(large|xlarge|\d{1,2}xlarge))",
                 "a Graviton ElastiCache node type such as 'cache.t4g.micro' or 'cache.r6g.large'", max_len=32)
DOCDB_CLASS = Str(r"db\.(t4g|r6g|r7g|r8g)\.(medium|large|xlarge|\d{1,2}xlarge)",
                  "a Graviton DocumentDB instance class such as 'db.t4g.medium' or 'db.r6g.large'", max_len=32)
# RDS/ElastiCache windows: hh24:mi-hh24:mi (UTC), weekly windows ddd:hh24:mi-ddd:hh24:mi.
DAILY_WINDOW = Str(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", "a UTC window such as '03:00-04:00'",
                   max_len=11)
WEEKLY_WINDOW = Str(r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):"
                    r"([01]\d|2[0-3]):[0-5]\d", "a UTC window such as 'sun:04:30-sun:05:30'", max_len=19)
IDENT = Str(r"[a-z][a-z0-9_]{0,30}", "a lowercase identifier of 1-31 letters, digits or _ starting with a letter",
            max_len=31)
# The data tier's buckets by key (service contracts and the ML tier name them).
BUCKET_KEYS = ("data-lake", "documents", "ml-artifacts")
TABLE_NAME = Str(r"[a-z][a-z0-9-]{1,40}", "a lowercase short table name of 2-41 letters, digits or hyphens",
                 max_len=41)
ATTRIBUTE = Str(r"[A-Za-z_][A-Za-z0-9_.-]{0,254}", "a DynamoDB attribute name such as 'id'", max_len=255)
OPTIONAL_ATTRIBUTE = Str(r"([A-Za-z_][A-Za-z0-9_.-]{0,254})?", "a DynamoDB attribute name or '' for none",
                         max_len=255, min_len=0)
KEY_TYPE = Enum("S", "N", "B")
PI_RETENTION_DAYS = (7, 31, 62, 93, 124, 155, 186, 217, 248, 279, 310, 341, 372, 403, 434, 465, 496, 527, 558, 589,
                     620, 651, 682, 713, 731)
# Major version -> parameter group family (RDS) ; engine version -> family (ElastiCache, DocumentDB).
POSTGRES_FAMILY = {"16": "postgres16", "17": "postgres17"}
REDIS_FAMILY = {"7.1": "redis7", "7.0": "redis7", "6.2": "redis6.x"}
DOCDB_FAMILY = {"5.0.0": "docdb5.0", "4.0.0": "docdb4.0"}


@dataclasses.dataclass(frozen=True)
class IndexSettings:
    partition_key: str = setting(ATTRIBUTE, dataclasses.MISSING, "Index partition key attribute.")
    partition_key_type: str = setting(KEY_TYPE, "S", "Type of the index partition key (S, N or B).")
    sort_key: str = setting(OPTIONAL_ATTRIBUTE, "", "Index sort key attribute ('' for none).")
    sort_key_type: str = setting(KEY_TYPE, "S", "Type of the index sort key.")


@dataclasses.dataclass(frozen=True)
class TableSettings:
    partition_key: str = setting(ATTRIBUTE, "id", "Partition key attribute.")
    partition_key_type: str = setting(KEY_TYPE, "S", "Type of the partition key (S, N or B).")
    sort_key: str = setting(OPTIONAL_ATTRIBUTE, "", "Sort key attribute ('' for none).")
    sort_key_type: str = setting(KEY_TYPE, "N", "Type of the sort key.")
    indexes: dict = setting(MapOf(Section(IndexSettings), key=Str(r"[A-Za-z0-9_.-]{3,255}"), max_items=20), {},
                            "Global secondary indexes by name (projection ALL).")
    ttl_attribute: str = setting(OPTIONAL_ATTRIBUTE, "", "Attribute holding an expiry epoch ('' disables TTL).")

    def validate(self, path: str) -> None:
        types: dict[str, str] = {}
        keys = [(self.partition_key, self.partition_key_type, "partitionKey")]
        if self.sort_key:
            keys.append((self.sort_key, self.sort_key_type, "sortKey"))
        for name, index in self.indexes.items():
            keys.append((index.partition_key, index.partition_key_type, f"indexes.{name}.partitionKey"))
            if index.sort_key:
                keys.append((index.sort_key, index.sort_key_type, f"indexes.{name}.sortKey"))
        for attr, kind, where in keys:
            if types.setdefault(attr, kind) != kind:
                raise ConfigError(f"{path}.{where}", attr, f"the same type ({types[attr]}) wherever '{attr}' is a key")


# The synthetic-data design's table: id (S) / timestamp (N), a GSI on status + timestamp.
SYNTHETIC_DATA_TABLE = TableSettings(
    partition_key="id", partition_key_type="S", sort_key="timestamp", sort_key_type="N",
    indexes={"status-timestamp-index": IndexSettings(partition_key="status", partition_key_type="S",
                                                     sort_key="timestamp", sort_key_type="N")},
    ttl_attribute="")


@dataclasses.dataclass(frozen=True)
class DataSettings:
    # --- PostgreSQL ---
    postgres_version: str = setting(Enum(*POSTGRES_FAMILY), "17", "PostgreSQL major version (minor versions "
                                    "upgrade automatically in the maintenance window).")
    db_instance_class: str = setting(DB_CLASS, EnvDefault("db.t4g.micro", "db.r6g.large"), "RDS instance class.")
    db_allocated_storage_gb: int = setting(Int(20, 65536), EnvDefault(20, 100), "Initial gp3 storage (GiB).")
    db_max_allocated_storage_gb: int = setting(Int(20, 65536), EnvDefault(100, 1000),
                                               "Storage autoscaling ceiling (GiB).")
    db_name: str = setting(IDENT, "app", "Initial database name.")
    db_master_username: str = setting(IDENT, "platform_admin", "Master user (its password is generated once by the "
                                      "stack and kept in its own Secrets Manager secret; readable only by the "
                                      "database bootstrap).")
    db_multi_az: bool = setting(Bool(), EnvDefault(False, True), "Synchronous standby in a second AZ.")
    db_read_replica: bool = setting(Bool(), EnvDefault(False, True), "Create one read replica.")
    db_backup_retention_days: int = setting(Int(0, 35), EnvDefault(1, 14), "Automated backup retention (days).")
    db_backup_window: str = setting(DAILY_WINDOW, "03:00-04:00", "Daily backup window (UTC).")
    db_maintenance_window: str = setting(WEEKLY_WINDOW, "sun:04:30-sun:05:30", "Weekly maintenance window (UTC).")
    db_monitoring_interval: int = setting(Enum(1, 5, 10, 15, 30, 60), EnvDefault(60, 15),
                                          "Enhanced Monitoring granularity (seconds).")
    db_performance_insights_retention_days: int = setting(Enum(*PI_RETENTION_DAYS), 7,
                                                          "Performance Insights retention (7 days is free).")
    db_log_exports: tuple = setting(ListOf(Enum("postgresql", "upgrade", "iam-db-auth-error"), max_items=3),
                                    EnvDefault([], ["postgresql", "upgrade"]),
                                    "Logs exported to CloudWatch Logs (KMS-encrypted groups created first).")
    db_log_statement: str = setting(Enum("none", "ddl", "mod", "all"), "ddl", "PostgreSQL log_statement.")
    db_log_min_duration_ms: int = setting(Int(-1, 3_600_000), 1000,
                                          "log_min_duration_statement in ms (-1 disables slow-query logging).")

    # --- Redis ---
    redis_engine_version: str = setting(Enum(*REDIS_FAMILY), "7.1", "Redis OSS engine version.")
    redis_node_type: str = setting(CACHE_NODE, EnvDefault("cache.t4g.micro", "cache.r6g.large"),
                                   "ElastiCache node type.")
    redis_nodes: int = setting(Int(1, 6), EnvDefault(1, 2), "Cache clusters (primary + replicas).")
    redis_multi_az: bool = setting(Bool(), EnvDefault(False, True), "Multi-AZ with automatic failover (needs >= 2 "
                                   "nodes).")
    redis_snapshot_retention_days: int = setting(Int(0, 35), EnvDefault(1, 7), "Daily snapshot retention (days).")
    redis_snapshot_window: str = setting(DAILY_WINDOW, "05:00-06:00", "Daily snapshot window (UTC).")
    redis_maintenance_window: str = setting(WEEKLY_WINDOW, "sun:06:30-sun:07:30", "Weekly maintenance window (UTC).")
    redis_maxmemory_policy: str = setting(Enum("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu",
                                               "volatile-ttl", "noeviction"), "volatile-lru",
                                          "Eviction policy (parameter group).")

    # --- DynamoDB ---
    tables: dict = setting(MapOf(Section(TableSettings), key=TABLE_NAME, max_items=20), {},
                           "Tables in addition to 'synthetic-data', by short name; same defaults (on-demand, PITR, "
                           "streams, data-key SSE, deletion protection in prod).")

    # --- DocumentDB ---
    docdb_enabled: bool = setting(Bool(), False, "Create the DocumentDB cluster.")
    docdb_engine_version: str = setting(Enum(*DOCDB_FAMILY), "5.0.0", "DocumentDB engine version.")
    docdb_instance_class: str = setting(DOCDB_CLASS, EnvDefault("db.t4g.medium", "db.r6g.large"),
                                        "DocumentDB instance class.")
    docdb_instances: int = setting(Int(1, 16), EnvDefault(1, 2), "DocumentDB instances (>= 2 spreads over AZs).")
    docdb_backup_retention_days: int = setting(Int(1, 35), EnvDefault(1, 14), "DocumentDB backup retention (days).")

    # --- S3 ---
    lifecycle_ia_days: int = setting(Int(30, 3650), 30, "Days before objects move to Standard-IA.")
    lifecycle_glacier_days: int = setting(Int(31, 3650), 90, "Days before objects move to Glacier Flexible Retrieval.")
    lifecycle_noncurrent_expire_days: int = setting(Int(1, 3650), 180, "Days before noncurrent versions expire.")
    lifecycle_abort_multipart_days: int = setting(Int(1, 365), 7, "Days before incomplete multipart uploads abort.")
    access_log_expire_days: int = setting(Int(31, 3650), EnvDefault(90, 365), "Days access logs are kept.")
    bucket_force_destroy: bool = setting(Bool(), EnvDefault(True, False),
                                         "Allow deleting non-empty buckets (dev teardown); never in prod.")

    def validate(self, path: str) -> None:
        if self.db_max_allocated_storage_gb <= self.db_allocated_storage_gb:
            raise ConfigError(f"{path}.dbMaxAllocatedStorageGb", self.db_max_allocated_storage_gb,
                              f"more than dbAllocatedStorageGb ({self.db_allocated_storage_gb}) to enable autoscaling")
        if self.db_read_replica and self.db_backup_retention_days < 1:
            raise ConfigError(f"{path}.dbBackupRetentionDays", self.db_backup_retention_days,
                              "at least 1 when dbReadReplica is true (RDS replicas need automated backups)")
        if _overlaps(self.db_backup_window, self.db_maintenance_window):
            raise ConfigError(f"{path}.dbBackupWindow", self.db_backup_window,
                              f"a window that does not overlap dbMaintenanceWindow ({self.db_maintenance_window})")
        if self.redis_multi_az and self.redis_nodes < 2:
            raise ConfigError(f"{path}.redisNodes", self.redis_nodes, "at least 2 when redisMultiAz is true")
        if self.lifecycle_glacier_days <= self.lifecycle_ia_days:
            raise ConfigError(f"{path}.lifecycleGlacierDays", self.lifecycle_glacier_days,
                              f"more than lifecycleIaDays ({self.lifecycle_ia_days})")
        if "synthetic-data" in self.tables:
            raise ConfigError(f"{path}.tables.synthetic-data", "...", "another name ('synthetic-data' is built in)")


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _overlaps(daily: str, weekly: str) -> bool:
    """Does a daily window overlap a weekly one on its day (RDS rejects overlapping windows)?"""
    start, end = (_minutes(t) for t in daily.split("-"))
    match = re.fullmatch(r"(\w{3}):(\d\d:\d\d)-(\w{3}):(\d\d:\d\d)", weekly)
    if not match:
        return False
    w_start, w_end = _minutes(match.group(2)), _minutes(match.group(4))
    if match.group(1) != match.group(3) or w_end < w_start:
        return True  # spans midnight: be conservative, ask for a clearly separate window
    if end < start:
        end += 24 * 60
    return start < w_end and w_start < end
