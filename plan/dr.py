"""Recovery objectives computed from the plan, not asserted: `python -m plan --stack prod --dr [--json]`.

RPO, per data store: what replicates it to the DR region in THIS plan (a cross-region RDS replica and its
ReplicaLag alarm, S3 replication with or without Replication Time Control, DynamoDB replicas, Secrets Manager
replicas, AWS Backup copies), with the lag that mechanism gives (plan/dr_times.json, each figure sourced).

RTO, for the configured `dr.mode`: the failover steps of functions/dr_failover (docs/dr-failover.md) with their
sourced durations; the DNS step is computed from the plan's own health check (failure threshold x interval) plus
the 60 s alias TTL. backup-restore has no standing region: its RTO is the DB restore and the DR side's
provisioning from the resource-type table (plan/resource_types.json), a lower bound (restore time grows with the data).

`--dr-modes` runs the program once per mode and prices each (plan/cost.py: DR-region resources with the DR
region's price file), so the monthly cost each mode adds is a difference of two estimates.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

from .engine import Plan, Resource

TIMES_PATH = Path(__file__).resolve().parent / "dr_times.json"
MODES = ("backup-restore", "pilot-light", "warm-standby")
TARGETS = {"pilot-light": (3600, 900), "warm-standby": (1200, 900)}   # mode -> (RTO s, RPO s) the issue asks for

RDS = "aws:rds/instance:Instance"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
TABLE = "aws:dynamodb/table:Table"
SECRET = "aws:secretsmanager/secret:Secret"
BACKUP_REPL = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
BACKUP_PLAN = "aws:backup/plan:Plan"
DOCDB = "aws:docdb/cluster:Cluster"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
USER_POOL = "aws:cognito/userPool:UserPool"
ECS_SERVICE = "aws:ecs/service:Service"


def _times() -> dict:
    return json.loads(TIMES_PATH.read_text())


def _create_time(token: str, props: dict | None = None) -> int:
    from .resource_types import load
    info = load().get(token)
    row = (info.create if info is not None else None) or {}
    for v in row.get("variants", []):
        value = _dig(props or {}, v["input"])
        if ("equals" in v and value == v["equals"]) or (v.get("present") and value):
            return int(v["seconds"])
    return int(row.get("seconds", 0))


def _dig(props: dict, path: str) -> Any:
    value: Any = props
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclasses.dataclass
class Rpo:
    store: str                     # e.g. "PostgreSQL postgres", "S3 data-lake"
    mechanism: str
    seconds: float | None       # None: no bound
    source: str
    note: str = ""
    # "to-dr": what the DR region holds of the primary's writes (the failover's loss); "back": what the primary
    # holds, after failback, of the writes made in the DR region during the outage
    direction: str = "to-dr"

    def to_json(self) -> dict:
        return {"store": self.store, "mechanism": self.mechanism, "rpoSeconds": self.seconds, "source": self.source,
                "note": self.note, "direction": self.direction}


@dataclasses.dataclass
class Step:
    name: str
    low: float
    high: float
    source: str

    def to_json(self) -> dict:
        return {"step": self.name, "lowSeconds": self.low, "highSeconds": self.high, "source": self.source}


@dataclasses.dataclass
class Objectives:
    stack: str
    mode: str
    enabled: bool
    primary_region: str
    dr_region: str | None
    rpo: list[Rpo]
    steps: list[Step]
    not_covered: list[str]
    notes: list[str]
    # failback: the write outage from fencing the DR writers to DNS back on the primary (functions/dr_failover's
    # failback steps in that window; the replica re-creations before and after it are not client-facing)
    failback_steps: list[Step] = dataclasses.field(default_factory=list)

    @property
    def failback_low(self) -> float:
        return sum(s.low for s in self.failback_steps)

    @property
    def failback_high(self) -> float:
        return sum(s.high for s in self.failback_steps)

    @property
    def rto_low(self) -> float:
        return sum(s.low for s in self.steps)

    @property
    def rto_high(self) -> float:
        return sum(s.high for s in self.steps)

    @property
    def worst_rpo(self) -> float | None:
        values = [r.seconds for r in self.rpo]
        known = [v for v in values if v is not None]
        return None if not values or len(known) < len(values) else max(known)

    def meets(self) -> bool | None:
        """Against the issue's targets for this mode (None: the mode has none)."""
        if self.mode not in TARGETS:
            return None
        rto, rpo = TARGETS[self.mode]
        worst = self.worst_rpo
        return bool(self.steps) and self.rto_high <= rto and worst is not None and worst <= rpo

    def to_json(self) -> dict:
        return {"stack": self.stack, "mode": self.mode, "enabled": self.enabled, "primaryRegion": self.primary_region,
                "drRegion": self.dr_region, "rpo": [r.to_json() for r in self.rpo],
                "worstRpoSeconds": self.worst_rpo, "rto": {"lowSeconds": self.rto_low, "highSeconds": self.rto_high,
                                                           "steps": [s.to_json() for s in self.steps]},
                "failbackRto": {"lowSeconds": self.failback_low, "highSeconds": self.failback_high,
                                "steps": [s.to_json() for s in self.failback_steps]},
                "targets": ({"rtoSeconds": TARGETS[self.mode][0], "rpoSeconds": TARGETS[self.mode][1],
                             "met": self.meets()} if self.mode in TARGETS else None),
                "notCovered": self.not_covered, "notes": self.notes}


# ------------------------------------------------------------------------------------------- reading the plan
def dr_config(plan: Plan) -> dict:
    """The DR settings of the stack as parsed by the program's own config (defaults included)."""
    from components.config import load_settings
    raw = {k.split(":", 1)[1]: v for k, v in plan.config.items() if k.startswith("ai-platform:")}
    raw = {k: (json.loads(v) if isinstance(v, str) else v) for k, v in raw.items()}
    d = load_settings(raw, stack=plan.stack, region=plan.config.get("aws:region") or plan.region).dr
    return {"enabled": d.enabled, "mode": d.mode, "region": d.region, "threshold": d.health_check_failure_threshold,
            "interval": d.health_check_interval, "zone": d.hosted_zone_id}


class _View:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.by_urn = plan.by_urn()

    def region(self, r: Resource) -> str:
        prov = self.by_urn.get(r.provider) if r.provider else None
        region = prov.props.get("region") if prov is not None else None
        return region if isinstance(region, str) and region else self.plan.region

    def source_of(self, r: Resource, prop: str) -> Resource | None:
        for urn in r.propertyDependencies.get(prop, []):
            if urn in self.by_urn:
                return self.by_urn[urn]
        return None


def objectives(plan: Plan, cfg: dict | None = None) -> Objectives:
    cfg = cfg or dr_config(plan)
    times = _times()
    rep, steps_t = times["replication"], times["steps"]
    v = _View(plan)
    primary = plan.region
    dr_region = cfg["region"] if cfg["enabled"] else None
    def in_dr(r):
        return dr_region is not None and v.region(r) == dr_region
    rpo: list[Rpo] = []
    notes: list[str] = []
    not_covered: list[str] = []
    backup_daily = bool(plan.of_type(BACKUP_PLAN)) and any(
        (rule.get("copyActions") or []) for p in plan.of_type(BACKUP_PLAN) for rule in (p.props.get("rules") or []))

    # a standing DR region serves writes after a failover: each store's RPO back to the primary is reported too
    standing = cfg["enabled"] and cfg["mode"] in ("pilot-light", "warm-standby")

    # --- PostgreSQL --------------------------------------------------------------------------------
    dbs = [r for r in plan.of_type(RDS) if not r.props.get("replicateSourceDb") and not in_dr(r)]
    dr_replicas = [r for r in plan.of_type(RDS) if r.props.get("replicateSourceDb") and in_dr(r)]
    lag_alarms = {a.props.get("dimensions", {}).get("DBInstanceIdentifier"): a for a in plan.of_type(ALARM)
                  if a.props.get("metricName") == "ReplicaLag"}
    for db in dbs:
        name = f"PostgreSQL {db.props.get('identifier') or db.name}"
        replica = next((r for r in dr_replicas), None)
        if replica is not None:
            alarm = lag_alarms.get(replica.props.get("identifier"))
            row = rep["rds-cross-region-replica"]
            if alarm is not None:
                bound = float(alarm.props.get("threshold") or 0)
                rpo.append(Rpo(name, f"cross-region read replica {replica.props.get('identifier')} (async)", bound,
                               row["source"], f"typically ~{row['typical_seconds']} s; bound = ReplicaLag alarm "
                                              f"{alarm.props.get('name')} threshold"))
            else:
                rpo.append(Rpo(name, "cross-region read replica (async), no ReplicaLag alarm", None, row["source"],
                               "unbounded: nothing pages when the lag grows"))
            if standing:
                back_row = rep["rds-failback-replica"]
                rpo.append(Rpo(name, "failback: the primary re-created as a replica of the promoted DR database, "
                               "promoted after the lag gate", back_row["typical_seconds"], back_row["source"],
                               direction="back"))
        elif any(in_dr(r) for r in plan.of_type(BACKUP_REPL)):
            row = rep["rds-automated-backups-replication"]
            rpo.append(Rpo(name, "automated backups (snapshots + transaction logs) replicated", row["typical_seconds"],
                           row["source"]))
        elif backup_daily:
            row = rep["backup-copy"]
            rpo.append(Rpo(name, "AWS Backup daily copy to the DR vault", row["typical_seconds"], row["source"]))
        else:
            rpo.append(Rpo(name, "no copy outside the primary region", None, "-"))

    # --- S3 --------------------------------------------------------------------------------------------
    # Each configuration by the region it lives in (its bucket's): the primary's replicate to the DR region, the DR
    # replicas' back to the primary (two-way, standing modes).
    forward: dict[str, tuple[str, bool]] = {}
    back: dict[str, tuple[Resource, bool]] = {}
    for cfgr in plan.of_type(REPLICATION):
        bucket = v.source_of(cfgr, "bucket")
        tags = (bucket.props.get("tags") or {}) if bucket is not None else {}
        rules = cfgr.props.get("rules") or []
        rtc = any(_dig(rule, "destination.replicationTime.status") == "Enabled" for rule in rules)
        if in_dr(cfgr):
            # keyed by the primary bucket it writes into (the rule's destination)
            for rule in rules:
                back[str(_dig(rule, "destination.bucket") or "").split(":::")[-1]] = (cfgr, rtc)
        else:
            label = tags.get("Purpose") or (bucket.name if bucket is not None else cfgr.name)
            forward[str((bucket.props.get("bucket") if bucket is not None else None) or label)] = (label, rtc)
    for label, rtc in forward.values():
        row = rep["s3-rtc" if rtc else "s3-crr"]
        rpo.append(Rpo(f"S3 {label}", "cross-region replication" + (" with RTC" if rtc else " (no RTC)"),
                       row["typical_seconds"], row["source"]))
    if standing:
        for name, (key, _) in forward.items():
            if name in back:
                rtc = back[name][1]
                row = rep["s3-rtc" if rtc else "s3-crr"]
                rpo.append(Rpo(f"S3 {key}", "the DR replica replicates back (two-way" + (", RTC)" if rtc else ", no RTC)"),
                               row["typical_seconds"], row["source"], direction="back"))
            else:
                rpo.append(Rpo(f"S3 {key}", "no replication back: objects written in the DR region stay there", None,
                               "-", "unbounded: rows written during the outage may point at objects the primary lacks",
                               direction="back"))

    # --- DynamoDB ----------------------------------------------------------------------------------------
    replicated_tables = {id(v.source_of(r, "globalTableArn")) for r in plan.of_type(TABLE_REPLICA) if in_dr(r)}
    for table in plan.of_type(TABLE):
        label = f"DynamoDB {table.props.get('name') or table.name}"
        if id(table) in replicated_tables:
            row = rep["dynamodb-global-table"]
            rpo.append(Rpo(label, "global-table replica in the DR region", row["typical_seconds"], row["source"]))
            if standing:
                # global tables are multi-active: a write in the DR region replicates to the primary's table
                rpo.append(Rpo(label, "global table, multi-active: DR-region writes replicate back",
                               row["typical_seconds"], row["source"], direction="back"))
        else:
            if backup_daily:
                row = rep["backup-copy"]
                rpo.append(Rpo(label, "AWS Backup daily copy to the DR vault", row["typical_seconds"], row["source"]))
            else:
                rpo.append(Rpo(label, "no copy outside the primary region", None, "-"))
            if standing:
                rpo.append(Rpo(label, "no DR-region replica: a table restored there does not replicate back", None,
                               "-", direction="back"))

    for cluster in plan.of_type(DOCDB):
        row = rep["backup-copy"]
        rpo.append(Rpo(f"DocumentDB {cluster.props.get('clusterIdentifier') or cluster.name}",
                       "AWS Backup daily copy to the DR vault" if backup_daily else "none",
                       row["typical_seconds"] if backup_daily else None, row["source"]))

    # --- secrets -----------------------------------------------------------------------------------------
    secrets = [s for s in plan.of_type(SECRET) if not in_dr(s)]
    replicated = [s for s in secrets if s.props.get("replicas")]
    if replicated:
        row = rep["secrets-manager-replica"]
        rpo.append(Rpo(f"Secrets Manager ({len(replicated)} secret(s))", "replicas in the DR region",
                       row["typical_seconds"], row["source"]))
    if dr_region and len(replicated) < len(secrets):
        not_covered.append(f"{len(secrets) - len(replicated)} secret(s) not replicated (e.g. the primary cache's AUTH "
                           "token: the DR standby cache has its own); the RDS-managed master secret is managed "
                           "again on the promoted replica")

    # --- what is deliberately not replicated --------------------------------------------------------------
    caches = plan.of_type(CACHE)
    if caches:
        standby = [c for c in caches if in_dr(c)]
        not_covered.append(
            "ElastiCache Redis: not replicated (no Global Datastore); "
            + (f"the DR standby cache ({standby[0].props.get('nodeType')}) starts empty and refills from the database "
               "(derived data only)" if standby else
               "no cache stands in the DR region: it is built with the rest at recovery and starts empty"))
    queues = plan.of_type("aws:sqs/queue:Queue")
    if queues and dr_region:
        dr_queues = [q for q in queues if in_dr(q)]
        not_covered.append("SQS queues and the event bus: not replicated (work in flight, not state); " + (
            f"the DR region has its own bus and {len(dr_queues)} queues, empty at failover; messages still in the "
            "primary's queues wait there (retention) and are redriven or replayed from the bus archive after "
            "failback" if dr_queues else "no DR-region queues (backup-restore: created with the DR region)"))
    if plan.of_type(USER_POOL):
        not_covered.append("Cognito user pool: regional, not replicated; the stack keeps a standing DR-region pool "
                           "(same settings, accepted by the DR API); users are imported into it hourly (DrUserSync) and reset their "
                           "passwords and MFA there (docs/dr.md); their primary-region sessions do not carry over")

    # --- RTO ---------------------------------------------------------------------------------------------
    def fixed(name: str, key: str | None = None) -> Step:
        row = steps_t[key or name]
        return Step(name, row["low"], row["high"], row["source"])

    steps: list[Step] = []
    failback_steps: list[Step] = []
    mode = cfg["mode"] if cfg["enabled"] else "backup-restore"
    checks = [c for c in plan.of_type(HEALTH_CHECK)]
    threshold = int((checks[0].props.get("failureThreshold") if checks else None) or cfg["threshold"])
    interval = int((checks[0].props.get("requestInterval") if checks else None) or cfg["interval"])
    ttl = steps_t["move-dns"]["alias_ttl"]
    dns = Step("move-dns", threshold * interval, threshold * interval + ttl,
               f"{threshold} x {interval} s health check + {ttl} s alias TTL. " + steps_t["move-dns"]["source"])
    if checks and checks[0].props.get("type") == "CLOUDWATCH_METRIC":
        # The stack's check follows the primary API's 5xx alarm (an HTTPS probe cannot pass the authorizer): the
        # procedure disables and inverts it (always unhealthy), which takes effect at Route 53's next evaluation (bounded here by the endpoint
        # check's threshold x interval, an assumption); unattended, the alarm's own periods move the name.
        dns = Step("move-dns", threshold * interval, threshold * interval + ttl,
                   f"disabled+inverted CloudWatch-metric health check, assumed seen within {threshold} x {interval} s, + {ttl} s "
                   "alias TTL (an unattended outage moves the name after the primary API alarm's evaluation "
                   "periods). " + steps_t["move-dns"]["source"])
    if not checks:
        notes.append("no Route 53 health check in the plan (dr.hostedZoneId unset): move-dns assumes the records "
                     "are moved the same way (set dr.hostedZoneId to have the stack own them)")
    if dr_region is None:
        notes.append("dr.enabled is false: no second region; recovery is from the in-region AWS Backup vault")
    elif mode in ("pilot-light", "warm-standby"):
        dr_services = [s for s in plan.of_type(ECS_SERVICE) if in_dr(s)]
        if not dr_replicas or not dr_services:
            notes.append(f"mode {mode} but the plan has no DR replica or DR services: nothing to fail over to")
        bake = _bake_seconds(dr_services)
        bake_step = Step(f"deployment-bake (blue/green, {_dur(bake)})", bake, bake,
                         steps_t["deployment-bake"]["source"])
        steps = [fixed("preflight"), fixed("promote-replica"), fixed("point-services"),
                 fixed("use-current-images", "use-current-images-warm" if mode == "warm-standby" else None),
                 fixed("scale-services"),
                 fixed("wait-services-stable", "wait-services-stable-warm" if mode == "warm-standby" else None),
                 *([bake_step] if mode == "pilot-light" and bake else []), dns]
        # Failback (the primary back, the DR database its source): the write outage runs from the fence to DNS.
        primary_services = [s for s in plan.of_type(ECS_SERVICE) if not in_dr(s)]
        primary_bake = _bake_seconds(primary_services)
        failback_steps = [fixed("fence-dr-services"), fixed("wait-replica-caught-up"),
                          Step("promote-primary", steps_t["promote-replica"]["low"], steps_t["promote-replica"]["high"],
                               steps_t["promote-replica"]["source"]),
                          fixed("restore-primary-settings"), fixed("point-services"), fixed("scale-services"),
                          Step("wait-primary-services-stable", steps_t["wait-services-stable"]["low"],
                               steps_t["wait-services-stable"]["high"], steps_t["wait-services-stable"]["source"]),
                          # a new deployment (and its bake) only where the endpoint parameter changed since the
                          # tasks started (the re-created primary keeps its identifier, hence its address)
                          *([Step(f"deployment-bake (primary, 0-{_dur(primary_bake)})", 0, primary_bake,
                                  steps_t["deployment-bake"]["source"])] if primary_bake else []),
                          fixed("move-dns-back")]
    else:
        # backup-restore: the DR side is created at the disaster (`pulumi up` with a standing mode): the VPC first,
        # then the DB restored into its subnets while the load balancer and services come up beside it.
        first_db = dbs[0] if dbs else None
        vpc = _create_time("awsx:ec2:Vpc")
        restore = _create_time(RDS, first_db.props if first_db is not None else {})
        front = _create_time("aws:lb/loadBalancer:LoadBalancer") + _create_time(ECS_SERVICE, {"waitForSteadyState": True})
        steps = [Step("provision-dr-network (awsx VPC, NAT)", vpc, vpc, steps_t["provision-dr-region"]["source"]),
                 Step(f"restore-db-from-backup (ALB + services beside it: {_dur(front)})", max(restore, front),
                      max(restore, front), steps_t["restore-db-from-backup"]["source"]), dns]
        notes.append("backup-restore: a lower bound; the database restore grows with its size")
    # a replication nobody is paged about can break the RPO silently
    notes.extend(f"no alarm: {gap}" for gap in replication_alarm_gaps(plan))
    # every alarm able to return to OK in standby and after the procedure's planned steps (update mode: the manifest)
    notes.extend(f"alarm cannot return to OK: {line}" for line in alarm_recovery(plan))
    return Objectives(stack=plan.stack, mode=mode, enabled=cfg["enabled"], primary_region=primary,
                      dr_region=dr_region, rpo=rpo, steps=steps, not_covered=not_covered, notes=notes,
                      failback_steps=failback_steps)


def _bake_seconds(services) -> float:
    """The longest time a service's deployment waits after traffic moved before it completes: the blue/green bake
    (deploymentConfiguration.bakeTimeInMinutes), plus the canary's or each linear step's bake."""
    def one(props: dict) -> float:
        dc = props.get("deploymentConfiguration") or {}
        if not isinstance(dc, dict) or dc.get("strategy") not in ("BLUE_GREEN", "CANARY", "LINEAR"):
            return 0.0
        minutes = float(dc.get("bakeTimeInMinutes") or 0)
        canary = dc.get("canaryConfiguration") or {}
        minutes += float(canary.get("canaryBakeTimeInMinutes") or 0) if isinstance(canary, dict) else 0
        linear = dc.get("linearConfiguration") or {}
        if isinstance(linear, dict) and linear.get("stepPercent"):
            steps = max(1, int(100 // float(linear["stepPercent"])))
            minutes += steps * float(linear.get("stepBakeTimeInMinutes") or 0)
        return minutes * 60
    return max((one(s.props) for s in services), default=0.0)


# ------------------------------------------------------------------------------------------- reports
def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "unbounded"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.0f} h"


def _short(source: str, width: int = 70) -> str:
    return source if len(source) <= width else source[:width - 1] + "…"


def text(o: Objectives) -> str:
    out = [f"disaster recovery: stack {o.stack}, mode {o.mode}, {o.primary_region} -> {o.dr_region or '(none)'}"]
    for direction, title in (("to-dr", "RPO per data store (primary -> DR region):"),
                             ("back", "RPO of what is written in the DR region during the outage (back to the "
                                      "primary at failback):")):
        rows = [r for r in o.rpo if r.direction == direction]
        if not rows:
            continue
        out.append(f"  {title}")
        for r in rows:
            out.append(f"    {r.store[:40]:<40} {_dur(r.seconds):>9}  {r.mechanism[:62]}")
            out.append(f"    {'':<40} {'':>9}  source: {_short(r.source, 62)}")
    if o.steps:
        out.append(f"  RTO ({o.mode}): {_dur(o.rto_low)} - {_dur(o.rto_high)}")
        for s in o.steps:
            out.append(f"    {s.name[:52]:<52} {_dur(s.low):>9} - {_dur(s.high)}")
            out.append(f"      source: {_short(s.source, 108)}")
    if o.failback_steps:
        out.append(f"  failback RTO (write outage, fence to DNS back): {_dur(o.failback_low)} - {_dur(o.failback_high)}")
        for s in o.failback_steps:
            out.append(f"    {s.name[:52]:<52} {_dur(s.low):>9} - {_dur(s.high)}")
            out.append(f"      source: {_short(s.source, 108)}")
    met = o.meets()
    if met is not None:
        rto, rpo = TARGETS[o.mode]
        out.append(f"  targets ({o.mode}): RTO <= {_dur(rto)}, RPO <= {_dur(rpo)} for every store: "
                   + ("met" if met else "NOT met"))
    for item in o.not_covered:
        out.append(f"  not replicated: {item}")
    for note in o.notes:
        out.append(f"  note: {note}")
    return "\n".join(out)


@contextlib.contextmanager
def released():
    """The program as `pulumi up` sees it once the pipelines have released: every ECR repository (and its DR-region
    replica) holds a tagged image. The offline plan's default is a new stack's empty repositories, where every
    service is parked at 0 tasks (components/ecs_services.py) and its count unknown in a preview: warm-standby's
    standby tasks, like the primary's, would price at nothing. A month of a mode is priced in this steady state."""
    from . import mocks
    token = "aws:ecr/getImages:getImages"
    original = mocks.INVOKES[token]
    mocks.INVOKES[token] = lambda a, r: {**original(a, r), "imageIds": [
        {"imageDigest": "sha256:" + "0" * 64, "imageTag": "release"}]}
    try:
        yield
    finally:
        mocks.INVOKES[token] = original


def mode_rows(plan: Plan, plan_for=None) -> list[dict]:
    """Each mode of this stack: its monthly cost (total and DR region), what it adds to backup-restore, RTO/RPO.
    Priced after the first release, in update mode (every count known: the primary's services at their desired
    count, the DR services at 0 in pilot-light and at standbyCount in warm-standby), whatever --mode says.
    `plan_for(mode)` supplies that plan instead of running the program (the tests' cache)."""
    from .cost import default_usage_path, estimate
    from .engine import main_program, run_program

    base_cfg = dict(plan.config)
    dr = dict(json.loads(base_cfg["ai-platform:dr"]) if isinstance(base_cfg.get("ai-platform:dr"), str)
              else base_cfg.get("ai-platform:dr") or {})
    rows: list[dict[str, Any]] = []
    for mode in MODES:
        cfg = {**base_cfg, "ai-platform:dr": {**dr, "enabled": True, "mode": mode}}
        if plan_for is not None:
            other = plan_for(mode)
        else:
            with released():
                other = run_program(main_program(), config=cfg, stack=plan.stack, preview=False)
        est = estimate(other, usage_file=default_usage_path(plan.stack))
        o = objectives(other)
        region = o.dr_region
        rows.append({"mode": mode, "monthly": round(est.total, 2),
                     "drRegionMonthly": round(sum(line.monthly for line in est.lines if line.region == region), 2),
                     "rtoLowSeconds": o.rto_low, "rtoHighSeconds": o.rto_high, "worstRpoSeconds": o.worst_rpo,
                     "targetsMet": o.meets()})
    base: float = rows[0]["monthly"]
    for row in rows:
        row["addsMonthly"] = round(row["monthly"] - base, 2)
    return rows


def modes_text(rows: list[dict]) -> str:
    out = ["DR modes (monthly USD; adds = versus backup-restore with dr.enabled):",
           f"  {'mode':<15} {'total':>10} {'DR region':>10} {'adds':>9}  {'RTO':>17}  {'worst RPO':>9}"]
    for r in rows:
        rto = f"{_dur(r['rtoLowSeconds'])}-{_dur(r['rtoHighSeconds'])}"
        out.append(f"  {r['mode']:<15} {r['monthly']:>10,.2f} {r['drRegionMonthly']:>10,.2f} {r['addsMonthly']:>9,.2f}"
                   f"  {rto:>17}  {_dur(r['worstRpoSeconds']):>9}")
    return "\n".join(out)


def cli(args, plan: Plan) -> tuple[dict, list[str]]:
    """`--dr` and `--dr-modes` for plan/__main__.py: (keys added to --json, text sections)."""
    doc: dict = {}
    sections: list[str] = []
    if getattr(args, "dr", False):
        o = objectives(plan)
        doc["disasterRecovery"] = o.to_json()
        sections.append(text(o))
    if getattr(args, "dr_modes", False):
        rows = mode_rows(plan)
        doc["disasterRecoveryModes"] = rows
        sections.append(modes_text(rows))
    return doc, sections


# ------------------------------------------------------------------------------------------- silent replication
def replication_alarm_gaps(plan: Plan) -> list[str]:
    """Every replication the plan builds must page when it fails or falls behind (issue 26, silent failures):
    each S3 replication rule (both directions) needs an OperationsFailedReplication alarm in its SOURCE bucket's
    region and a ReplicationLatency alarm in its DESTINATION bucket's region (where S3 publishes them: S3 User
    Guide, 'Using S3 Replication metrics'), dimensioned SourceBucket/DestinationBucket/RuleId; each DynamoDB table
    replica needs a ReplicationLatency alarm (TableName, ReceivingRegion) in each of the two regions (DynamoDB
    Developer Guide, 'Monitoring global tables'); each notifying a topic of its own region. One line per gap."""
    v = _View(plan)
    alarms: dict[tuple, list[Resource]] = {}
    for a in plan.of_type(ALARM):
        key = (a.props.get("namespace"), a.props.get("metricName"), v.region(a))
        alarms.setdefault(key, []).append(a)

    def has(namespace: str, metric: str, region: str, dims: dict) -> bool:
        for a in alarms.get((namespace, metric, region), []):
            actions = [str(x) for x in (a.props.get("alarmActions") or [])]
            if (a.props.get("dimensions") or {}) == dims and actions and \
                    all(f":{region}:" in x for x in actions if x.startswith("arn:")):
                return True
        return False

    def bucket_name(r: Resource | None, fallback: Any) -> str:
        return str((r.props.get("bucket") if r is not None else None) or fallback)

    gaps = []
    for cfgr in plan.of_type(REPLICATION):
        source = v.source_of(cfgr, "bucket")
        src_region = v.region(cfgr)
        for rule in cfgr.props.get("rules") or []:
            dest_arn = str(_dig(rule, "destination.bucket") or "")
            dest_name = dest_arn.split(":::")[-1]
            dest = next((b for b in plan.of_type("aws:s3/bucket:Bucket") if b.props.get("bucket") == dest_name), None)
            dst_region = v.region(dest) if dest is not None else None
            dims = {"SourceBucket": bucket_name(source, cfgr.props.get("bucket")), "DestinationBucket": dest_name,
                    "RuleId": rule.get("id")}
            where = f"{dims['SourceBucket']} -> {dest_name} (rule {rule.get('id')})"
            if not has("AWS/S3", "OperationsFailedReplication", src_region, dims):
                gaps.append(f"S3 replication {where}: no OperationsFailedReplication alarm in {src_region}")
            if dst_region is None or not has("AWS/S3", "ReplicationLatency", dst_region, dims):
                gaps.append(f"S3 replication {where}: no ReplicationLatency alarm in {dst_region or 'its destination region'}")
    for replica in plan.of_type(TABLE_REPLICA):
        table = v.source_of(replica, "globalTableArn")
        name = (table.props.get("name") if table is not None else None) or str(replica.props.get("globalTableArn"))
        regions = [v.region(table) if table is not None else plan.region, v.region(replica)]
        for here, there in (regions, regions[::-1]):
            if not has("AWS/DynamoDB", "ReplicationLatency", here, {"TableName": name, "ReceivingRegion": there}):
                gaps.append(f"DynamoDB {name}: no ReplicationLatency alarm in {here} (ReceivingRegion {there})")
    return gaps


# ------------------------------------------------------------------------------------------- alarms after the procedure
RDS_ID, ECS_SVC = "DBInstanceIdentifier", "ServiceName"
REPLICA_ONLY = {("AWS/RDS", "ReplicaLag")}     # metrics RDS emits for a read replica only


@dataclasses.dataclass
class _World:
    """What the alarms' dimensions name, as the procedure leaves it: DB instances by (region, identifier) -> is a
    replica; ECS services by (region, name) -> desired count; alarms whose missing-data handling the procedure set."""
    dbs: dict
    services: dict
    missing: dict = dataclasses.field(default_factory=dict)

    def rename(self, region: str, ident: str, suffix: str) -> None:
        if (region, ident) in self.dbs:
            self.dbs[(region, ident + suffix)] = self.dbs.pop((region, ident))


def _effects(doc: dict, suffix: str) -> dict:
    """What each step of functions/dr_failover does to the resources alarms name (the procedure's steps by name,
    docs/dr-failover.md; the moto tests of tests/test_fn_dr_failover.py check the procedure does it). A step of
    the procedure missing here is reported, so the model cannot fall behind the procedure silently."""
    p, d = doc["primaryRegion"], doc["drRegion"]
    primary_db, dr_db = doc["dbPrimaryId"], doc["dbReplicaId"]
    relaxed = {a: "notBreaching" for a in doc.get("drReplicaAlarms") or {}}

    def scale(region: str, counts: dict):
        return lambda w: w.services.update({(region, s): n for s, n in counts.items()})

    def promote(region: str, ident: str, alarms: dict | None = None):
        def run(w: _World):
            if (region, ident) in w.dbs:
                w.dbs[(region, ident)] = False
            w.missing.update({(region, a): v for a, v in (alarms or {}).items()})
        return run

    def replica(region: str, ident: str, alarms: dict | None = None):
        def run(w: _World):
            w.dbs[(region, ident)] = True
            w.missing.update({(region, a): v for a, v in (alarms or {}).items()})
        return run

    def readers(w: _World):
        for reader in doc.get("primaryReaderIds") or []:
            w.rename(p, reader, suffix)
            w.dbs[(p, reader)] = True

    def none(w: _World):
        return None
    return {
        "preflight": none, "promote-replica": promote(d, dr_db, relaxed), "point-services": none,
        "use-current-images": none, "scale-services": scale(d, doc.get("desiredCounts") or {}),
        "wait-services-stable": none, "move-dns": none,
        "retire-old-primary": lambda w: w.rename(p, primary_db, suffix),
        "replicate-to-primary": replica(p, primary_db), "fence-dr-services": scale(d, {s: 0 for s in doc["services"]}),
        "wait-replica-caught-up": none, "promote-primary": promote(p, primary_db), "restore-primary-settings": none,
        "replicate-primary-readers": readers, "point-primary-services": none,
        "scale-primary-services": scale(p, doc.get("primaryDesiredCounts") or {}),
        "wait-primary-services-stable": none, "move-dns-back": none,
        "retire-dr-db": lambda w: w.rename(d, dr_db, suffix),
        "replicate-to-dr": replica(d, dr_db, dict(doc.get("drReplicaAlarms") or {})),
        "standby-dr-services": scale(d, doc.get("standbyCounts") or {}),
    }


def _alarm_metrics(props: dict) -> list[tuple[Any, Any, dict]]:
    if props.get("metricQueries"):
        return [(q["metric"].get("namespace"), q["metric"].get("metricName"), q["metric"].get("dimensions") or {})
                for q in props["metricQueries"] if isinstance(q.get("metric"), dict)]
    return [(props.get("namespace"), props.get("metricName"), props.get("dimensions") or {})]


def _emits(w: _World, region: str, namespace: str, metric: str, dims: dict) -> tuple[bool, str]:
    """Does the resource the dimensions name exist in this world and emit the metric? (Resources the procedure
    does not change are taken to exist and emit.)"""
    if namespace == "AWS/RDS" and RDS_ID in dims:
        ident = dims[RDS_ID]
        if (region, ident) not in w.dbs:
            return False, f"no DB instance {ident} in {region}"
        if (namespace, metric) in REPLICA_ONLY and not w.dbs[(region, ident)]:
            return False, f"{ident} is not a replica (no {metric})"
        return True, ""
    if namespace == "AWS/ECS" and ECS_SVC in dims and (region, dims[ECS_SVC]) in w.services:
        if not w.services[(region, dims[ECS_SVC])]:
            return False, f"service {dims[ECS_SVC]} at 0 tasks (no {metric})"
    return True, ""


def alarm_recovery(plan: Plan, steps: dict[str, list[str]] | None = None) -> list[str]:
    """Issue 26: every alarm the stack builds must be able to return to OK in standby, after the failover's planned
    steps and after the failback's: in each of those worlds, either its metric is emitted by the resource its
    dimensions name, or its missing-data handling (the stack's, or what the procedure set) is notBreaching.
    Otherwise it holds ALARM (breaching), INSUFFICIENT_DATA (missing) or its last state (ignore): one line each.
    `steps` (operation -> step names) defaults to functions/dr_failover's own lists for the plan's manifest.
    The primary region is taken as alive (a planned failover, a rehearsal); in a real outage its alarms do not
    evaluate at all. An empty list when the plan has no DR manifest (no standing DR region)."""
    doc = plan.exports.get("drManifest") if isinstance(plan.exports, dict) else None
    if not isinstance(doc, dict) or "primaryRegion" not in doc:
        return []
    from functions.dr_failover.manifest import parse
    from functions.dr_failover.procedure import RETIRED_SUFFIX, Procedure
    if steps is None:
        proc = Procedure(parse(doc), clients=lambda service, region: None)
        steps = {"failover": [s.name for s in proc.failover_steps()],
                 "failback": [s.name for s in proc.failback_steps()]}
    effects = _effects(doc, RETIRED_SUFFIX)
    v = _View(plan)
    w = _World(dbs={(v.region(r), r.props.get("identifier")): bool(r.props.get("replicateSourceDb"))
                    for r in plan.of_type(RDS)},
               services={**{(doc["primaryRegion"], s): n for s, n in (doc.get("primaryDesiredCounts") or {}).items()},
                         **{(doc["drRegion"], s): n for s, n in (doc.get("standbyCounts") or {}).items()}})
    alarms = [(a, v.region(a)) for a in plan.of_type(ALARM)]
    out: list[str] = []

    def judge(phase: str) -> None:
        for a, region in alarms:
            name = a.props.get("name") or a.name
            results = [_emits(w, region, *m) for m in _alarm_metrics(a.props)]
            if any(ok for ok, _ in results):
                continue
            missing = w.missing.get((region, name), a.props.get("treatMissingData") or "missing")
            if missing == "notBreaching":
                continue
            stays = {"breaching": "ALARM", "ignore": "its last state"}.get(missing, "INSUFFICIENT_DATA")
            why = "; ".join(r for _, r in results)
            out.append(f"{name} ({region}) {phase}: {why}, treatMissingData {missing}: it stays {stays}")

    judge("in standby")
    for operation in ("failover", "failback"):
        for step in steps[operation]:
            if step not in effects:
                out.append(f"{operation} step {step}: its effect on the alarms' resources is not modelled "
                           "(plan/dr.py _effects)")
                continue
            effects[step](w)
        judge(f"after {operation}")
    return out
