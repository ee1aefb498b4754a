"""Training orchestrator: turn a training request into exactly one SageMaker training job.

Triggers (all asynchronous Lambda invocations, from EventBridge):
- S3 "Object Created" under the data bucket's request prefix: the object is the JSON request;
- a custom event (source "ai-platform.ml", detail-type "Training Request"): the detail is the request;
- "SageMaker Training Job State Change" with status Failed or Stopped (MaxRuntimeExceeded, MaxWaitTimeExceeded:
  Spot never got capacity, or a person stopped it): counted as a CloudWatch metric (the alarm on jobs that did
  not complete watches it), nothing is started.
A direct invocation with the request as the event works too (and returns the outcome).

Idempotency: the job name is derived from a hash of the request after defaults are applied, so the
same request (uploaded twice, retried by Lambda, sent by two callers) names the same job. The job is
described first and created only when absent; a concurrent creator's ResourceInUse counts as success.
To run the same request again on purpose, change it (e.g. add "runId": "2").

Bounds (issue 30): the instance type must be one of ALLOWED_INSTANCE_TYPES, the count at most
MAX_INSTANCE_COUNT, the runtime and Spot wait at most MAX_RUNTIME_LIMIT_SECONDS / MAX_WAIT_LIMIT_SECONDS (the
orchestrator's IAM policy refuses other types and longer runtimes too); the input must be under a prefix the
SageMaker role may read, the output and checkpoint locations under one it may write.

Bad requests (validation) and requests a service quota blocks (ResourceLimitExceeded: e.g. a GPU type whose
quota is 0 in a new account) are never retried: they are logged with every problem found, counted as a
metric, announced as a "Training Request Rejected" event on the default bus (the ML tier routes it to the
warnings topic, so the requester hears it, with the quota named) and answered with
{"status": "rejected", "errors": [...]}; nothing is started. Other AWS errors (throttling, access) are raised
so that Lambda retries and, at the end, the dead-letter queue keeps the event.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import re
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

RETRIES = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
DEFAULT_HYPERPARAMETERS = {"epochs": 100, "batch_size": 32, "learning_rate": 0.001}
KNOWN_KEYS = {"image", "role", "instanceType", "instanceCount", "volumeSizeGb", "hyperparameters", "inputS3Uri",
              "outputS3Uri", "checkpointS3Uri", "spot", "maxRuntimeSeconds", "maxWaitSeconds", "outputKmsKey",
              "tags", "runId", "stack"}
IMAGE_RE = re.compile(r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*"
                      r"(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})")
S3_RE = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?")
INSTANCE_RE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
ROLE_RE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
METRIC_NAMESPACE = "AiPlatform/ML"
REQUEST_SOURCE = "ai-platform.ml"
REJECTED_DETAIL_TYPE = "Training Request Rejected"
NOT_COMPLETED = ("Failed", "Stopped")
QUOTA_NAME_RE = re.compile(r"'([^']+)'")


class RequestError(ValueError):
    """The request is wrong; `errors` lists every problem (not only the first)."""

    def __init__(self, errors: list[str], quota: str | None = None, job: str | None = None):
        self.errors = errors
        self.quota = quota
        self.job = job
        super().__init__("; ".join(errors))


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"environment variable {name} is not set (deployment error)")
    return value


def _csv(name: str) -> list[str]:
    return [v for v in os.environ.get(name, "").split(",") if v]


def _int(req: dict, key: str, default: int, lo: int, hi: int, errors: list[str]) -> int:
    value = req.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        errors.append(f"{key} must be an integer from {lo} to {hi} (got {value!r})")
        return default
    return value


def normalise(req: Any) -> dict:
    """Validate a request and apply defaults; raises RequestError listing every problem."""
    if not isinstance(req, dict):
        raise RequestError([f"the request must be a JSON object (got {type(req).__name__})"])
    errors: list[str] = []
    for key in req:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), sorted(KNOWN_KEYS), n=1)
            errors.append(f"unknown field {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))

    # Custom events name their stack (detail.stack: the rules on the account's default bus match on it); a request
    # for another stack never starts a job here.
    if "stack" in req and req["stack"] != os.environ.get("STACK", req["stack"]):
        errors.append(f"stack {req['stack']!r}: this is the {os.environ.get('STACK')!r} stack's orchestrator")
    image = req.get("image")
    if not isinstance(image, str) or not IMAGE_RE.fullmatch(image):
        errors.append(f"image must be an ECR image URI with a tag or digest (got {image!r})")
    else:
        allowed = _csv("ALLOWED_IMAGE_REPOSITORIES")
        repo = re.split(r"[:@]", image.split("/", 1)[1])[0]
        if allowed and repo not in allowed:
            errors.append(f"image repository {repo!r} is not one of the platform's ML repositories {allowed}")

    platform_role = _env("SAGEMAKER_ROLE_ARN")
    role = req.get("role", platform_role)
    if not isinstance(role, str) or not ROLE_RE.fullmatch(role):
        errors.append(f"role must be an IAM role ARN (got {role!r})")
    elif role != platform_role:
        errors.append(f"role must be the platform's SageMaker role {platform_role} (got {role})")

    instance_type = req.get("instanceType", _env("DEFAULT_INSTANCE_TYPE", "ml.m5.xlarge"))
    allowed_types = _csv("ALLOWED_INSTANCE_TYPES")
    if not isinstance(instance_type, str) or not INSTANCE_RE.fullmatch(instance_type):
        errors.append(f"instanceType must look like 'ml.m5.xlarge' (got {instance_type!r})")
    elif allowed_types and instance_type not in allowed_types:
        errors.append(f"instanceType {instance_type} is not one this platform allows: {', '.join(allowed_types)}")
    count = _int(req, "instanceCount", 1, 1, int(_env("MAX_INSTANCE_COUNT", "20")), errors)
    volume = _int(req, "volumeSizeGb", 50, 1, 16384, errors)

    hp = req.get("hyperparameters", {})
    hyper: dict[str, str] = {}
    if not isinstance(hp, dict):
        errors.append(f"hyperparameters must be an object (got {type(hp).__name__})")
        hp = {}
    merged = {**DEFAULT_HYPERPARAMETERS, **hp}
    if len(merged) > 100:  # CreateTrainingJob: at most 100 hyperparameters, keys <= 256, values <= 2500 chars
        errors.append(f"hyperparameters may have at most 100 entries (got {len(merged)})")
    for name, value in merged.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            errors.append(f"hyperparameters.{name} must be a string or a number (got {value!r})")
            continue
        if not 1 <= len(str(name)) <= 256 or len(str(value)) > 2500:
            errors.append(f"hyperparameters.{str(name)[:40]} needs a 1-256 character name and a value of at most "
                          f"2500 characters")
            continue
        hyper[str(name)] = str(value)
    for name in ("epochs", "batch_size"):
        value = merged.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(f"hyperparameters.{name} must be a positive integer (got {value!r})")
    lr = merged.get("learning_rate")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < 1:
        errors.append(f"hyperparameters.learning_rate must be a number between 0 and 1 (got {lr!r})")

    # What the SageMaker role may read (input) and write (output, checkpoints): a location outside them would
    # pass here and fail after the whole run.
    readable, writable = _csv("ALLOWED_INPUT_S3_PREFIXES"), _csv("ALLOWED_OUTPUT_S3_PREFIXES")
    uris = {}
    defaults = {"inputS3Uri": None, "outputS3Uri": os.environ.get("DEFAULT_OUTPUT_S3_URI"), "checkpointS3Uri": None}
    for key, default in defaults.items():
        prefixes = readable if key == "inputS3Uri" else writable
        uri = req.get(key, default)
        if uri is None:
            if key == "inputS3Uri":
                errors.append("inputS3Uri is required (s3://bucket/prefix/ of the dataset)")
            elif key == "outputS3Uri":
                errors.append("outputS3Uri is required (no default output location is configured)")
            continue
        if not isinstance(uri, str) or not S3_RE.fullmatch(uri):
            errors.append(f"{key} must be an s3://bucket/key URI (got {uri!r})")
        elif prefixes and not any(uri.startswith(p) for p in prefixes):
            verb = "read" if key == "inputS3Uri" else "write"
            errors.append(f"{key} {uri} is outside the locations the SageMaker role may {verb}: {prefixes}")
        else:
            uris[key] = uri

    default_spot = _env("DEFAULT_SPOT", "false") == "true"
    spot = req.get("spot", default_spot)
    if not isinstance(spot, bool):
        errors.append(f"spot must be true or false (got {spot!r})")
        spot = default_spot
    max_runtime = _int(req, "maxRuntimeSeconds", int(_env("MAX_RUNTIME_SECONDS", "86400")), 60,
                       int(_env("MAX_RUNTIME_LIMIT_SECONDS", "2419200")), errors)
    max_wait = _int(req, "maxWaitSeconds", int(_env("MAX_WAIT_SECONDS", "172800")), 60,
                    int(_env("MAX_WAIT_LIMIT_SECONDS", "2419200")), errors)
    if spot and max_wait < max_runtime:
        errors.append(f"maxWaitSeconds ({max_wait}) must be >= maxRuntimeSeconds ({max_runtime}) for Spot training")

    kms = _env("OUTPUT_KMS_KEY_ARN")
    if req.get("outputKmsKey", kms) != kms:
        errors.append(f"outputKmsKey must be the platform's data key {kms} (or omitted)")

    tags = req.get("tags", {})
    if not isinstance(tags, dict) or len(tags) > 30:
        errors.append("tags must be an object of at most 30 string values")
        tags = {}
    for k, v in tags.items():
        if not isinstance(v, str) or not 1 <= len(k) <= 128 or len(v) > 256 or k.lower().startswith("aws:"):
            errors.append(f"tag {k!r} must have a 1-128 character key not starting with 'aws:' and a string value")
    run_id = req.get("runId", "")
    if not isinstance(run_id, str) or len(run_id) > 64:
        errors.append("runId must be a string of at most 64 characters")

    if errors:
        raise RequestError(errors)
    return {"image": image, "role": role, "instanceType": instance_type, "instanceCount": count,
            "volumeSizeGb": volume, "hyperparameters": hyper, "inputS3Uri": uris["inputS3Uri"],
            "outputS3Uri": uris["outputS3Uri"], "checkpointS3Uri": uris.get("checkpointS3Uri"), "spot": spot,
            "maxRuntimeSeconds": max_runtime, "maxWaitSeconds": max_wait, "outputKmsKey": kms,
            "tags": dict(sorted(tags.items())), "runId": run_id}


def job_name(request: dict) -> str:
    """Deterministic: prefix + 24 hex characters of the canonical request's SHA-256 (<= 63 characters)."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:24]
    prefix = _env("JOB_NAME_PREFIX", "training")[: 63 - 25]
    return f"{prefix}-{digest}"


def training_job_args(request: dict, name: str) -> dict:
    checkpoint = request["checkpointS3Uri"] or (os.environ.get("DEFAULT_CHECKPOINT_S3_URI", "").rstrip("/") +
                                                f"/{name}/" if os.environ.get("DEFAULT_CHECKPOINT_S3_URI") else None)
    tags = {**json.loads(os.environ.get("PLATFORM_TAGS", "{}")), **request["tags"], "TrainingRequest": name}
    args: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": request["image"], "TrainingInputMode": "File"},
        "RoleArn": request["role"],
        "HyperParameters": request["hyperparameters"],
        "InputDataConfig": [{"ChannelName": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": request["inputS3Uri"], "S3DataDistributionType": "FullyReplicated"}}}],
        "OutputDataConfig": {"S3OutputPath": request["outputS3Uri"], "KmsKeyId": request["outputKmsKey"]},
        "ResourceConfig": {"InstanceType": request["instanceType"], "InstanceCount": request["instanceCount"],
                           "VolumeSizeInGB": request["volumeSizeGb"]},
        "StoppingCondition": {"MaxRuntimeInSeconds": request["maxRuntimeSeconds"]},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": request["instanceCount"] > 1,
        "EnableManagedSpotTraining": request["spot"],
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }
    # The training volume encrypted with the data key too (the role's CreateGrant on it is for this). Types with
    # local NVMe storage refuse a VolumeKmsKeyId (their instance storage is encrypted by the hardware).
    if request["instanceType"] not in _csv("LOCAL_STORAGE_INSTANCE_TYPES"):
        args["ResourceConfig"]["VolumeKmsKeyId"] = request["outputKmsKey"]
    if request["spot"]:
        args["StoppingCondition"]["MaxWaitTimeInSeconds"] = request["maxWaitSeconds"]
        if checkpoint is None:
            raise RequestError(["checkpointS3Uri is required for Spot training (no default checkpoint location)"])
    if checkpoint:
        args["CheckpointConfig"] = {"S3Uri": checkpoint}
    subnets, groups = _csv("SUBNET_IDS"), _csv("SECURITY_GROUP_IDS")
    if subnets and groups:
        args["VpcConfig"] = {"Subnets": subnets, "SecurityGroupIds": groups}
    return args


def _not_found(err: ClientError) -> bool:
    code = err.response.get("Error", {}).get("Code", "")
    message = err.response.get("Error", {}).get("Message", "")
    return code in ("ResourceNotFound", "ValidationException") and (
        "not found" in message.lower() or "could not find" in message.lower())


def start(request: dict, sagemaker) -> dict:
    """Start the request's job unless a job of that name exists. Returns the outcome."""
    name = job_name(request)
    try:
        existing = sagemaker.describe_training_job(TrainingJobName=name)
        LOG.info(json.dumps({"event": "training-job-exists", "job": name, "status": existing["TrainingJobStatus"]}))
        return {"status": "exists", "jobName": name, "jobStatus": existing["TrainingJobStatus"]}
    except ClientError as err:
        if not _not_found(err):
            raise
    args = training_job_args(request, name)
    try:
        arn = sagemaker.create_training_job(**args)["TrainingJobArn"]
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code")
        if code == "ResourceInUse":  # a concurrent invocation won the race
            LOG.info(json.dumps({"event": "training-job-exists", "job": name, "race": True}))
            return {"status": "exists", "jobName": name}
        if code == "ResourceLimitExceeded":  # a service quota (often 0 for GPU and Spot types in a new account)
            message = err.response.get("Error", {}).get("Message", "")
            found = QUOTA_NAME_RE.search(message)
            quota = found.group(1) if found else f"{request['instanceType']} for " + (
                "spot training job usage" if request["spot"] else "training job usage")
            raise RequestError([f"the service quota '{quota}' does not allow {request['instanceCount']} x "
                                f"{request['instanceType']}: request an increase in Service Quotas (SageMaker) or "
                                f"ask for another instance type ({message})"], quota=quota, job=name) from None
        raise
    LOG.info(json.dumps({"event": "training-job-started", "job": name, "arn": arn}))
    return {"status": "started", "jobName": name, "jobArn": arn}


def _metric(cloudwatch, name: str) -> None:
    cloudwatch.put_metric_data(Namespace=METRIC_NAMESPACE, MetricData=[{
        "MetricName": name, "Value": 1, "Unit": "Count",
        "Dimensions": [{"Name": "Stack", "Value": os.environ.get("STACK", "unknown")}]}])


def extract_request(event: dict, s3) -> Any | None:
    """The request carried by `event`, or None when the event is not a request."""
    detail_type = event.get("detail-type")
    if event.get("source") == "aws.s3" and detail_type == "Object Created":
        bucket = event["detail"]["bucket"]["name"]
        key = unquote_plus(event["detail"]["object"]["key"])
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise RequestError([f"request object s3://{bucket}/{key} no longer exists"]) from None
            raise
        try:
            return json.loads(body)
        except ValueError as exc:
            raise RequestError([f"s3://{bucket}/{key} is not valid JSON: {exc}"]) from None
    if detail_type == "Training Request":
        return event.get("detail")
    if "detail-type" in event:
        return None
    return event


def announce_rejection(events, err: RequestError) -> None:
    """The requester hears it: a "Training Request Rejected" event on the default bus (the ML tier's rule sends it
    to the warnings topic). Best effort: the rejection stands even when the event cannot be sent."""
    detail = {"errors": err.errors, "quota": err.quota, "jobName": err.job, "stack": os.environ.get("STACK", "")}
    try:
        out = events.put_events(Entries=[{"Source": REQUEST_SOURCE, "DetailType": REJECTED_DETAIL_TYPE,
                                          "Detail": json.dumps(detail)}])
        if out.get("FailedEntryCount"):
            LOG.error(json.dumps({"event": "rejection-not-announced", "entries": out.get("Entries")}))
    except ClientError as exc:
        LOG.error(json.dumps({"event": "rejection-not-announced", "error": str(exc)}))


def handler(event, context=None, *, sagemaker=None, s3=None, cloudwatch=None, events=None):
    sagemaker = sagemaker or boto3.client("sagemaker", config=RETRIES)
    cloudwatch = cloudwatch or boto3.client("cloudwatch", config=RETRIES)
    if event.get("detail-type") == "SageMaker Training Job State Change":
        detail = event.get("detail", {})
        status = detail.get("TrainingJobStatus")
        if status in NOT_COMPLETED:
            # Failed, or Stopped: MaxRuntimeExceeded, MaxWaitTimeExceeded (Spot never got capacity), or by hand.
            LOG.error(json.dumps({"event": "training-job-not-completed", "job": detail.get("TrainingJobName"),
                                  "status": status, "secondaryStatus": detail.get("SecondaryStatus"),
                                  "reason": detail.get("FailureReason")}))
            _metric(cloudwatch, "TrainingJobsFailed")
            return {"status": "recorded-failure", "jobName": detail.get("TrainingJobName"), "jobStatus": status,
                    "secondaryStatus": detail.get("SecondaryStatus")}
        return {"status": "ignored"}
    try:
        raw = extract_request(event, s3 or boto3.client("s3", config=RETRIES))
        if raw is None:
            LOG.warning(json.dumps({"event": "ignored", "detail-type": event.get("detail-type")}))
            return {"status": "ignored"}
        request = normalise(raw)
        return start(request, sagemaker)
    except RequestError as err:
        LOG.error(json.dumps({"event": "training-request-rejected", "errors": err.errors, "quota": err.quota}))
        _metric(cloudwatch, "TrainingRequestsRejected")
        announce_rejection(events or boto3.client("events", config=RETRIES), err)
        out = {"status": "rejected", "errors": err.errors}
        if err.quota:
            out["quota"] = err.quota
        return out
