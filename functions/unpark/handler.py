"""Unpark: the last action of every release pipeline. A service is created parked (desired count and autoscaling
minimum 0) while its repository holds no image (components/ecs_services.parked); its first release deploys a
revision with the image but leaves it at 0 tasks. This action brings it to its configured counts at once, so no
second `pulumi up` is needed; the next `pulumi up` finds the image and sets the same counts (no change).

UserParameters (JSON, set by the delivery tier): {"cluster", "service", "desired", "min", "max"}. Only a service at
0 desired tasks is touched (a running service is left to autoscaling); the scalable target's minimum and maximum
are registered first (autoscaling keeps the count within them), then the desired count. Every outcome is one log
line and the job's result (PutJobSuccessResult / PutJobFailureResult: a failure fails the pipeline, whose failure
the delivery tier's EventBridge rule sends to the alerts topic).
"""
from __future__ import annotations

import json
import logging
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)


def unpark(params: dict, ecs=None, scaling=None) -> str:
    ecs = ecs or boto3.client("ecs")
    scaling = scaling or boto3.client("application-autoscaling")
    cluster, service = params["cluster"], params["service"]
    desired, lo, hi = int(params["desired"]), int(params["min"]), int(params["max"])
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services") or []
    if not found:
        raise RuntimeError(f"service {service} not found in cluster {cluster}")
    current = int(found[0].get("desiredCount", 0))
    if current > 0:
        return f"{service}: not parked ({current} tasks desired): unchanged"
    scaling.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=f"service/{cluster}/{service}", ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=lo, MaxCapacity=hi)
    ecs.update_service(cluster=cluster, service=service, desiredCount=desired)
    return f"{service}: unparked: desired 0 -> {desired}, autoscaling {lo}-{hi}"


def handler(event: dict, context: Any = None, *, ecs=None, scaling=None, pipeline=None) -> str:
    job = event["CodePipeline.job"]
    pipeline = pipeline or boto3.client("codepipeline")
    try:
        params = json.loads(job["data"]["actionConfiguration"]["configuration"]["UserParameters"])
        message = unpark(params, ecs, scaling)
    except Exception as err:  # noqa: BLE001 - every failure becomes the job's failure, with its message
        LOG.error("unpark failed: %s", err)
        pipeline.put_job_failure_result(jobId=job["id"], failureDetails={"type": "JobFailed", "message": str(err)[:4000]})
        raise
    LOG.info(message)
    pipeline.put_job_success_result(jobId=job["id"], executionDetails={"summary": message[:2000]})
    return message
