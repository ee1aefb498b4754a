"""The DR manifest: the identifiers of the DR tier's resources, as the stack exports them (docs/dr-failover.md).

Validated once, up front: a wrong or missing key is one line naming the key, the value and what is accepted.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
DB_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,62}$")
SSM_NAME = re.compile(r"^/[a-zA-Z0-9_.\-/]{1,1010}$")
MODES = ("pilot-light", "warm-standby")


class ManifestError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Manifest:
    stack: str
    mode: str
    primary_region: str
    dr_region: str
    db_primary_id: str
    db_replica_id: str
    db_endpoint_parameter: str          # SSM parameter (DR region) the DR task definitions read the DB host from
    cluster_name: str                   # DR-region ECS cluster
    services: tuple                     # DR-region ECS service names
    desired_counts: dict                # service -> count after failover
    standby_counts: dict                # service -> count in standby (pilot-light 0, warm-standby the minimum)
    health_check_ids: tuple             # health checks of the PRIMARY failover records (inverted to fail over)
    primary_cluster_name: str
    primary_services: tuple
    primary_desired_counts: dict
    primary_db_endpoint_parameter: str  # the same parameter in the primary region
    primary_kms_key_id: str             # primary-region key of the replica re-created there at failback
    primary_db_subnet_group: str
    primary_security_group_ids: tuple
    dr_kms_key_id: str                  # DR-region key of the DR replica re-created at failback
    dr_db_subnet_group: str
    dr_security_group_ids: tuple
    state_parameter: str
    hosted_zone_id: str | None = None
    records: tuple = ()                 # [{"name", "type"}]: failover record pairs checked by preflight
    db_secret_arn: str | None = None  # optional DR-region JSON secret whose "host"/"port" are updated too
    db_instance_class: str | None = None
    backup_retention_days: int = 7
    max_replica_lag_seconds: int = 0
    api_endpoints: dict = dataclasses.field(default_factory=dict)   # {"primary": url, "dr": url}: where clients go
    api_domain_name: str | None = None
    release_parameters: dict = dataclasses.field(default_factory=dict)   # DR service -> SSM parameter of its image
    primary_db_parameter_group: str | None = None   # restored on the new primary at failback (and its readers)
    primary_multi_az: bool = False                  # restored on the new primary at failback
    primary_reader_ids: tuple = ()                  # same-region read replicas re-created from the new primary
    dr_db_parameter_group: str | None = None        # the re-created DR replica's parameter group
    user_pool_ids: dict = dataclasses.field(default_factory=dict)   # {"primary", "dr"}: preflight checks the DR pool
    # DR-region alarms on a metric only a replica emits -> the treatMissingData the stack gives them: promote-replica
    # sets them notBreaching (a promoted instance reports no ReplicaLag), replicate-to-dr restores these values
    replica_alarms: dict = dataclasses.field(default_factory=dict)

    @property
    def digest(self) -> str:
        import hashlib
        return hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True, default=list).encode()).hexdigest()[:12]


def _get(raw: dict, key: str, kind: type, what: str, default: Any = dataclasses.MISSING, src: str = "") -> Any:
    if key not in raw or raw[key] is None:
        if default is dataclasses.MISSING:
            raise ManifestError(f"{src}: {key} missing ({what})")
        return default
    value = raw[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ManifestError(f"{src}: {key} = {value!r} is not {what}")
    if not isinstance(value, kind):
        raise ManifestError(f"{src}: {key} = {value!r} is not {what}")
    return value


def _counts(raw: dict, key: str, services: tuple, src: str, default: dict | None = None) -> dict:
    counts = _get(raw, key, dict, "an object service -> count", default if default is not None else dataclasses.MISSING,
                  src)
    for svc in services:
        value = counts.get(svc, (default or {}).get(svc))
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            raise ManifestError(f"{src}: {key}.{svc} = {value!r} is not a task count from 0 to 1000")
    extra = sorted(set(counts) - set(services))
    if extra:
        raise ManifestError(f"{src}: {key}.{extra[0]} is not one of services ({', '.join(services)})")
    return {svc: counts.get(svc, (default or {}).get(svc)) for svc in services}


def _names(raw: dict, key: str, src: str, what: str, default: Any = dataclasses.MISSING) -> tuple:
    value = _get(raw, key, list, f"a list of {what}", default, src)
    if not all(isinstance(v, str) and v for v in value):
        raise ManifestError(f"{src}: {key} = {value!r} is not a list of {what}")
    return tuple(value)


def parse(raw: Any, src: str = "manifest") -> Manifest:
    if not isinstance(raw, dict):
        raise ManifestError(f"{src}: expected a JSON object (the DR manifest, docs/dr-failover.md)")
    version = raw.get("version", 1)
    if version != 1:
        raise ManifestError(f"{src}: version = {version!r} is not supported (1)")
    def s(key, what, default=dataclasses.MISSING):
        return _get(raw, key, str, what, default, src)
    stack = s("stack", "the stack name, e.g. prod")
    mode = s("mode", "pilot-light or warm-standby", "pilot-light")
    if mode not in MODES:
        raise ManifestError(f"{src}: mode = {mode!r} is not one of {', '.join(MODES)}")
    regions = {}
    for key in ("primaryRegion", "drRegion"):
        regions[key] = s(key, "an AWS region code such as us-west-2")
        if not REGION.match(regions[key]):
            raise ManifestError(f"{src}: {key} = {regions[key]!r} is not an AWS region code such as us-west-2")
    if regions["primaryRegion"] == regions["drRegion"]:
        raise ManifestError(f"{src}: drRegion = {regions['drRegion']!r} must differ from primaryRegion")
    ids = {}
    for key in ("dbPrimaryId", "dbReplicaId"):
        ids[key] = s(key, "an RDS DB instance identifier")
        if not DB_ID.match(ids[key]):
            raise ManifestError(f"{src}: {key} = {ids[key]!r} is not an RDS DB instance identifier")
    params = {}
    for key in ("dbEndpointParameter", "primaryDbEndpointParameter", "stateParameter"):
        default = {"primaryDbEndpointParameter": raw.get("dbEndpointParameter"),
                   "stateParameter": f"/ai-platform/{stack}/dr-failover/state"}.get(key, dataclasses.MISSING)
        params[key] = s(key, "an SSM parameter name starting with /", default)
        if not SSM_NAME.match(params[key] or ""):
            raise ManifestError(f"{src}: {key} = {params[key]!r} is not an SSM parameter name starting with /")
    services = _names(raw, "services", src, "ECS service names")
    if not services:
        raise ManifestError(f"{src}: services is empty (the DR cluster's ECS service names)")
    desired = _counts(raw, "desiredCounts", services, src)
    standby = _counts(raw, "standbyCounts", services, src, default={svc: 0 for svc in services})
    primary_services = _names(raw, "primaryServices", src, "ECS service names", list(services))
    records = _get(raw, "records", list, "a list of {name, type}", [], src)
    for i, r in enumerate(records):
        if not isinstance(r, dict) or not isinstance(r.get("name"), str) or r.get("type") not in ("A", "AAAA", "CNAME"):
            raise ManifestError(f"{src}: records[{i}] = {r!r} is not {{\"name\": ..., \"type\": \"A\"|\"AAAA\"|\"CNAME\"}}")
    hosted_zone = s("hostedZoneId", "a Route 53 hosted zone id", None)
    if records and not hosted_zone:
        raise ManifestError(f"{src}: hostedZoneId missing (records are given)")
    endpoints = _get(raw, "apiEndpoints", dict, "an object {primary, dr} of https:// API URLs", {}, src)
    for key, url in endpoints.items():
        if key not in ("primary", "dr") or not isinstance(url, str) or not url.startswith("https://"):
            raise ManifestError(f"{src}: apiEndpoints.{key} = {url!r} is not an https:// URL of the primary or dr API")
    releases = _get(raw, "releaseParameters", dict, "an object of DR service name -> SSM parameter name", {}, src)
    for svc, name in releases.items():
        if svc not in services or not isinstance(name, str) or not SSM_NAME.match(name):
            raise ManifestError(f"{src}: releaseParameters.{svc} = {name!r} is not an SSM parameter name starting "
                                f"with / of one of the services")
    lag = _get(raw, "maxReplicaLagSeconds", int, "a number of seconds", 360, src)
    multi_az = raw.get("primaryMultiAz", False)
    if not isinstance(multi_az, bool):
        raise ManifestError(f"{src}: primaryMultiAz = {multi_az!r} is not true or false")
    pools = _get(raw, "userPoolIds", dict, "an object {primary, dr} of Cognito user pool ids", {}, src)
    for key, pool in pools.items():
        if key not in ("primary", "dr") or not isinstance(pool, str) or not re.match(r"^[\w-]+_[0-9a-zA-Z]+$", pool):
            raise ManifestError(f"{src}: userPoolIds.{key} = {pool!r} is not a Cognito user pool id of primary or dr")
    replica_alarms = _get(raw, "drReplicaAlarms", dict, "an object of CloudWatch alarm name -> treatMissingData", {},
                          src)
    for name, missing in replica_alarms.items():
        if not isinstance(name, str) or not name or missing not in ("breaching", "notBreaching", "ignore", "missing"):
            raise ManifestError(f"{src}: drReplicaAlarms.{name} = {missing!r} is not one of breaching, notBreaching, "
                                f"ignore, missing")
    retention = _get(raw, "backupRetentionDays", int, "a number of days from 1 to 35", 7, src)
    if not 1 <= retention <= 35:
        raise ManifestError(f"{src}: backupRetentionDays = {retention} is not a number of days from 1 to 35")
    return Manifest(
        stack=stack, mode=mode, primary_region=regions["primaryRegion"], dr_region=regions["drRegion"],
        db_primary_id=ids["dbPrimaryId"], db_replica_id=ids["dbReplicaId"],
        db_endpoint_parameter=params["dbEndpointParameter"],
        cluster_name=s("clusterName", "the DR-region ECS cluster name"), services=services, desired_counts=desired,
        standby_counts=standby, health_check_ids=_names(raw, "healthCheckIds", src, "Route 53 health check ids"),
        primary_cluster_name=s("primaryClusterName", "the primary-region ECS cluster name"),
        primary_services=primary_services,
        primary_desired_counts=_counts(raw, "primaryDesiredCounts", primary_services, src,
                                       default={svc: desired.get(svc, 1) for svc in primary_services}),
        primary_db_endpoint_parameter=params["primaryDbEndpointParameter"],
        primary_kms_key_id=s("primaryKmsKeyId", "the primary-region KMS key ARN for the database"),
        primary_db_subnet_group=s("primaryDbSubnetGroup", "the primary-region DB subnet group name"),
        primary_security_group_ids=_names(raw, "primarySecurityGroupIds", src, "security group ids"),
        dr_kms_key_id=s("drKmsKeyId", "the DR-region KMS key ARN for the database"),
        dr_db_subnet_group=s("drDbSubnetGroup", "the DR-region DB subnet group name"),
        dr_security_group_ids=_names(raw, "drSecurityGroupIds", src, "security group ids"),
        state_parameter=params["stateParameter"], hosted_zone_id=hosted_zone, records=tuple(records),
        db_secret_arn=s("dbSecretArn", "a Secrets Manager secret ARN in drRegion", None),
        db_instance_class=s("dbInstanceClass", "an RDS instance class", None),
        backup_retention_days=retention, max_replica_lag_seconds=lag, api_endpoints=dict(endpoints),
        api_domain_name=s("apiDomainName", "the API's DNS name", None), release_parameters=dict(releases),
        primary_db_parameter_group=s("primaryDbParameterGroup", "an RDS DB parameter group name", None),
        primary_multi_az=multi_az,
        primary_reader_ids=_names(raw, "primaryReaderIds", src, "RDS DB instance identifiers", []),
        dr_db_parameter_group=s("drDbParameterGroup", "an RDS DB parameter group name", None),
        user_pool_ids=dict(pools), replica_alarms=dict(replica_alarms))


def load(path: str, stdin=None) -> Manifest:
    src = "stdin" if path == "-" else path
    try:
        text = stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise ManifestError(f"--manifest {path}: cannot read ({exc.strerror})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"--manifest {src}: not JSON ({exc.msg} at line {exc.lineno})") from None
    # `pulumi stack output --json` of the DR tier: the manifest is its drManifest output.
    if isinstance(raw, dict) and isinstance(raw.get("drManifest"), dict):
        raw = raw["drManifest"]
    return parse(raw, f"--manifest {src}")
