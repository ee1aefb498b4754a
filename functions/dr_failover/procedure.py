"""Regional failover and failback of the platform, as code: plan, execute, resume, failback.

    python -m functions.dr_failover --manifest dr.json plan                       # dry run, in order, with state
    python -m functions.dr_failover --manifest dr.json execute --target-region us-west-2 --confirm
    python -m functions.dr_failover --manifest dr.json resume  --target-region us-west-2 --confirm
    python -m functions.dr_failover --manifest dr.json failback --target-region us-east-1 --confirm
    python -m functions.dr_failover --manifest dr.json sync-images --target-region us-west-2 --confirm  # warm-standby
    pulumi stack output --json | python -m functions.dr_failover --manifest - plan   # reads its drManifest output

Failover (primary region lost or being evacuated): preflight, promote the DR read replica, point the DR services at
it (the SSM parameter their task definitions read the DB host from, and the optional DB secret), move them onto the
released image (their release parameter; found by digest in the DR-region ECR replica, never the newest push), scale the DR
services up with a new deployment (so running tasks read the new endpoint), wait until they are stable, then move
DNS by inverting the primary records' health checks (Route 53 then answers with the SECONDARY records).
Failback (primary region healthy again): rename the stale old primary aside, re-create replication toward the
primary (a cross-region replica of the promoted DR database, under the original identifier), stop the DR writers,
wait for the replica to catch up, promote it, point and scale the primary services, move DNS back, then rename the
DR database aside and re-create the DR replica from the new primary, and return the DR services to standby.
Nothing is deleted: the renamed `*-pre-failback` instances are left for a snapshot and a deliberate delete.

Every step checks the world before it acts (idempotent: run twice, change once), is timed and logged as one
structured JSON line (aws-lambda-powertools Logger, on stderr; the human progress is on stdout), and is recorded
in the state (state.py) when it completes; `resume` and a rerun skip completed steps.
Exit status: 0 done; 1 a step failed (recorded; fix the cause and run `resume`); 2 bad input or refusal (no
--target-region, no --confirm, wrong target, unreadable manifest, nothing to resume, no credentials).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError, WaiterError

from ..aws_errors import CREDENTIAL_ERRORS, NO_CREDENTIALS, error_code
from .manifest import Manifest, ManifestError, load
from .state import StateError, store

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
RETIRED_SUFFIX = "-pre-failback"


class _CurrentStderr(logging.StreamHandler):
    """A handler writing to whatever sys.stderr is at the time (so redirected or captured stderr gets the logs)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


LOGGER = Logger(service="dr-failover", logger_handler=_CurrentStderr(), level="INFO")


class StepError(RuntimeError):
    """A step cannot complete: recorded as failed, one line, exit 1."""


class Refused(RuntimeError):
    """Bad input or a refusal: one line, exit 2."""


# Typical durations with their sources (docs/dr-failover.md has the table; the DR-tier engineer uses it for RTO).
TYPICAL = {
    "preflight": "< 10 s (read-only API calls)",
    "promote-replica": "5-15 min (RDS User Guide, 'Promoting a read replica': the instance is rebooted; 'several "
                       "minutes or longer, depending on the size of the read replica')",
    "point-services": "< 5 s (SSM PutParameter / Secrets Manager PutSecretValue)",
    "use-current-images": "< 15 s (ECS DescribeTaskDefinition, ECR DescribeImages, RegisterTaskDefinition, UpdateService per "
                          "service; reads only in warm-standby after sync-images)",
    "scale-services": "< 10 s (ECS UpdateService, Application Auto Scaling RegisterScalableTarget)",
    "wait-services-stable": "2-5 min (Fargate task start + image pull from the DR-region ECR replica + first ALB "
                            "health check; ECS Developer Guide, 'Optimize load balancer health check parameters')",
    "move-dns": "1.5-3 min (Route 53: health check RequestInterval 30 s x FailureThreshold 3 = 90 s to turn "
                "unhealthy, plus the record TTL; Route 53 Developer Guide, 'How Route 53 determines whether a health "
                "check is healthy')",
    "retire-old-primary": "2-5 min (RDS rename: ModifyDBInstance NewDBInstanceIdentifier, ApplyImmediately)",
    "replicate-to-primary": "30 min to hours (cross-region replica creation: snapshot copy + restore + catch-up, "
                            "proportional to the database size; no AWS typical figure, see aws-facts.md section 4)",
    "fence-dr-services": "1-2 min (ECS scale to 0 with connection draining)",
    "wait-replica-caught-up": "1-6 min once writers stop (the next commit after the fence replayed: RDS's heartbeat "
                              "every 5 min on an idle source, plus the 1-minute ReplicaLag metric)",
    "promote-primary": "5-15 min (as promote-replica)",
    "restore-primary-settings": "5-30 min (ModifyDBInstance: IAM auth and parameter group apply at once; the "
                                "conversion to Multi-AZ takes a snapshot and builds the standby, no downtime)",
    "replicate-primary-readers": "10-30 min per replica (same-region read replica creation: snapshot + restore)",
    "point-primary-services": "< 5 s",
    "scale-primary-services": "< 10 s",
    "wait-primary-services-stable": "2-5 min (as wait-services-stable)",
    "move-dns-back": "1.5-3 min (as move-dns)",
    "retire-dr-db": "2-5 min (as retire-old-primary)",
    "replicate-to-dr": "30 min to hours (as replicate-to-primary); DR protection is back when it is available",
    "standby-dr-services": "< 1 min",
}


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    summary: str
    action: Callable[[], dict]

    @property
    def typical(self) -> str:
        return TYPICAL[self.name]


class Procedure:
    """The steps of both operations over one manifest; every AWS call goes through `clients(service, region)`."""

    def __init__(self, manifest: Manifest, clients: Callable[[str, str], Any], *, poll_seconds: float = 30,
                 sleep: Callable[[float], None] = time.sleep, lag_timeout_seconds: float = 1800):
        self.m, self.clients, self.poll, self.sleep = manifest, clients, poll_seconds, sleep
        self.lag_timeout = lag_timeout_seconds

    # -- the two operations ----------------------------------------------------------------------------------
    def failover_steps(self) -> list[Step]:
        m = self.m
        return [
            Step("preflight", f"check the DR replica {m.db_replica_id}, cluster {m.cluster_name} and its "
                              f"{len(m.services)} services in {m.dr_region}, and {len(m.health_check_ids)} health "
                              f"checks", self.preflight),
            Step("promote-replica", f"promote {m.db_replica_id} ({m.dr_region}) to a standalone primary, backups "
                                    f"{m.backup_retention_days} days"
                                    + (f"; its replica-only alarms {', '.join(sorted(m.replica_alarms))} treat missing "
                                       f"data as notBreaching until it is a replica again" if m.replica_alarms else ""),
                 lambda: {**self.alarms_missing(m.dr_region, {a: "notBreaching" for a in m.replica_alarms}),
                          **self.promote(m.dr_region, m.db_replica_id)}),
            Step("point-services", f"write its endpoint to {m.db_endpoint_parameter} ({m.dr_region})"
                                   + (f" and to the secret {m.db_secret_arn}" if m.db_secret_arn else ""),
                 lambda: self.point(m.dr_region, m.db_endpoint_parameter, m.db_replica_id, m.db_secret_arn)),
            Step("use-current-images", f"point each DR service at its released image (its release parameter), by "
                                       f"digest in the {m.dr_region} ECR replica, never the newest push (a new "
                                       f"task-definition revision where it differs)",
                 lambda: self.current_images(m.dr_region, m.cluster_name, m.services, m.release_parameters)),
            Step("scale-services", f"scale {m.cluster_name} to {_counts(m.desired_counts)} with a new deployment",
                 lambda: self.scale(m.dr_region, m.cluster_name, m.desired_counts, m.db_endpoint_parameter)),
            Step("wait-services-stable", f"wait until the {len(m.services)} DR services are stable",
                 lambda: self.wait_stable(m.dr_region, m.cluster_name, m.services)),
            Step("move-dns", f"disable and invert the primary health checks {', '.join(m.health_check_ids)} (always "
                             f"unhealthy: Route 53 answers with the DR records)" if m.health_check_ids else
                             f"no Route 53 record in the stack: clients must be pointed at the DR API "
                             f"{m.api_endpoints.get('dr', '(apiEndpoints.dr missing)')}",
                 lambda: self.dns(inverted=True)),
        ]

    def failback_steps(self) -> list[Step]:
        m = self.m
        return [
            Step("preflight", f"check {m.db_replica_id} ({m.dr_region}) and cluster {m.primary_cluster_name} with "
                              f"{len(m.primary_services)} services in {m.primary_region}", self.preflight_failback),
            Step("retire-old-primary", f"rename the stale {m.db_primary_id} ({m.primary_region}) to "
                                       f"{m.db_primary_id}{RETIRED_SUFFIX}, if it exists",
                 lambda: self.retire(m.primary_region, m.db_primary_id, m.dr_region, m.db_replica_id)),
            Step("replicate-to-primary", f"create {m.db_primary_id} in {m.primary_region} as a replica of "
                                         f"{m.db_replica_id} ({m.dr_region})",
                 lambda: self.replicate(m.primary_region, m.db_primary_id, m.dr_region, m.db_replica_id,
                                        m.primary_kms_key_id, m.primary_db_subnet_group,
                                        m.primary_security_group_ids, m.primary_db_parameter_group)),
            Step("fence-dr-services", f"scale the DR services to 0 (no more writes to {m.db_replica_id})",
                 lambda: {**self.scale(m.dr_region, m.cluster_name, {s: 0 for s in m.services}, None),
                          **self.wait_stable(m.dr_region, m.cluster_name, m.services)}),
            Step("wait-replica-caught-up", f"DR writers stopped, then wait until {m.db_primary_id} has replayed a "
                                           f"commit made after the fence (ReplicaLag sample time - lag >= fence; "
                                           f"RDS's own heartbeat commits every 5 min on an idle source), lag <= "
                                           f"{m.max_replica_lag_seconds} s", self.wait_caught_up),
            Step("promote-primary", f"promote {m.db_primary_id} ({m.primary_region})",
                 lambda: self.promote(m.primary_region, m.db_primary_id)),
            Step("restore-primary-settings", f"{m.db_primary_id}: IAM database authentication, parameter group "
                                             f"{m.primary_db_parameter_group or '(unchanged)'}, Multi-AZ "
                                             f"{m.primary_multi_az}",
                 lambda: self.restore_settings(m.primary_region, m.db_primary_id, m.primary_db_parameter_group,
                                               m.primary_multi_az)),
            Step("replicate-primary-readers", f"re-create the same-region replicas {', '.join(m.primary_reader_ids) or '(none)'}"
                                              f" from the new {m.db_primary_id} (the old ones renamed aside)",
                 lambda: self.readers(m.primary_region, m.db_primary_id, m.primary_reader_ids)),
            Step("point-primary-services", f"write its endpoint to {m.primary_db_endpoint_parameter} "
                                           f"({m.primary_region})",
                 lambda: self.point(m.primary_region, m.primary_db_endpoint_parameter, m.db_primary_id, None)),
            Step("scale-primary-services", f"scale {m.primary_cluster_name} to {_counts(m.primary_desired_counts)} "
                                           f"with a new deployment",
                 lambda: self.scale(m.primary_region, m.primary_cluster_name, m.primary_desired_counts,
                                    m.primary_db_endpoint_parameter)),
            Step("wait-primary-services-stable", "wait until the primary services are stable",
                 lambda: self.wait_stable(m.primary_region, m.primary_cluster_name, m.primary_services)),
            Step("move-dns-back", "restore the primary health checks (enabled, not inverted)" if m.health_check_ids else
                 f"no Route 53 record in the stack: clients must be pointed back at the primary API "
                 f"{m.api_endpoints.get('primary', '(apiEndpoints.primary missing)')}",
                 lambda: self.dns(inverted=False)),
            Step("retire-dr-db", f"rename the promoted {m.db_replica_id} ({m.dr_region}) to "
                                 f"{m.db_replica_id}{RETIRED_SUFFIX}",
                 lambda: self.retire(m.dr_region, m.db_replica_id, m.primary_region, m.db_primary_id)),
            Step("replicate-to-dr", f"re-create {m.db_replica_id} in {m.dr_region} as a replica of {m.db_primary_id}",
                 lambda: {**self.replicate(m.dr_region, m.db_replica_id, m.primary_region, m.db_primary_id,
                                           m.dr_kms_key_id, m.dr_db_subnet_group, m.dr_security_group_ids,
                                           m.dr_db_parameter_group),
                          **self.restore_settings(m.dr_region, m.db_replica_id, m.dr_db_parameter_group, False),
                          **self.alarms_missing(m.dr_region, m.replica_alarms)}),
            Step("standby-dr-services", f"DR services back to standby ({m.mode}: {_counts(m.standby_counts)}), "
                                        f"{m.db_endpoint_parameter} -> the new replica",
                 lambda: {**self.point(m.dr_region, m.db_endpoint_parameter, m.db_replica_id, m.db_secret_arn),
                          **self.scale(m.dr_region, m.cluster_name, m.standby_counts, m.db_endpoint_parameter)}),
        ]

    # -- building blocks (each idempotent) ------------------------------------------------------------------
    def alarms_missing(self, region: str, wanted: dict) -> dict:
        """Set each alarm's missing-data handling (alarm name -> treatMissingData), its definition otherwise kept:
        PutMetricAlarm replaces an alarm's whole definition (tags excepted), so the current one is read back and put
        again with only TreatMissingData changed (CloudWatch API Reference, PutMetricAlarm). A planned step that
        ends the metric (a promotion ends ReplicaLag) makes its alarm able to return to OK this way, instead of
        holding ALARM until the failback; the stack's value comes back when the metric does."""
        if not wanted:
            return {}
        cw = self.clients("cloudwatch", region)
        found = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=sorted(wanted))["MetricAlarms"]}
        missing = sorted(set(wanted) - set(found))
        if missing:
            raise StepError(f"alarm(s) {', '.join(missing)} not found in {region} (drReplicaAlarms names them)")
        keep = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
                "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions",
                "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
                "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId")
        changed = []
        for name, value in sorted(wanted.items()):
            alarm = found[name]
            if alarm.get("TreatMissingData") == value:
                continue
            cw.put_metric_alarm(**{k: alarm[k] for k in keep if alarm.get(k) not in (None, [], "")},
                                TreatMissingData=value)
            changed.append(name)
        return {"alarmsMissingData": dict(sorted(wanted.items())), "changed": changed}

    def db(self, region: str, db_id: str) -> dict | None:
        try:
            return self.clients("rds", region).describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]
        except ClientError as exc:
            if error_code(exc) == "DBInstanceNotFound":
                return None
            raise

    def preflight(self) -> dict:
        m = self.m
        db = self.db(m.dr_region, m.db_replica_id)
        if db is None:
            raise StepError(f"DB instance {m.db_replica_id} not found in {m.dr_region}")
        self._services_exist(m.dr_region, m.cluster_name, m.services)
        r53 = self.clients("route53", "us-east-1")
        for hc in m.health_check_ids:
            try:
                r53.get_health_check(HealthCheckId=hc)
            except ClientError as exc:
                raise StepError(f"health check {hc}: {error_code(exc)}") from None
        for rec in m.records:
            self._check_failover_record(r53, rec)
        # Sign-in in the DR region: the standing pool the DR API's authorizer accepts (docs/dr.md).
        pool = m.user_pool_ids.get("dr")
        if pool is None:
            raise StepError("no DR user pool in the manifest (userPoolIds.dr): nobody could sign in to the DR API")
        try:
            arn = self.clients("cognito-idp", m.dr_region).describe_user_pool(UserPoolId=pool)["UserPool"].get("Arn")
        except ClientError as exc:
            raise StepError(f"DR user pool {pool} ({m.dr_region}): {error_code(exc)}: nobody could sign in") from None
        self._dr_authorizer_accepts(arn or f":userpool/{pool}")
        return {"replicaStatus": db["DBInstanceStatus"], "replicaOf": db.get("ReadReplicaSourceDBInstanceIdentifier")}

    def _dr_authorizer_accepts(self, pool_arn: str) -> None:
        """The DR API's Cognito authorizer(s) must accept the standing DR pool: a pool nobody's token is checked
        against is no sign-in (issue 26). The API is the one `apiEndpoints.dr` names (its REST API id)."""
        m, url = self.m, self.m.api_endpoints.get("dr")
        if not url:
            return
        api = url.removeprefix("https://").split(".", 1)[0]
        try:
            items = self.clients("apigateway", m.dr_region).get_authorizers(restApiId=api, limit=500)["items"]
        except ClientError as exc:
            raise StepError(f"DR API {api} ({m.dr_region}) authorizers: {error_code(exc)}") from None
        pools = [a for a in items if a.get("type") == "COGNITO_USER_POOLS"]
        if pools and not any(arn == pool_arn or arn.endswith(pool_arn) for a in pools
                             for arn in a.get("providerARNs") or []):
            raise StepError(f"the DR API {api} ({m.dr_region}) authorizer {pools[0].get('name')} does not accept the "
                            f"DR user pool {m.user_pool_ids.get('dr')}: nobody could sign in after the move")

    def preflight_failback(self) -> dict:
        m = self.m
        db = self.db(m.dr_region, m.db_replica_id)
        if db is None:
            raise StepError(f"DB instance {m.db_replica_id} not found in {m.dr_region}")
        self._services_exist(m.primary_region, m.primary_cluster_name, m.primary_services)
        self._services_exist(m.dr_region, m.cluster_name, m.services)
        return {"drDbStatus": db["DBInstanceStatus"]}

    def promote(self, region: str, db_id: str) -> dict:
        db = self.db(region, db_id)
        if db is None:
            raise StepError(f"DB instance {db_id} not found in {region}")
        if db.get("ReadReplicaSourceDBInstanceIdentifier"):
            self._wait_db(region, db_id)  # a replica in backing-up or modifying cannot be promoted yet
            try:
                self.clients("rds", region).promote_read_replica(
                    DBInstanceIdentifier=db_id, BackupRetentionPeriod=self.m.backup_retention_days)
            except ClientError as exc:
                if not (error_code(exc) == "InvalidDBInstanceState" and "not a read replica" in str(exc).lower()):
                    raise
            action = "promoted"
        else:
            action = "already standalone"
        # Done when the instance is available and no longer names a source (promotion reboots it first).
        for _ in range(int(3600 / max(self.poll, 1)) + 1):
            db = self.db(region, db_id)
            if db and db["DBInstanceStatus"] == "available" and not db.get("ReadReplicaSourceDBInstanceIdentifier"):
                return {"db": db_id, "action": action, "endpoint": db["Endpoint"]["Address"]}
            self.sleep(self.poll)
        raise StepError(f"{db_id} ({region}) still not a standalone available instance after 60 min")

    def point(self, region: str, parameter: str, db_id: str, secret_arn: str | None) -> dict:
        db = self.db(region, db_id)
        if db is None or "Endpoint" not in db:
            raise StepError(f"DB instance {db_id} in {region} has no endpoint yet")
        address, port = db["Endpoint"]["Address"], db["Endpoint"]["Port"]
        ssm = self.clients("ssm", region)
        try:
            current = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            current = None
        changed = []
        if current != address:
            ssm.put_parameter(Name=parameter, Value=address, Type="String", Overwrite=True)
            changed.append(parameter)
        if secret_arn:
            sm = self.clients("secretsmanager", region)
            value = json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"])
            if value.get("host") != address or value.get("port") != port:
                sm.put_secret_value(SecretId=secret_arn, SecretString=json.dumps({**value, "host": address,
                                                                                  "port": port}))
                changed.append("secret")
        return {"endpoint": address, "changed": changed}

    def scale(self, region: str, cluster: str, counts: dict, parameter: str | None) -> dict:
        """Desired counts (and the autoscaling floor, else the target tracking policy scales straight back), and a
        new deployment for services whose tasks started before the DB endpoint parameter last changed."""
        ecs, aas = self.clients("ecs", region), self.clients("application-autoscaling", region)
        changed_at = None
        if parameter:
            changed_at = self.clients("ssm", region).get_parameter(Name=parameter)["Parameter"]["LastModifiedDate"]
        services = {s["serviceName"]: s for chunk in _chunks(list(counts), 10)
                    for s in ecs.describe_services(cluster=cluster, services=chunk)["services"]}
        updated = []
        for name, count in counts.items():
            resource = f"service/{cluster}/{name}"
            targets = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource],
                                                    ScalableDimension="ecs:service:DesiredCount")["ScalableTargets"]
            for t in targets:
                if t["MinCapacity"] != count or t["MaxCapacity"] < count:
                    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource,
                                                 ScalableDimension="ecs:service:DesiredCount", MinCapacity=count,
                                                 MaxCapacity=max(t["MaxCapacity"], count, 1))
            svc = services.get(name)
            if svc is None:
                raise StepError(f"ECS service {name} not found in cluster {cluster} ({region})")
            primary = next((d for d in svc.get("deployments", []) if d.get("status") == "PRIMARY"), None)
            stale = bool(changed_at and count > 0 and primary and primary["createdAt"] < changed_at)
            if svc["desiredCount"] != count or stale:
                ecs.update_service(cluster=cluster, service=name, desiredCount=count, forceNewDeployment=stale)
                updated.append(name)
        return {"updated": updated}

    def current_images(self, region: str, cluster: str, services, release_parameters=None) -> dict:
        """Each DR service onto its RELEASED image: the one its release parameter in `region` names (the pipeline's
        RecordRelease writes it after a deploy that passed the scan gate; the stack's configured tag until the
        first release), found by digest in the repository's replica in `region`. Never the newest replicated push:
        registry replication copies every push, whatever its scan result or approval (issue 26). A service without
        a release parameter, or whose release is not in the replica, fails the step (nothing is guessed). The image
        is pinned by digest. A container whose image is not in this region's ECR is left as it is.

        The base is the family's latest revision (what the stack last registered: its environment, secrets and
        roles; the DR services are pipeline-owned, so the stack does not move them onto it). Idempotent: a service
        already on a revision with that image is not touched; rerun after a crash between registering and
        updating, the registered revision is found as the family's latest and reused."""
        ecs, ecr = self.clients("ecs", region), self.clients("ecr", region)
        described = {s["serviceName"]: s for chunk in _chunks(list(services), 10)
                     for s in ecs.describe_services(cluster=cluster, services=chunk)["services"]}
        releases = self.m.release_parameters if release_parameters is None else release_parameters
        changed, current = {}, []
        for name in services:
            svc = described.get(name)
            if svc is None:
                raise StepError(f"ECS service {name} not found in cluster {cluster} ({region})")
            released = self._released_image(ecr, region, name, (releases or {}).get(name))
            family = svc["taskDefinition"].rsplit("/", 1)[-1].rsplit(":", 1)[0]
            answer = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
            definition, tags = answer["taskDefinition"], answer.get("tags") or []
            containers, swaps = [], []
            for c in definition["containerDefinitions"]:
                where = _ecr_image(c["image"], region)
                if where is not None and where[1] == released[0]:
                    digest, image_tags = released[1], released[2]
                    image = f"{where[0]}/{where[1]}@{digest}"
                    if c["image"] != image:
                        swaps.append({"container": c["name"], "from": c["image"], "tags": image_tags})
                        c = {**c, "image": image}
                containers.append(c)
            arn = definition["taskDefinitionArn"]
            # Day two: the stack's task definition takes its image from the service's release parameter; record the
            # image here so a later `pulumi up` keeps it (the stack never overwrites the parameter).
            self._record_release(region, (releases or {}).get(name),
                                 [c for c in containers if _ecr_image(c["image"], region) is not None])
            if swaps:
                kwargs = {k: definition[k] for k in TASK_DEFINITION_KEYS if definition.get(k) not in (None, [], {})}
                kwargs["containerDefinitions"] = containers
                if tags:
                    kwargs["tags"] = tags
                arn = ecs.register_task_definition(**kwargs)["taskDefinition"]["taskDefinitionArn"]
            if arn == svc["taskDefinition"]:
                current.append(name)
                continue
            ecs.update_service(cluster=cluster, service=name, taskDefinition=arn)
            changed[name] = swaps
            LOGGER.info("service image", extra={"service": name, "taskDefinition": arn, "changes": swaps,
                                                "was": svc["taskDefinition"]})
        return {"changed": sorted(changed), "current": current}

    def _record_release(self, region: str, parameter: str | None, containers: list) -> None:
        """The image of the service's one ECR-sourced container, into its release parameter (when it differs)."""
        if not parameter or len(containers) != 1:
            return
        ssm, image = self.clients("ssm", region), containers[0]["image"]
        try:
            if ssm.get_parameter(Name=parameter)["Parameter"]["Value"] == image:
                return
        except ClientError as exc:
            if error_code(exc) != "ParameterNotFound":
                raise
        ssm.put_parameter(Name=parameter, Value=image, Type="String", Overwrite=True)

    def _released_image(self, ecr, region: str, service: str, parameter: str | None) -> tuple[str, str, list]:
        """(repository, digest, tags) of the image the service's release parameter names, looked up in `region`'s
        ECR replica (a reference to the primary's registry maps to the same repository and digest here)."""
        if not parameter:
            raise StepError(f"DR service {service} has no release parameter in the manifest (releaseParameters): "
                            f"the released image is unknown, and the newest replicated push may be unscanned")
        try:
            value = self.clients("ssm", region).get_parameter(Name=parameter)["Parameter"]["Value"]
        except ClientError as exc:
            if error_code(exc) != "ParameterNotFound":
                raise
            raise StepError(f"release parameter {parameter} ({region}) of {service} not found") from None
        host, _, rest = value.partition("/")
        if not ECR_HOST.match(host) or not rest:
            raise StepError(f"release parameter {parameter} = {value!r} is not an ECR image reference")
        repository, _, digest = rest.partition("@")
        tag = None
        if not digest and ":" in repository:
            repository, tag = repository.rsplit(":", 1)
        image_id = {"imageDigest": digest} if digest else {"imageTag": tag or "latest"}
        try:
            [detail] = ecr.describe_images(registryId=host.split(".", 1)[0], repositoryName=repository,
                                           imageIds=[image_id])["imageDetails"]
        except ClientError as exc:
            if error_code(exc) not in ("ImageNotFoundException", "RepositoryNotFoundException"):
                raise
            raise StepError(f"the released image of {service} ({value}) is not in the {region} ECR replica "
                            f"{repository}: replication has not copied it (nothing else is used)") from None
        return repository, detail["imageDigest"], sorted(detail.get("imageTags") or [])

    def wait_stable(self, region: str, cluster: str, services) -> dict:
        waiter = self.clients("ecs", region).get_waiter("services_stable")
        for chunk in _chunks(list(services), 10):
            waiter.wait(cluster=cluster, services=chunk,
                        WaiterConfig={"Delay": max(int(self.poll), 1), "MaxAttempts": 60})
        return {"stable": len(services)}

    def dns(self, inverted: bool) -> dict:
        r53 = self.clients("route53", "us-east-1")  # Route 53 is global; its control plane is in us-east-1
        changed = []
        # Disabled AND inverted: Route 53 then considers the check unhealthy whatever the region reports (a disabled
        # check is always healthy, inverted always unhealthy: UpdateHealthCheck `Disabled`). Inverting alone flips a
        # check that already reads the lost region as unhealthy back to healthy, and Route 53 would answer with the
        # dead PRIMARY again (found by the rehearsal on the world built from the plan, tests/test_dr_rehearsal.py).
        for hc in self.m.health_check_ids:
            current = r53.get_health_check(HealthCheckId=hc)["HealthCheck"]
            config = current["HealthCheckConfig"]
            if bool(config.get("Inverted")) != inverted or bool(config.get("Disabled")) != inverted:
                r53.update_health_check(HealthCheckId=hc, HealthCheckVersion=current["HealthCheckVersion"],
                                        Inverted=inverted, Disabled=inverted)
                changed.append(hc)
        # Where clients go now: the API name when the stack owns its failover records, else the region's invoke
        # URL, which whoever owns the DNS name (or the SPA's API base URL) must be given.
        target = self.m.api_endpoints.get("dr" if inverted else "primary")
        out = {"inverted": inverted, "changed": changed, "clientsGoTo": self.m.api_domain_name or target}
        if not self.m.health_check_ids:
            out["action"] = f"no Route 53 record in the stack: point the API name / the SPA's API URL at {target}"
            print(f"  DNS is not managed by the stack: point clients at {target}", file=sys.stderr)
        return out

    def retire(self, region: str, db_id: str, source_region: str, source_id: str) -> dict:
        """Rename a stale instance aside so its identifier can be re-created as a replica (nothing is deleted)."""
        db = self.db(region, db_id)
        source = self.db(source_region, source_id)
        if db is None:
            return {"retired": None}
        if source and db.get("ReadReplicaSourceDBInstanceIdentifier") == source["DBInstanceArn"]:
            return {"retired": None, "note": f"{db_id} is already a replica of {source_id}"}
        new_id = f"{db_id}{RETIRED_SUFFIX}"
        if self.db(region, new_id) is not None:
            raise StepError(f"cannot rename {db_id}: {new_id} already exists in {region} (snapshot and delete it)")
        self.clients("rds", region).modify_db_instance(DBInstanceIdentifier=db_id, NewDBInstanceIdentifier=new_id,
                                                       ApplyImmediately=True)
        self._wait_db(region, new_id)
        return {"retired": new_id}

    def replicate(self, region: str, db_id: str, source_region: str, source_id: str, kms_key: str,
                  subnet_group: str, security_groups, parameter_group: str | None = None) -> dict:
        source = self.db(source_region, source_id)
        if source is None:
            raise StepError(f"source DB instance {source_id} not found in {source_region}")
        db = self.db(region, db_id)
        if db is not None and db.get("ReadReplicaSourceDBInstanceIdentifier") != source["DBInstanceArn"]:
            raise StepError(f"{db_id} exists in {region} and is not a replica of {source_id} (run retire first)")
        action = "exists"
        if db is None:
            kwargs = dict(DBInstanceIdentifier=db_id, SourceDBInstanceIdentifier=source["DBInstanceArn"],
                          SourceRegion=source_region, KmsKeyId=kms_key, DBSubnetGroupName=subnet_group,
                          VpcSecurityGroupIds=list(security_groups), CopyTagsToSnapshot=True,
                          DeletionProtection=True, PubliclyAccessible=False)
            if self.m.db_instance_class:
                kwargs["DBInstanceClass"] = self.m.db_instance_class
            if parameter_group:   # a cross-region replica otherwise starts on the engine's default group
                kwargs["DBParameterGroupName"] = parameter_group
            self.clients("rds", region).create_db_instance_read_replica(**kwargs)
            action = "created"
        self._wait_db(region, db_id, max_attempts=480)  # creation of a cross-region replica: up to 4 h
        return {"replica": db_id, "action": action}

    def wait_caught_up(self) -> dict:
        """The failback's lag gate, one an idle PostgreSQL source can pass. RDS for PostgreSQL's ReplicaLag is the
        time since the last replayed commit: on an idle source it climbs to ~5 min between RDS's own heartbeat
        commits, so `lag <= 0` never holds. Instead: (1) every DR writer is stopped (the fence step: desired and
        running 0); the fence time F is this step's start (later than the fence, so also right on a resume); (2) a
        ReplicaLag sample whose period starts at T with Maximum L and T - L >= F proves the replica replayed a
        commit made after the fence (a heartbeat at the latest), and WAL is replayed in order, so every write
        before the fence is in; (3) L <= maxReplicaLagSeconds, a bound on what is accepted at all."""
        m = self.m
        ecs = self.clients("ecs", m.dr_region)
        for chunk in _chunks(list(m.services), 10):
            for s in ecs.describe_services(cluster=m.cluster_name, services=chunk)["services"]:
                if s.get("desiredCount") or s.get("runningCount"):
                    raise StepError(f"DR writer {s['serviceName']} still runs ({s.get('runningCount')} tasks): the "
                                    f"fence is not up, promoting would lose writes")
        fence = _utcnow()
        cw = self.clients("cloudwatch", m.primary_region)
        attempts = int(self.lag_timeout / max(self.poll, 1)) + 1
        latest = None
        for attempt in range(attempts):
            if attempt:
                self.sleep(self.poll)
            now = _utcnow()
            points = cw.get_metric_statistics(
                Namespace="AWS/RDS", MetricName="ReplicaLag", Statistics=["Maximum"], Period=60,
                Dimensions=[{"Name": "DBInstanceIdentifier", "Value": m.db_primary_id}],
                StartTime=fence - dt.timedelta(minutes=1), EndTime=now + dt.timedelta(minutes=1))["Datapoints"]
            for p in sorted(points, key=lambda p: p["Timestamp"]):
                latest = p
                replayed = p["Timestamp"] - dt.timedelta(seconds=p["Maximum"])
                if replayed >= fence and p["Maximum"] <= m.max_replica_lag_seconds:
                    return {"replicaLagSeconds": p["Maximum"], "fence": fence.isoformat(timespec="seconds"),
                            "replayedCommitAt": replayed.isoformat(timespec="seconds")}
        lag = "no datapoint" if latest is None else f"{latest['Maximum']} s"
        raise StepError(f"ReplicaLag of {m.db_primary_id} ({m.primary_region}) is {lag}: no commit after the fence "
                        f"({fence.isoformat(timespec='seconds')}) replayed within {m.max_replica_lag_seconds} s lag "
                        f"after {self.lag_timeout:.0f} s; promoting now would lose writes")

    def restore_settings(self, region: str, db_id: str, parameter_group: str | None, multi_az: bool) -> dict:
        """What a replica promoted to a primary does not carry: IAM database authentication (the services connect
        as IAM users), the stack's parameter group and Multi-AZ. Idempotent: only what differs is modified."""
        db = self.db(region, db_id)
        if db is None:
            raise StepError(f"DB instance {db_id} not found in {region}")
        changes: dict[str, Any] = {}
        if not db.get("IAMDatabaseAuthenticationEnabled"):
            changes["EnableIAMDatabaseAuthentication"] = True
        groups = [g["DBParameterGroupName"] for g in db.get("DBParameterGroups") or []]
        if parameter_group and groups != [parameter_group]:
            changes["DBParameterGroupName"] = parameter_group
        if bool(db.get("MultiAZ")) != multi_az:
            changes["MultiAZ"] = multi_az
        if changes:
            self.clients("rds", region).modify_db_instance(DBInstanceIdentifier=db_id, ApplyImmediately=True,
                                                           **changes)
            self._wait_db(region, db_id)
        return {"settings": sorted(changes)}

    def readers(self, region: str, source_id: str, reader_ids) -> dict:
        """Same-region read replicas follow the new primary: one still replicating from the renamed old primary
        (or standalone) is renamed aside, and re-created under its identifier from the new primary."""
        source = self.db(region, source_id)
        if source is None:
            raise StepError(f"DB instance {source_id} not found in {region}")
        done = []
        for reader in reader_ids:
            db = self.db(region, reader)
            # the new primary's own list of its replicas (a replica's source field names an identifier, which the
            # renamed old primary and the new one have shared)
            if db is not None and reader in (source.get("ReadReplicaDBInstanceIdentifiers") or []):
                continue
            if db is not None:
                self.retire(region, reader, region, source_id)
            kwargs = dict(DBInstanceIdentifier=reader, SourceDBInstanceIdentifier=source_id,
                          EnableIAMDatabaseAuthentication=True, CopyTagsToSnapshot=True, DeletionProtection=True,
                          PubliclyAccessible=False, MultiAZ=False)
            if self.m.primary_db_parameter_group:
                kwargs["DBParameterGroupName"] = self.m.primary_db_parameter_group
            self.clients("rds", region).create_db_instance_read_replica(**kwargs)
            self._wait_db(region, reader)
            done.append(reader)
        return {"recreated": done}

    # -- internals --
    def _wait_db(self, region: str, db_id: str, max_attempts: int = 120) -> None:
        self.clients("rds", region).get_waiter("db_instance_available").wait(
            DBInstanceIdentifier=db_id, WaiterConfig={"Delay": max(int(self.poll), 1), "MaxAttempts": max_attempts})

    def _services_exist(self, region: str, cluster: str, services) -> None:
        ecs = self.clients("ecs", region)
        for chunk in _chunks(list(services), 10):
            answer = ecs.describe_services(cluster=cluster, services=chunk)
            found = {s["serviceName"] for s in answer["services"] if s.get("status") == "ACTIVE"}
            missing = [s for s in chunk if s not in found]
            if missing:
                raise StepError(f"ECS service {missing[0]} not found in cluster {cluster} ({region})")

    def _check_failover_record(self, r53, rec: dict) -> None:
        name = rec["name"].rstrip(".") + "."
        sets = r53.list_resource_record_sets(HostedZoneId=self.m.hosted_zone_id, StartRecordName=name,
                                             StartRecordType=rec["type"], MaxItems="10")["ResourceRecordSets"]
        pair = {s.get("Failover"): s for s in sets if s["Name"] == name and s["Type"] == rec["type"]}
        primary = pair.get("PRIMARY")
        if not primary or "SECONDARY" not in pair:
            raise StepError(f"record {name} {rec['type']} has no PRIMARY/SECONDARY failover pair in "
                            f"{self.m.hosted_zone_id}")
        if primary.get("HealthCheckId") not in self.m.health_check_ids:
            raise StepError(f"record {name} {rec['type']} PRIMARY health check {primary.get('HealthCheckId')} is "
                            f"not in healthCheckIds")


# --- running with a state record ---------------------------------------------------------------------------------
class Runner:
    def __init__(self, procedure: Procedure, state, *, out=sys.stdout, logger: Logger = LOGGER,
                 clock: Callable[[], float] = time.monotonic):
        self.p, self.state, self.out, self.log, self.clock = procedure, state, out, logger, clock

    def steps(self, operation: str) -> list[Step]:
        return self.p.failover_steps() if operation == "failover" else self.p.failback_steps()

    def plan(self, operation: str, as_json: bool) -> int:
        record = self.state.load().get("operations", {}).get(operation, {})
        steps = record.get("steps", {})
        rows = [{"step": i, "name": s.name, "action": s.summary, "typical": s.typical,
                 "state": steps.get(s.name, {}).get("status", "pending")}
                for i, s in enumerate(self.steps(operation), 1)]
        if as_json:
            print(json.dumps({"operation": operation, "status": record.get("status", "not started"),
                              "state": self.state.where(), "steps": rows}, indent=2), file=self.out)
            return 0
        m = self.p.m
        target = m.dr_region if operation == "failover" else m.primary_region
        print(f"{operation} of {m.stack} to {target} ({m.mode}); state {self.state.where()}: "
              f"{record.get('status', 'not started')}. Dry run, nothing changed.", file=self.out)
        for r in rows:
            print(f"  {r['step']:>2}. [{r['state']}] {r['name']}: {r['action']}\n      typical: {r['typical']}",
                  file=self.out)
        return 0

    def run(self, operation: str) -> int:
        doc = self.state.load()
        ops = doc.setdefault("operations", {})
        other = "failback" if operation == "failover" else "failover"
        if ops.get(other, {}).get("status") in ("in-progress", "failed"):
            raise Refused(f"a {other} is in progress ({self.state.where()}): run `resume` to finish it first")
        mine = ops.get(operation)
        if mine is None:
            if operation == "failback" and ops.get("failover", {}).get("status") != "completed":
                raise Refused(f"nothing to fail back: no completed failover in {self.state.where()}")
            if operation == "failover":
                ops.pop("failback", None)  # a completed failback: this is a new failover
            mine = ops[operation] = {"runId": uuid.uuid4().hex[:12], "startedAt": _now(), "steps": {},
                                     "manifest": self.p.m.digest}
        self.log.append_keys(operation=operation, runId=mine["runId"], stack=self.p.m.stack)
        if mine.get("status") == "completed":
            print(f"{operation} already completed at {mine.get('finishedAt')} (run {mine['runId']}): nothing to do",
                  file=self.out)
            self.log.info("operation already completed")
            return 0
        if mine.get("manifest") and mine["manifest"] != self.p.m.digest:
            self.log.warning("manifest changed since the run started", extra={"was": mine["manifest"]})
        mine["status"] = "in-progress"
        doc["active"] = operation
        self.state.save(doc)
        steps = self.steps(operation)
        total = self.clock()
        for i, step in enumerate(steps, 1):
            rec = mine["steps"].get(step.name, {})
            if rec.get("status") == "done":
                print(f"[{i}/{len(steps)}] {step.name}: already done, skipped", file=self.out)
                self.log.info("step skipped", extra={"step": step.name, "reason": "done in an earlier run"})
                continue
            print(f"[{i}/{len(steps)}] {step.name}: {step.summary} ...", file=self.out, flush=True)
            started = self.clock()
            try:
                detail = step.action()
            except (StepError, ClientError, WaiterError) as exc:
                seconds = round(self.clock() - started, 1)
                message = _one_line(exc)
                mine["steps"][step.name] = {"status": "failed", "seconds": seconds, "error": message[:300],
                                            "at": _now()}
                mine["status"] = "failed"
                self.state.save(doc)
                self.log.error("step failed", extra={"step": step.name, "seconds": seconds, "error": message})
                print(f"[{i}/{len(steps)}] {step.name}: FAILED after {seconds} s: {message}\n"
                      f"fix the cause, then: python -m functions.dr_failover --manifest ... resume "
                      f"--target-region {self.target(operation)} --confirm", file=self.out)
                return 1
            seconds = round(self.clock() - started, 1)
            mine["steps"][step.name] = {"status": "done", "seconds": seconds, "at": _now(),
                                        "detail": _compact(detail)}
            self.state.save(doc)
            self.log.info("step done", extra={"step": step.name, "seconds": seconds, "detail": detail})
            print(f"[{i}/{len(steps)}] {step.name}: done in {seconds} s", file=self.out)
        mine["status"], mine["finishedAt"] = "completed", _now()
        doc.pop("active", None)
        if operation == "failback":
            ops.pop("failover", None)  # the next failover starts from scratch
        self.state.save(doc)
        seconds = round(self.clock() - total, 1)
        self.log.info("operation completed", extra={"seconds": seconds})
        print(f"{operation} completed in {seconds} s (run {mine['runId']})", file=self.out)
        return 0

    def active(self) -> str | None:
        doc = self.state.load()
        op = doc.get("active")
        if op and doc.get("operations", {}).get(op, {}).get("status") in ("in-progress", "failed"):
            return op
        return None

    def target(self, operation: str) -> str:
        return self.p.m.dr_region if operation == "failover" else self.p.m.primary_region


# --- CLI ----------------------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (not argparse's usage block)
        self.exit(2, f"error: {message} (see --help)\n")


def parse_args(argv=None) -> argparse.Namespace:
    p = _Parser(prog="python -m functions.dr_failover", description="Regional failover and failback, as code.")
    p.add_argument("--manifest", required=True, help="the DR manifest JSON (docs/dr-failover.md), or - for stdin")
    p.add_argument("--state-file", help="keep the progress record in this local JSON file instead of SSM")
    p.add_argument("--poll-seconds", type=float, default=30, help="delay between status polls (default 30)")
    p.add_argument("--lag-timeout", type=float, default=1800,
                   help="failback: seconds to wait for the replica to catch up before giving up (default 1800)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = sub.add_parser("plan", help="dry run: the steps in order, their state and typical duration")
    plan.add_argument("--operation", choices=("failover", "failback"), default="failover")
    plan.add_argument("--json", action="store_true")
    for name, text in (("execute", "fail over to the DR region"), ("resume", "finish an interrupted operation"),
                       ("failback", "move back to the primary region"),
                       ("sync-images", "warm-standby: move the DR services onto their released images now "
                                       "(after a release), outside any failover")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--target-region", help="required: the region traffic moves to")
        cmd.add_argument("--confirm", action="store_true", help="required: yes, change production")
    return p.parse_args(argv)


def sync_images(procedure: Procedure, args: argparse.Namespace, out) -> int:
    """The use-current-images step on its own: in warm-standby the DR tasks run all the time, so they follow each
    release (run it after the pipeline deploys); pilot-light needs it only at failover, where it is a step."""
    m = procedure.m
    if args.target_region != m.dr_region:
        raise Refused(f"sync-images needs --target-region {m.dr_region} (the DR region, whose services it updates) "
                      f"and --confirm")
    if not args.confirm:
        raise Refused("sync-images changes the DR services: add --confirm")
    started = time.monotonic()
    try:
        detail = procedure.current_images(m.dr_region, m.cluster_name, m.services, m.release_parameters)
    except (StepError, ClientError) as exc:
        LOGGER.error("sync-images failed", extra={"error": _one_line(exc)})
        print(f"sync-images: FAILED: {_one_line(exc)}", file=out)
        return 1
    seconds = round(time.monotonic() - started, 1)
    LOGGER.info("sync-images done", extra={"seconds": seconds, "detail": detail})
    print(f"sync-images: {len(detail['changed'])} DR services moved to the released image "
          f"({', '.join(detail['changed']) or 'none'}), {len(detail['current'])} already current, in {seconds} s",
          file=out)
    return 0


def default_clients() -> Callable[[str, str], Any]:
    cache: dict = {}

    def get(service: str, region: str):
        if (service, region) not in cache:
            cache[(service, region)] = boto3.client(service, region_name=region, config=BOTO_CONFIG)
        return cache[(service, region)]
    return get


def main(argv=None, *, clients: Callable[[str, str], Any] | None = None, stdin=sys.stdin, out=sys.stdout,
         err=sys.stderr, sleep: Callable[[float], None] = time.sleep) -> int:
    args = parse_args(argv)
    try:
        manifest = load(args.manifest, stdin)
        clients = clients or default_clients()
        procedure = Procedure(manifest, clients, poll_seconds=args.poll_seconds, sleep=sleep,
                              lag_timeout_seconds=args.lag_timeout)
        runner = Runner(procedure, store(clients("ssm", manifest.dr_region), manifest.state_parameter,
                                         args.state_file), out=out)
        if args.command == "plan":
            return runner.plan(args.operation, args.json)
        if args.command == "sync-images":
            return sync_images(procedure, args, out)
        operation = {"execute": "failover", "failback": "failback"}.get(args.command) or runner.active()
        if operation is None:
            raise Refused(f"nothing to resume: no failover or failback in progress in {runner.state.where()}")
        expected = runner.target(operation)
        if not args.target_region:
            raise Refused(f"{args.command} needs --target-region {expected} (the region traffic moves to) and "
                          f"--confirm")
        if args.target_region != expected:
            raise Refused(f"--target-region {args.target_region}: the {operation} of {manifest.stack} moves traffic "
                          f"to {expected}")
        if not args.confirm:
            raise Refused(f"{args.command} changes production: add --confirm (run `plan` first to see the steps)")
        return runner.run(operation)
    except (ManifestError, Refused, StateError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    except (NoCredentialsError, PartialCredentialsError):
        print(NO_CREDENTIALS, file=err)
        return 2
    except NoRegionError:
        print("error: no AWS region", file=err)
        return 2
    except ClientError as exc:
        code = error_code(exc)
        print(f"error: {exc.operation_name}: {_one_line(exc)}", file=err)
        return 2 if code in CREDENTIAL_ERRORS or code == "AccessDeniedException" else 1


# What RegisterTaskDefinition takes back from DescribeTaskDefinition (the rest is read-only: ARN, revision, status).
TASK_DEFINITION_KEYS = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "volumes", "placementConstraints",
                        "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode", "proxyConfiguration",
                        "inferenceAccelerators", "ephemeralStorage", "runtimePlatform", "enableFaultInjection")
ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def _ecr_image(image: str, region: str) -> tuple[str, str] | None:
    """(registry host, repository) of an image reference in `region`'s ECR, else None."""
    host, _, rest = image.partition("/")
    match = ECR_HOST.match(host)
    if not rest or match is None or match.group(2) != region:
        return None
    repository = rest.split("@", 1)[0]
    if ":" in repository:
        repository = repository.rsplit(":", 1)[0]
    return host, repository


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _chunks(items: list, size: int):
    return [items[i:i + size] for i in range(0, len(items), size)]


def _counts(counts: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in counts.items())


def _compact(detail: Any) -> Any:
    """Keep the state record small (4 KB in SSM): short values only."""
    if not isinstance(detail, dict):
        return detail
    return {k: v for k, v in detail.items() if len(json.dumps(v, default=str)) <= 120}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
