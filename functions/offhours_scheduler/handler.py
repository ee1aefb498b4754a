"""Off-hours scheduler: at night scale tagged ECS services to zero and delete tagged SageMaker
endpoints; in the morning put back exactly what was there.

Event: {"action": "stop"} or {"action": "start"} (two EventBridge Scheduler schedules, non-prod only).

What it touches: ECS services and SageMaker endpoints tagged <TAG_KEY>=true (default OffHours=true),
never one tagged Environment=prod, and nothing at all when the function itself runs in a prod stack.

Where the previous state lives: one SSM parameter per changed resource under STATE_PATH
(e.g. /ai-platform/dev/offhours/ecs/<cluster>/<service> = {"desiredCount": 3}). Not a tag on the
resource, because a deleted endpoint takes its tags with it; not an S3 object, because the function
would then depend on the data tier. The record is written (create-only, never overwritten) BEFORE
the change, and deleted only AFTER the restore succeeded, so:
- a stop that fails half-way is resumed by running it again (recorded items keep their original
  value, already-stopped items are skipped);
- a start restores every record it finds and can also be re-run until no record is left;
- running stop twice never records the zero it set itself.
Per-item AWS errors do not stop the run: every item is tried, then the run raises PartialFailure
listing the failed ones (Lambda retries the asynchronous invocation, then the dead-letter queue keeps it).
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
PROTECTED_ENVIRONMENT = "prod"


class PartialFailure(RuntimeError):
    def __init__(self, action: str, failed: list[dict]):
        self.failed = failed
        super().__init__(f"{action}: {len(failed)} item(s) failed: " +
                         "; ".join(f"{f['resource']}: {f['error']}" for f in failed))


def _code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def _tags(pairs: list | None, key_name: str = "key", value_name: str = "value") -> dict[str, str]:
    return {t[key_name]: t[value_name] for t in pairs or []}


class Scheduler:
    def __init__(self, ecs=None, sagemaker=None, ssm=None, *, tag_key: str | None = None,
                 state_path: str | None = None, environment: str | None = None):
        self.ecs = ecs or boto3.client("ecs", config=RETRIES)
        self.sagemaker = sagemaker or boto3.client("sagemaker", config=RETRIES)
        self.ssm = ssm or boto3.client("ssm", config=RETRIES)
        self.tag_key = tag_key or os.environ.get("TAG_KEY", "OffHours")
        self.path = (state_path or os.environ["STATE_PATH"]).rstrip("/")
        self.environment = environment or os.environ.get("ENVIRONMENT", "")
        self.changed: list[str] = []
        self.skipped: list[str] = []
        self.failed: list[dict] = []

    # -- selection -------------------------------------------------------------------------------
    def selected(self, tags: dict[str, str]) -> bool:
        return tags.get(self.tag_key, "").lower() == "true" and tags.get("Environment") != PROTECTED_ENVIRONMENT

    def ecs_services(self):
        """(cluster_arn, service dict with tags) for every service tagged for off-hours."""
        for page in self.ecs.get_paginator("list_clusters").paginate():
            for cluster in page["clusterArns"]:
                arns = [a for p in self.ecs.get_paginator("list_services").paginate(cluster=cluster)
                        for a in p["serviceArns"]]
                for i in range(0, len(arns), 10):
                    out = self.ecs.describe_services(cluster=cluster, services=arns[i:i + 10], include=["TAGS"])
                    for svc in out["services"]:
                        if svc.get("status") == "ACTIVE" and self.selected(_tags(svc.get("tags"))):
                            yield cluster, svc

    def endpoints(self):
        for page in self.sagemaker.get_paginator("list_endpoints").paginate():
            for ep in page["Endpoints"]:
                tags = _tags(self.sagemaker.list_tags(ResourceArn=ep["EndpointArn"]).get("Tags"), "Key", "Value")
                if self.selected(tags):
                    yield ep, tags

    # -- records ---------------------------------------------------------------------------------
    def _record(self, name: str, value: dict) -> bool:
        """Create the record; False if one exists already (a previous partial run): keep the original."""
        try:
            self.ssm.put_parameter(Name=name, Value=json.dumps(value, sort_keys=True), Type="String",
                                   Overwrite=False, Description="off-hours scheduler: state to restore")
            return True
        except ClientError as err:
            if _code(err) == "ParameterAlreadyExists":
                return False
            raise

    def records(self) -> dict[str, dict]:
        out = {}
        for page in self.ssm.get_paginator("get_parameters_by_path").paginate(Path=self.path, Recursive=True):
            for p in page["Parameters"]:
                out[p["Name"]] = json.loads(p["Value"])
        return out

    def _fail(self, resource: str, err: Exception) -> None:
        LOG.error(json.dumps({"event": "offhours-item-failed", "resource": resource, "error": str(err)}))
        self.failed.append({"resource": resource, "error": str(err)})

    # -- actions ---------------------------------------------------------------------------------
    def stop(self) -> None:
        for cluster, svc in self.ecs_services():
            name = f"{self.path}/ecs/{cluster.split('/')[-1]}/{svc['serviceName']}"
            try:
                if svc["desiredCount"] > 0:
                    self._record(name, {"cluster": cluster, "service": svc["serviceArn"],
                                        "desiredCount": svc["desiredCount"]})
                    self.ecs.update_service(cluster=cluster, service=svc["serviceArn"], desiredCount=0)
                    self.changed.append(name)
                else:
                    self.skipped.append(name)
            except ClientError as err:
                self._fail(name, err)
        for ep, tags in self.endpoints():
            name = f"{self.path}/sagemaker/{ep['EndpointName']}"
            try:
                desc = self.sagemaker.describe_endpoint(EndpointName=ep["EndpointName"])
                if desc["EndpointStatus"] in ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"):
                    raise RuntimeError(f"endpoint is {desc['EndpointStatus']}; retry later")
                self._record(name, {"endpointName": ep["EndpointName"],
                                    "endpointConfigName": desc["EndpointConfigName"], "tags": tags})
                self.sagemaker.delete_endpoint(EndpointName=ep["EndpointName"])
                self.changed.append(name)
            except (ClientError, RuntimeError) as err:
                self._fail(name, err)

    def start(self) -> None:
        for name, rec in sorted(self.records().items()):
            try:
                if "/ecs/" in name:
                    self._restore_service(name, rec)
                else:
                    self._restore_endpoint(name, rec)
            except (ClientError, RuntimeError) as err:
                self._fail(name, err)

    def _restore_service(self, name: str, rec: dict) -> None:
        out = self.ecs.describe_services(cluster=rec["cluster"], services=[rec["service"]], include=["TAGS"])
        live = [s for s in out["services"] if s.get("status") == "ACTIVE"]
        if not live:
            # The service was deleted meanwhile: nothing to restore, the record is stale.
            LOG.warning(json.dumps({"event": "offhours-service-gone", "record": name}))
            self.ssm.delete_parameter(Name=name)
            self.skipped.append(name)
            return
        if _tags(live[0].get("tags")).get("Environment") == PROTECTED_ENVIRONMENT:
            raise RuntimeError("service is tagged Environment=prod now; not touched, record kept")
        self.ecs.update_service(cluster=rec["cluster"], service=rec["service"], desiredCount=rec["desiredCount"])
        self.ssm.delete_parameter(Name=name)
        self.changed.append(name)

    def _restore_endpoint(self, name: str, rec: dict) -> None:
        if rec.get("tags", {}).get("Environment") == PROTECTED_ENVIRONMENT:
            raise RuntimeError("recorded endpoint is tagged Environment=prod; not touched, record kept")
        try:
            self.sagemaker.describe_endpoint(EndpointName=rec["endpointName"])
            exists = True
        except ClientError as err:
            if _code(err) not in ("ValidationException", "ResourceNotFound"):
                raise
            exists = False
        if not exists:
            self.sagemaker.create_endpoint(EndpointName=rec["endpointName"],
                                           EndpointConfigName=rec["endpointConfigName"],
                                           # "aws:" keys (e.g. aws:cloudformation:*) are system tags: CreateEndpoint
                                           # rejects them in a request.
                                           Tags=[{"Key": k, "Value": v} for k, v in sorted(rec["tags"].items())
                                                 if not k.lower().startswith("aws:")])
            self.changed.append(name)
        else:
            self.skipped.append(name)
        self.ssm.delete_parameter(Name=name)

    def run(self, action: str) -> dict[str, Any]:
        if self.environment == PROTECTED_ENVIRONMENT:
            LOG.warning(json.dumps({"event": "offhours-refused", "reason": "prod stack"}))
            return {"status": "refused", "reason": "the off-hours scheduler never runs in prod"}
        getattr(self, action)()
        result = {"status": "ok" if not self.failed else "partial", "action": action, "changed": self.changed,
                  "skipped": self.skipped, "failed": self.failed}
        LOG.info(json.dumps({"event": "offhours-run", **result}))
        if self.failed:
            raise PartialFailure(action, self.failed)
        return result


def handler(event, context=None, **clients):
    action = (event or {}).get("action")
    if action not in ("stop", "start"):
        LOG.error(json.dumps({"event": "offhours-rejected", "action": action}))
        return {"status": "rejected", "errors": [f"action must be 'stop' or 'start' (got {action!r})"]}
    return Scheduler(**clients).run(action)
