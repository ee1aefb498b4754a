"""A moto world materialised from a stack's own recorded plan (issue 26): the resources the DR procedure
(functions/dr_failover) and the rehearsal touch, created with boto3 in their regions, under the names and ids the
plan records (the mocks' outputs), and the DR manifest the stack exports (`drManifest`) beside them.

Only the types the procedure touches are materialised (`HANDLERS`); every other type of the same AWS services is
named in `NOT_TOUCHED` with the reason, and a plan type of those services that is in neither fails loudly
(`MaterialiseError`): a new kind of resource the procedure might have to move is never skipped in silence.

What moto cannot hold, and how the rehearsal stands in for it (each said where it is done):
- ids moto generates itself (Route 53 zones and health checks): the created object is re-keyed to the plan's id;
  API Gateway takes the plan's id through moto's `_custom_id_` tag.
- Route 53 health-check *evaluation* (moto stores a check's type and children, not its alarm, and never evaluates
  it): `World.answer()` resolves a failover record pair from the checks in the world, their alarms' states in
  moto's CloudWatch and the plan's alarm settings (`World.alarm_checks`).
- S3 and ECR replication (moto stores the configurations, copies nothing): `World.replicate_s3()` and
  `World.push_image()` copy according to the configurations FOUND IN THE WORLD (materialised from the plan).
- Cognito user pools and app clients: moto makes its own ids; each is re-keyed to the plan's id in moto's backend
  (`_rekey_user_pool`, `_user_pool_client`), so the pool's ARN and its tokens' issuer are the plan's. Sign-in is
  moto's (real RS256 JWTs, checked with `verified_claims`); moto does not check an SRP proof or a client's
  ExplicitAuthFlows, so the rehearsal asserts the flow it uses is one the plan's client allows.
- API Gateway REST APIs take the plan's id through moto's `_custom_id_` tag; authorizers keep moto's ids (nothing
  names one by id). moto cannot patch an authorizer's providerARNs: a test that changes them recreates it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
PRIMARY_MARK = "PRIMARY"


class MaterialiseError(RuntimeError):
    pass


# The AWS services the procedure and the rehearsal call (functions/dr_failover/procedure.py `clients(...)`, the
# replicators and the sign-in check), as plan type modules: every type of these modules is handled or named here.
NOT_TOUCHED = {
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "Aurora only",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "backups, not moved",
    "aws:rds/proxy:Proxy": "not used by the procedure",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "capacity, not moved",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "retention, not read",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "access, not read",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": "replica settings, not read",
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": "scanning, not read",
    "aws:appautoscaling/policy:Policy": "target tracking; the procedure sets the target's floor",
    "aws:appautoscaling/scheduledAction:ScheduledAction": "schedules, not moved",
    "aws:cognito/userPoolDomain:UserPoolDomain": "hosted UI domain",
    "aws:cognito/userGroup:UserGroup": "groups, not read",
    "aws:cognito/identityPool:IdentityPool": "not used",
    "aws:s3/bucketPolicy:BucketPolicy": "access, not read",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "access, not read",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "access, not read",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "encryption",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "retention",
    "aws:s3/bucketLogging:BucketLogging": "logging",
    "aws:s3/bucketNotification:BucketNotification": "events",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": "browser access",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "retention",
    "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration": "static site",
    "aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration": "storage class",
    "aws:s3/bucketMetric:BucketMetric": "metrics",
    "aws:s3/bucketObjectv2:BucketObjectv2": "content",
    "aws:s3/bucketAccelerateConfiguration:BucketAccelerateConfiguration": "transfer",
    "aws:s3/bucketRequestPaymentConfiguration:BucketRequestPaymentConfiguration": "billing",
    "aws:s3/directoryBucket:DirectoryBucket": "not used",
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": "account setting",
    "aws:route53/queryLog:QueryLog": "logging",
    "aws:route53/zoneAssociation:ZoneAssociation": "private zones",
    "aws:route53/resolverRule:ResolverRule": "resolver",
    "aws:ssm/document:Document": "not read",
    "aws:ssm/association:Association": "not read",
    "aws:ssm/maintenanceWindow:MaintenanceWindow": "not read",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "only the alarms a Route 53 health check reads (with the checks) and "
                                              "the manifest's drReplicaAlarms (promote-replica relaxes them)",
}
MODULES = ("aws:rds/", "aws:ecs/", "aws:ecr/", "aws:appautoscaling/", "aws:ssm/", "aws:route53/", "aws:cognito/",
           "aws:s3/")
APIGATEWAY_TOUCHED = ("aws:apigateway/restApi:RestApi", "aws:apigateway/authorizer:Authorizer")


@dataclasses.dataclass
class World:
    plan: Any
    clients: Callable[[str, str], Any]
    manifest: dict
    primary_region: str
    dr_region: str
    alarm_checks: dict = dataclasses.field(default_factory=dict)     # health check id -> (region, alarm, missing)
    calculated: dict = dataclasses.field(default_factory=dict)       # health check id -> (children, threshold)
    external_zones: list = dataclasses.field(default_factory=list)  # zones the config names, not the plan builds
    built: dict = dataclasses.field(default_factory=dict)            # plan type -> [(region, identifier)]

    def see(self, service: str, region: str):
        """A client onto the world itself (the emulator's view, whatever outage the clients simulate)."""
        return getattr(self.clients, "world", self.clients)(service, region)

    # -- what the world holds ---------------------------------------------------------------------------------
    def has(self, token: str, region: str | None, ident: str) -> bool:
        return any(i == ident and (region is None or r == region) for r, i in self.built.get(token, []))

    def ids(self, token: str, region: str | None = None) -> list[str]:
        return [i for r, i in self.built.get(token, []) if region is None or r == region]

    # -- Route 53's data plane, which moto does not evaluate ------------------------------------------------------
    def healthy(self, hc_id: str) -> bool:
        config = self.see("route53", "us-east-1").get_health_check(HealthCheckId=hc_id)["HealthCheck"][
            "HealthCheckConfig"]
        if config.get("Disabled"):   # Route 53: a disabled check is healthy (and, inverted, unhealthy)
            value = True
        elif hc_id in self.calculated:
            children, threshold = self.calculated[hc_id]
            value = sum(self.healthy(c) for c in children) >= threshold
        elif hc_id in self.alarm_checks:
            region, alarm, missing = self.alarm_checks[hc_id]
            alarms = self.see("cloudwatch", region).describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
            state = alarms[0]["StateValue"] if alarms else "INSUFFICIENT_DATA"
            value = {"OK": True, "ALARM": False}.get(state, missing.lower() != "unhealthy")
        else:
            raise MaterialiseError(f"health check {hc_id}: no evaluation for type {config['Type']}")
        return value != bool(config.get("Inverted"))

    def answer(self, name: str, rtype: str = "A") -> str:
        """The failover record Route 53 answers `name` with: PRIMARY while its health check is healthy."""
        zone = self.manifest["hostedZoneId"]
        fqdn = name.rstrip(".") + "."
        sets = [s for s in self.see("route53", "us-east-1").list_resource_record_sets(HostedZoneId=zone)[
            "ResourceRecordSets"] if s["Name"] == fqdn and s["Type"] == rtype and s.get("Failover")]
        pair = {s["Failover"]: s for s in sets}
        primary = pair.get("PRIMARY")
        if primary and (not primary.get("HealthCheckId") or self.healthy(primary["HealthCheckId"])):
            return "PRIMARY"
        return "SECONDARY"

    # -- replication moto does not perform --------------------------------------------------------------------
    def replicate_s3(self) -> list[tuple[str, str, str]]:
        """Copy every object (latest version) according to the replication configurations in the world; returns
        (source bucket, destination bucket, key) of each copy made."""
        copies = []
        for region, bucket in self.built.get("aws:s3/bucket:Bucket", []):
            s3 = self.see("s3", region)
            try:
                config = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
            except ClientError:
                continue
            for rule in config["Rules"]:
                if rule.get("Status") != "Enabled":
                    continue
                prefix = (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", ""))
                target = rule["Destination"]["Bucket"].split(":::")[-1]
                dest_region = next(r for r, b in self.built["aws:s3/bucket:Bucket"] if b == target)
                dest = self.see("s3", dest_region)
                for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
                    try:
                        if dest.head_object(Bucket=target, Key=obj["Key"])["ETag"] == obj["ETag"]:
                            continue
                    except ClientError:
                        pass
                    body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                    dest.put_object(Bucket=target, Key=obj["Key"], Body=body)
                    copies.append((bucket, target, obj["Key"]))
        return copies

    def push_image(self, repository: str, tag: str) -> str:
        """A push to the primary registry, copied to each region the registry's replication configuration in the
        world names (ECR replicates every push, whatever its scan result); returns the digest."""
        ecr = self.see("ecr", self.primary_region)
        body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": "sha256:" + tag.encode().hex().ljust(64, "0")[:64], "size": 1,
                                      "mediaType": "application/vnd.docker.container.image.v1+json"},
                           "layers": [{"digest": "sha256:" + (repository + tag).encode().hex().rjust(64, "0")[-64:],
                                       "size": 1, "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"}]})
        digest = ecr.put_image(repositoryName=repository, imageManifest=body, imageTag=tag)["image"]["imageId"][
            "imageDigest"]
        rules = ecr.describe_registry()["replicationConfiguration"]["rules"]
        for rule in rules:
            filters = rule.get("repositoryFilters") or []
            if filters and not any(repository.startswith(f["filter"]) for f in filters):
                continue
            for dest in rule["destinations"]:
                self.see("ecr", dest["region"]).put_image(repositoryName=repository, imageManifest=body,
                                                              imageTag=tag)
        return digest


# --- Cognito's tokens ---------------------------------------------------------------------------------------------
def verified_claims(token: str) -> dict:
    """The claims of a Cognito token, its RS256 signature verified (joserfc) against the key set Cognito publishes
    for its pools (`https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`; moto serves the public
    half of the key it signs with, read here from its package): a token moto did not sign fails here."""
    from joserfc import jwt
    from joserfc.jwk import KeySet
    from moto.utilities.utils import load_resource

    keys = KeySet.import_key_set(load_resource("cognitoidp/resources/jwks-public.json"))
    return dict(jwt.decode(token, keys, algorithms=["RS256"]).claims)


def issuer_pool_arn(claims: dict) -> str:
    """The user pool ARN a token's issuer names (what API Gateway's COGNITO_USER_POOLS authorizer matches)."""
    host, pool = claims["iss"].removeprefix("https://").split("/")
    return f"arn:aws:cognito-idp:{host.split('.')[1]}:{ACCOUNT}:userpool/{pool}"


# --- moto, corrected where it differs from AWS in what the procedure relies on --------------------------------------
@contextlib.contextmanager
def moto_as_aws():
    """(1) A promoted read replica no longer names a source (moto keeps it). (2) A cross-region read replica takes
    its subnet group from ITS region (moto looks the name up in the source's region: it sets the model's backend
    after the other settings)."""
    from unittest import mock

    from moto.rds.models import RDSBackend
    promote_real, replica_real = RDSBackend.promote_read_replica, RDSBackend.create_db_instance_read_replica

    def promote(self, db_kwargs):
        database = promote_real(self, db_kwargs)
        database.source_db_instance_identifier = None
        return database

    def replica(self, db_kwargs):
        if self.arn_regex.match(db_kwargs["source_db_instance_identifier"]):
            db_kwargs = {"backend": self, **db_kwargs}
        return replica_real(self, db_kwargs)

    with mock.patch.object(RDSBackend, "promote_read_replica", promote), \
            mock.patch.object(RDSBackend, "create_db_instance_read_replica", replica):
        yield


# --- the materialiser -------------------------------------------------------------------------------------------------
def region_of(plan, r, providers: dict) -> str:
    if isinstance(r.outputs.get("region"), str) and r.outputs["region"]:
        return r.outputs["region"]
    urn = (r.provider or "").rsplit("::", 1)[0]
    return providers.get(urn) or plan.region


def _tags(tags: dict | None, style: str = "key") -> list:
    items = sorted((tags or {}).items())
    return [{"key": k, "value": v} for k, v in items] if style == "key" else [{"Key": k, "Value": v} for k, v in items]


def _add(w: World, token: str, region: str, ident: str) -> None:
    w.built.setdefault(token, []).append((region, ident))


def _subnet_group(w: World, r, region: str) -> None:
    ec2 = w.clients("ec2", region)
    # the plan's subnets are the mocks' ids; the procedure names the group only: the group gets subnets of its own
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{az}")[
        "Subnet"]["SubnetId"] for i, az in enumerate("ab")]
    name = r.props["name"]
    w.clients("rds", region).create_db_subnet_group(DBSubnetGroupName=name, SubnetIds=subnets,
                                                    DBSubnetGroupDescription=r.props.get("description") or name)
    _add(w, r.type, region, name)


def _parameter_group(w: World, r, region: str) -> None:
    p = r.props
    name = p.get("name") or r.id
    w.clients("rds", region).create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily=p["family"],
                                                       Description=p.get("description") or name)
    _add(w, r.type, region, name)


def _db_instance(w: World, r, region: str) -> None:
    p = r.props
    rds = w.clients("rds", region)
    common = dict(DBInstanceIdentifier=p["identifier"], DBInstanceClass=p["instanceClass"],
                  EnableIAMDatabaseAuthentication=bool(p.get("iamDatabaseAuthenticationEnabled")),
                  Tags=_tags(p.get("tags"), "Key"))
    if p.get("parameterGroupName"):
        common["DBParameterGroupName"] = p["parameterGroupName"]
    if p.get("replicateSourceDb"):
        source = p["replicateSourceDb"]
        kwargs: dict = dict(common, SourceDBInstanceIdentifier=source, MultiAZ=bool(p.get("multiAz")))
        if p.get("dbSubnetGroupName"):
            kwargs["DBSubnetGroupName"] = p["dbSubnetGroupName"]
        if source.startswith("arn:"):
            kwargs["KmsKeyId"] = p.get("kmsKeyId")
        rds.create_db_instance_read_replica(**kwargs)
    else:
        rds.create_db_instance(**common, Engine=p.get("engine", "postgres"), MasterUsername=p.get("username", "admin"),
                               MasterUserPassword="not-the-plans-secret", AllocatedStorage=p.get("allocatedStorage", 20),
                               BackupRetentionPeriod=p.get("backupRetentionPeriod", 7),
                               DBSubnetGroupName=p["dbSubnetGroupName"], MultiAZ=bool(p.get("multiAz")),
                               StorageEncrypted=bool(p.get("storageEncrypted")))
    _add(w, r.type, region, p["identifier"])


def _cluster(w: World, r, region: str) -> None:
    w.clients("ecs", region).create_cluster(clusterName=r.props["name"], tags=_tags(r.props.get("tags")))
    _add(w, r.type, region, r.props["name"])


TASK_KEYS = {"taskRoleArn": "taskRoleArn", "executionRoleArn": "executionRoleArn", "networkMode": "networkMode",
             "cpu": "cpu", "memory": "memory", "requiresCompatibilities": "requiresCompatibilities"}


def _task_definition(w: World, r, region: str) -> None:
    p = r.props
    kwargs = {api: p[key] for key, api in TASK_KEYS.items() if p.get(key) not in (None, "", [])}
    td = w.clients("ecs", region).register_task_definition(
        family=p["family"], containerDefinitions=json.loads(p["containerDefinitions"]), tags=_tags(p.get("tags")),
        **kwargs)["taskDefinition"]
    recorded = r.outputs.get("arn") or ""
    if recorded and recorded.rsplit("/", 1)[-1] != td["taskDefinitionArn"].rsplit("/", 1)[-1]:
        raise MaterialiseError(f"task definition {recorded}: registered as {td['taskDefinitionArn']}")
    _add(w, r.type, region, td["taskDefinitionArn"].rsplit("/", 1)[-1])


def _service(w: World, r, region: str) -> None:
    p = r.props
    cluster = p["cluster"].rsplit("/", 1)[-1]
    w.clients("ecs", region).create_service(cluster=cluster, serviceName=p["name"],
                                            taskDefinition=p["taskDefinition"].rsplit("/", 1)[-1],
                                            desiredCount=int(p.get("desiredCount") or 0),
                                            tags=_tags(p.get("tags")))
    _add(w, r.type, region, f"{cluster}/{p['name']}")


def _scalable_target(w: World, r, region: str) -> None:
    p = r.props
    w.clients("application-autoscaling", region).register_scalable_target(
        ServiceNamespace=p["serviceNamespace"], ResourceId=p["resourceId"], ScalableDimension=p["scalableDimension"],
        MinCapacity=int(p["minCapacity"]), MaxCapacity=int(p["maxCapacity"]))
    _add(w, r.type, region, p["resourceId"])


def _repository(w: World, r, region: str) -> None:
    p = r.props
    w.clients("ecr", region).create_repository(
        repositoryName=p["name"], imageTagMutability=p.get("imageTagMutability") or "MUTABLE",
        imageScanningConfiguration={"scanOnPush": bool((p.get("imageScanningConfiguration") or {}).get("scanOnPush"))})
    _add(w, r.type, region, p["name"])


def _ecr_replication(w: World, r, region: str) -> None:
    rules = [{"destinations": [{"region": d["region"], "registryId": d["registryId"]} for d in rule["destinations"]],
              **({"repositoryFilters": [{"filter": f["filter"], "filterType": f["filterType"]}
                                        for f in rule["repositoryFilters"]]} if rule.get("repositoryFilters") else {})}
             for rule in r.props["replicationConfiguration"]["rules"]]
    w.clients("ecr", region).put_replication_configuration(replicationConfiguration={"rules": rules})
    _add(w, r.type, region, region)


def _parameter(w: World, r, region: str) -> None:
    p = r.props
    value = p.get("value") if p.get("value") not in (None, "") else p.get("insecureValue")
    w.clients("ssm", region).put_parameter(Name=p["name"], Value=str(value), Type=p.get("type") or "String",
                                           Overwrite=True)
    _add(w, r.type, region, p["name"])


def _health_check(w: World, r, region: str) -> None:
    p = r.props
    kind = p["type"]
    config: dict = {"Type": kind}
    if kind == "CALCULATED":
        for child in p.get("childHealthchecks") or []:
            if not w.has(r.type, None, child):
                raise MaterialiseError(f"health check {r.id}: child {child} is not built (yet)")
        config.update(ChildHealthChecks=list(p.get("childHealthchecks") or []),
                      HealthThreshold=int(p.get("childHealthThreshold") or 0))
        w.calculated[r.id] = (list(p.get("childHealthchecks") or []), int(p.get("childHealthThreshold") or 0))
    elif kind == "CLOUDWATCH_METRIC":
        config.update(AlarmIdentifier={"Region": p["cloudwatchAlarmRegion"], "Name": p["cloudwatchAlarmName"]},
                      InsufficientDataHealthStatus=p.get("insufficientDataHealthStatus") or "LastKnownStatus")
        w.alarm_checks[r.id] = (p["cloudwatchAlarmRegion"], p["cloudwatchAlarmName"],
                                p.get("insufficientDataHealthStatus") or "LastKnownStatus")
        _alarm(w, p["cloudwatchAlarmRegion"], p["cloudwatchAlarmName"])
    else:
        config.update({k: v for k, v in (("FullyQualifiedDomainName", p.get("fqdn")), ("Port", p.get("port")),
                                         ("ResourcePath", p.get("resourcePath"))) if v})
        w.alarm_checks.pop(r.id, None)
    if p.get("invertHealthcheck"):
        config["Inverted"] = True
    r53 = w.clients("route53", "us-east-1")
    created = r53.create_health_check(CallerReference=r.urn[-64:], HealthCheckConfig=config)["HealthCheck"]["Id"]
    _rekey_health_check(created, r.id)
    _add(w, r.type, "global", r.id)


def _alarm(w: World, region: str, name: str) -> None:
    """An alarm the procedure reads or changes (a CLOUDWATCH_METRIC health check's, drReplicaAlarms), from the
    plan, in OK (a region that is up and serving)."""
    found = [a for a in w.plan.resources if a.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
             and a.props.get("name") == name]
    if not found:
        raise MaterialiseError(f"alarm {name} ({region}) is not built by the plan")
    p = found[0].props
    cw = w.clients("cloudwatch", region)
    kwargs: dict = {"AlarmName": name, "EvaluationPeriods": int(p.get("evaluationPeriods") or 1),
                    "ComparisonOperator": p["comparisonOperator"], "Threshold": float(p.get("threshold") or 0),
                    "TreatMissingData": p.get("treatMissingData") or "missing"}
    if p.get("metricName"):
        kwargs.update(MetricName=p["metricName"], Namespace=p["namespace"], Period=int(p.get("period") or 60),
                      Statistic=p.get("statistic") or "Sum")
    else:   # metric math: only the name and state matter to Route 53 (World.healthy)
        kwargs.update(MetricName=name, Namespace="rehearsal", Period=60, Statistic="Sum")
    cw.put_metric_alarm(**kwargs)
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="materialised: the region is up")
    _add(w, "aws:cloudwatch/metricAlarm:MetricAlarm", region, name)


def _rekey_health_check(created: str, wanted: str) -> None:
    from moto.route53.models import route53_backends
    backend = route53_backends[ACCOUNT]["global"]
    hc = backend.health_checks.pop(created)
    hc.id = wanted
    backend.health_checks[wanted] = hc


def _zone(w: World, zone_id: str, name: str, external: bool) -> None:
    from moto.route53.models import route53_backends
    r53 = w.clients("route53", "us-east-1")
    created = r53.create_hosted_zone(Name=name, CallerReference=f"zone-{zone_id}")["HostedZone"]["Id"].split("/")[-1]
    backend = route53_backends[ACCOUNT]["global"]
    zone = backend.zones.pop(created)
    zone.resource_id = zone_id
    backend.zones[zone_id] = zone
    if external:
        w.external_zones.append(zone_id)
    _add(w, "aws:route53/zone:Zone", "global", zone_id)


def _zone_resource(w: World, r, region: str) -> None:
    _zone(w, r.id, r.props["name"], external=False)


def _record(w: World, r, region: str) -> None:
    p = r.props
    zone = p["zoneId"]
    if not w.has("aws:route53/zone:Zone", None, zone):
        # a zone the stack's config names (dr.hostedZoneId) and does not build: it exists before the stack
        _zone(w, zone, p["name"].split(".", 1)[1], external=True)
    rrset: dict = {"Name": p["name"], "Type": p["type"]}
    if p.get("aliases"):
        alias = p["aliases"][0]
        rrset["AliasTarget"] = {"HostedZoneId": alias["zoneId"], "DNSName": alias["name"],
                                "EvaluateTargetHealth": bool(alias.get("evaluateTargetHealth"))}
    else:
        rrset.update(TTL=int(p.get("ttl") or 60), ResourceRecords=[{"Value": v} for v in p.get("records") or []])
    if p.get("setIdentifier"):
        rrset["SetIdentifier"] = p["setIdentifier"]
    for policy in p.get("failoverRoutingPolicies") or []:
        rrset["Failover"] = policy["type"]
    if p.get("healthCheckId"):
        if not w.has("aws:route53/healthCheck:HealthCheck", None, p["healthCheckId"]):
            raise MaterialiseError(f"record {p['name']}: health check {p['healthCheckId']} is not built")
        rrset["HealthCheckId"] = p["healthCheckId"]
    w.clients("route53", "us-east-1").change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": rrset}]})
    _add(w, r.type, "global", f"{p['name']} {p['type']} {rrset.get('Failover', '')}".strip())


def _user_pool(w: World, r, region: str) -> None:
    """The pool as the provider creates it (CreateUserPool, then SetUserPoolMfaConfig for its MFA), under the plan's
    id: moto makes its own (`<region>_<uuid>`), so the created pool is re-keyed to the plan's id in moto's backend
    (its ARN and the issuer of the tokens it signs follow the id), as Route 53's zones and checks are."""
    p = r.props
    policy = p.get("passwordPolicy") or {}
    kwargs: dict = {"PoolName": p["name"]}
    if p.get("usernameAttributes"):
        kwargs["UsernameAttributes"] = list(p["usernameAttributes"])
    if policy:
        kwargs["Policies"] = {"PasswordPolicy": {api: policy[key] for key, api in POOL_PASSWORD_KEYS.items()
                                                if policy.get(key) is not None}}
    if p.get("adminCreateUserConfig"):
        kwargs["AdminCreateUserConfig"] = {"AllowAdminCreateUserOnly": bool(
            p["adminCreateUserConfig"].get("allowAdminCreateUserOnly"))}
    cognito = w.clients("cognito-idp", region)
    created = cognito.create_user_pool(**kwargs)["UserPool"]["Id"]
    _rekey_user_pool(region, created, r.id)
    mfa = p.get("mfaConfiguration") or "OFF"
    if mfa != "OFF":
        cognito.set_user_pool_mfa_config(UserPoolId=r.id, MfaConfiguration=mfa, SoftwareTokenMfaConfiguration={
            "Enabled": bool((p.get("softwareTokenMfaConfiguration") or {}).get("enabled"))})
    _add(w, r.type, region, r.id)


POOL_PASSWORD_KEYS = {"minimumLength": "MinimumLength", "requireUppercase": "RequireUppercase",
                      "requireLowercase": "RequireLowercase", "requireNumbers": "RequireNumbers",
                      "requireSymbols": "RequireSymbols",
                      "temporaryPasswordValidityDays": "TemporaryPasswordValidityDays"}


def _rekey_user_pool(region: str, created: str, wanted: str) -> None:
    from moto.cognitoidp.models import cognitoidp_backends
    backend = cognitoidp_backends[ACCOUNT][region]
    pool = backend.user_pools.pop(created)
    pool.id, pool.arn = wanted, pool.arn.replace(created, wanted)
    backend.user_pools[wanted] = pool


def _user_pool_client(w: World, r, region: str) -> None:
    """The app client with the plan's auth flows and secret setting, re-keyed to the plan's client id (moto makes
    its own; the pool keeps its clients by id)."""
    from moto.cognitoidp.models import cognitoidp_backends
    p = r.props
    pool = p["userPoolId"]
    if not w.has("aws:cognito/userPool:UserPool", region, pool):
        raise MaterialiseError(f"user pool client {p['name']} ({region}): user pool {pool} is not built")
    kwargs: dict = {"UserPoolId": pool, "ClientName": p["name"], "GenerateSecret": bool(p.get("generateSecret"))}
    if p.get("explicitAuthFlows"):
        kwargs["ExplicitAuthFlows"] = list(p["explicitAuthFlows"])
    created = w.clients("cognito-idp", region).create_user_pool_client(**kwargs)["UserPoolClient"]["ClientId"]
    clients = cognitoidp_backends[ACCOUNT][region].user_pools[pool].clients
    client = clients.pop(created)
    client.id = r.id
    clients[r.id] = client
    _add(w, r.type, region, r.id)


def _bucket(w: World, r, region: str) -> None:
    name = r.props.get("bucket") or r.id
    kwargs: dict = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    w.clients("s3", region).create_bucket(**kwargs)
    _add(w, r.type, region, name)


def _versioning(w: World, r, region: str) -> None:
    status = (r.props.get("versioningConfiguration") or {}).get("status", "Suspended")
    w.clients("s3", region).put_bucket_versioning(Bucket=r.props["bucket"],
                                                  VersioningConfiguration={"Status": status})
    _add(w, r.type, region, r.props["bucket"])


def _replication(w: World, r, region: str) -> None:
    p = r.props
    rules = []
    for rule in p["rules"]:
        dest = rule["destination"]
        api: dict = {"ID": rule.get("id") or "rule", "Status": rule["status"],
                     "Destination": {"Bucket": dest["bucket"], **({"StorageClass": dest["storageClass"]}
                                                                  if dest.get("storageClass") else {})}}
        if rule.get("filter") is not None:
            api["Filter"] = {"Prefix": (rule["filter"] or {}).get("prefix", "")}
            api["Priority"] = int(rule.get("priority") or 0)
            api["DeleteMarkerReplication"] = {"Status": (rule.get("deleteMarkerReplication") or {}).get(
                "status", "Disabled")}
        else:
            api["Prefix"] = rule.get("prefix", "")
        rules.append(api)
    w.clients("s3", region).put_bucket_replication(Bucket=p["bucket"], ReplicationConfiguration={
        "Role": p["role"], "Rules": rules})
    _add(w, r.type, region, p["bucket"])


def _rest_api(w: World, r, region: str) -> None:
    """moto's CreateRestApi takes the id to use from the `_custom_id_` tag (moto's id generator): the plan's id."""
    created = w.clients("apigateway", region).create_rest_api(name=r.props.get("name") or r.name,
                                                              tags={"_custom_id_": r.id})["id"]
    if created != r.id:
        raise MaterialiseError(f"REST API {r.name} ({region}): created as {created}, not the plan's {r.id}")
    _add(w, r.type, region, r.id)


def _authorizer(w: World, r, region: str) -> None:
    """The authorizer with the plan's type, identity source and provider ARNs; under moto's own id (nothing names an
    authorizer by id: the procedure lists the API's authorizers)."""
    p = r.props
    if not w.has("aws:apigateway/restApi:RestApi", region, p["restApi"]):
        raise MaterialiseError(f"authorizer {r.name} ({region}): REST API {p['restApi']} is not built")
    kwargs: dict = {"restApiId": p["restApi"], "name": p["name"], "type": p["type"]}
    if p.get("providerArns"):
        kwargs["providerARNs"] = list(p["providerArns"])
    if p.get("identitySource"):
        kwargs["identitySource"] = p["identitySource"]
    created = w.clients("apigateway", region).create_authorizer(**kwargs)["id"]
    _add(w, r.type, region, f"{p['restApi']}/{created}")


# In creation order (dependencies first). One function per type the procedure touches.
HANDLERS: dict[str, Callable] = {
    "aws:rds/subnetGroup:SubnetGroup": _subnet_group,
    "aws:rds/parameterGroup:ParameterGroup": _parameter_group,
    "aws:rds/instance:Instance": _db_instance,
    "aws:ecs/cluster:Cluster": _cluster,
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:ecs/service:Service": _service,
    "aws:appautoscaling/target:Target": _scalable_target,
    "aws:ecr/repository:Repository": _repository,
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": _ecr_replication,
    "aws:ssm/parameter:Parameter": _parameter,
    "aws:route53/zone:Zone": _zone_resource,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:route53/record:Record": _record,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:cognito/userPoolClient:UserPoolClient": _user_pool_client,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketVersioning:BucketVersioning": _versioning,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _replication,
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/authorizer:Authorizer": _authorizer,
}


def unhandled(plan) -> list[str]:
    """Plan types of the services the procedure touches that are neither materialised nor named as not touched."""
    return sorted({r.type for r in plan.resources if r.type.startswith(MODULES)
                   and r.type not in HANDLERS and r.type not in NOT_TOUCHED})


def _order(resources: list) -> list:
    """Standalone DB instances before replicas, same-region replicas before cross-region ones; plain health checks
    before calculated ones."""
    def key(r):
        if r.type == "aws:rds/instance:Instance":
            source = r.props.get("replicateSourceDb") or ""
            return 0 if not source else (2 if source.startswith("arn:") else 1)
        if r.type == "aws:route53/healthCheck:HealthCheck":
            return 1 if r.props.get("type") == "CALCULATED" else 0
        return 0
    return sorted(resources, key=key)


def materialise(plan, clients: Callable[[str, str], Any]) -> World:
    """Create the plan's resources of the handled types in moto (an active `mock_aws`), in their regions."""
    missing = unhandled(plan)
    if missing:
        raise MaterialiseError(f"the plan builds {', '.join(missing)}: a type of a service the DR procedure touches "
                               f"with no materialiser (tests/dr_world.py HANDLERS) and not named in NOT_TOUCHED")
    manifest = plan.exports.get("drManifest")
    if not isinstance(manifest, dict):
        raise MaterialiseError(f"stack {plan.stack}: no drManifest output in the plan (dr.mode backup-restore?)")
    providers = {r.urn: (r.props.get("region") or plan.region) for r in plan.resources
                 if r.type == "pulumi:providers:aws"}
    w = World(plan=plan, clients=clients, manifest=json.loads(json.dumps(manifest)),
              primary_region=manifest["primaryRegion"], dr_region=manifest["drRegion"])
    for token, handler in HANDLERS.items():
        for r in _order([r for r in plan.resources if r.type == token]):
            try:
                handler(w, r, region_of(plan, r, providers))
            except ClientError as exc:
                raise MaterialiseError(f"{token} {r.name}: {exc}") from None
    # the alarms the procedure changes (promote-replica / replicate-to-dr): from the plan, or the rehearsal fails
    for name in sorted(w.manifest.get("drReplicaAlarms") or {}):
        _alarm(w, w.dr_region, name)
    return w
