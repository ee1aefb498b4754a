"""functions/offhours_scheduler against moto: the stop/start round trip restores exactly the previous state,
never touches prod-tagged resources, is idempotent and resumes after a partial failure."""
from __future__ import annotations

import json
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from conftest import moto_session
from functions.offhours_scheduler import handler as sched

# the moto group (tests/test_fn_dr_failover.py)
pytestmark = pytest.mark.xdist_group("moto")

REGION = "us-east-1"
PATH = "/ai-platform/dev/offhours"
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": REGION, "STATE_PATH": PATH, "TAG_KEY": "OffHours", "ENVIRONMENT": "dev"}


@pytest.fixture(scope="module")
def moto_clients():
    with moto_session(ENV, REGION, "ecs", "sagemaker", "ssm") as session:
        yield session


@pytest.fixture
def c(moto_clients):
    m, clients = moto_clients
    m.reset()
    seed(clients)
    return clients


def tags(env="dev", off=True, style="ecs"):
    pairs = {"Environment": env, **({"OffHours": "true"} if off else {})}
    k, v = ("key", "value") if style == "ecs" else ("Key", "Value")
    return [{k: a, v: b} for a, b in pairs.items()]


SERVICES = {  # name -> (desired count, environment tag, OffHours tag)
    "api": (3, "dev", True), "worker": (1, "dev", True), "zero": (0, "dev", True),
    "untagged": (2, "dev", False), "prod-api": (4, "prod", True)}
ENDPOINTS = {"ocr": ("dev", True), "always-on": ("dev", False), "prod-ocr": ("prod", True)}


def seed(c):
    ecs, sm = c["ecs"], c["sagemaker"]
    ecs.create_cluster(clusterName="apps")
    ecs.register_task_definition(family="t", containerDefinitions=[{"name": "c", "image": "nginx", "memory": 128}])
    for name, (count, env, off) in SERVICES.items():
        ecs.create_service(cluster="apps", serviceName=name, taskDefinition="t", desiredCount=count,
                           tags=tags(env, off))
    sm.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ocr:1"})
    for name, (env, off) in ENDPOINTS.items():
        sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[{
            "VariantName": "primary", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config", Tags=tags(env, off, "sm"))


def snapshot(c):
    """Everything the scheduler could change: service desired counts, endpoints with config and tags."""
    ecs, sm = c["ecs"], c["sagemaker"]
    arns = ecs.list_services(cluster="apps")["serviceArns"]
    described = ecs.describe_services(cluster="apps", services=arns)["services"]
    services = {s["serviceName"]: s["desiredCount"] for s in described}
    endpoints = {}
    for ep in sm.list_endpoints()["Endpoints"]:
        d = sm.describe_endpoint(EndpointName=ep["EndpointName"])
        t = {x["Key"]: x["Value"] for x in sm.list_tags(ResourceArn=ep["EndpointArn"])["Tags"]}
        endpoints[ep["EndpointName"]] = (d["EndpointConfigName"], t)
    return services, endpoints


def records(c):
    out = c["ssm"].get_parameters_by_path(Path=PATH, Recursive=True)["Parameters"]
    return {p["Name"]: json.loads(p["Value"]) for p in out}


def test_stop_then_start_restores_exactly_and_never_touches_prod(c):
    before = snapshot(c)
    result = sched.handler({"action": "stop"}, None, **c)
    assert result["status"] == "ok"
    services, endpoints = snapshot(c)
    assert services == {"api": 0, "worker": 0, "zero": 0, "untagged": 2, "prod-api": 4}
    assert set(endpoints) == {"always-on", "prod-ocr"}
    assert records(c)[f"{PATH}/ecs/apps/api"]["desiredCount"] == 3
    assert records(c)[f"{PATH}/sagemaker/ocr"]["endpointConfigName"] == "ocr-config"
    assert sched.handler({"action": "start"}, None, **c)["status"] == "ok"
    assert snapshot(c) == before
    assert records(c) == {}


def test_stop_twice_keeps_the_original_counts_and_start_twice_is_harmless(c):
    before = snapshot(c)
    sched.handler({"action": "stop"}, None, **c)
    second = sched.handler({"action": "stop"}, None, **c)
    assert second["changed"] == [] and records(c)[f"{PATH}/ecs/apps/api"]["desiredCount"] == 3
    sched.handler({"action": "start"}, None, **c)
    again = sched.handler({"action": "start"}, None, **c)
    assert again["changed"] == [] and snapshot(c) == before


def test_a_service_scaled_back_up_overnight_is_stopped_again_but_the_original_count_is_kept(c):
    before = snapshot(c)
    sched.handler({"action": "stop"}, None, **c)
    c["ecs"].update_service(cluster="apps", service="api", desiredCount=2)  # e.g. auto scaling's minimum
    sched.handler({"action": "stop"}, None, **c)
    assert snapshot(c)[0]["api"] == 0 and records(c)[f"{PATH}/ecs/apps/api"]["desiredCount"] == 3
    sched.handler({"action": "start"}, None, **c)
    assert snapshot(c) == before


def test_partial_failure_is_reported_and_a_rerun_resumes(c):
    before = snapshot(c)
    real_update = c["ecs"].update_service
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "UpdateService")

    def flaky(**kw):
        if kw["service"].endswith("/worker"):
            raise throttled
        return real_update(**kw)

    with mock.patch.object(c["ecs"], "update_service", side_effect=flaky):
        with pytest.raises(sched.PartialFailure, match="worker.*ThrottlingException"):
            sched.handler({"action": "stop"}, None, **c)
    services, endpoints = snapshot(c)
    assert services["api"] == 0 and services["worker"] == 1 and "ocr" not in endpoints  # the others went on
    resumed = sched.handler({"action": "stop"}, None, **c)
    assert resumed["status"] == "ok" and snapshot(c)[0]["worker"] == 0
    assert records(c)[f"{PATH}/ecs/apps/worker"]["desiredCount"] == 1
    sched.handler({"action": "start"}, None, **c)
    assert snapshot(c) == before


def test_failed_restore_keeps_the_record_for_the_next_run(c):
    before = snapshot(c)
    sched.handler({"action": "stop"}, None, **c)
    real_create = c["sagemaker"].create_endpoint
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "CreateEndpoint")
    with mock.patch.object(c["sagemaker"], "create_endpoint", side_effect=throttled):
        with pytest.raises(sched.PartialFailure):
            sched.handler({"action": "start"}, None, **c)
    assert list(records(c)) == [f"{PATH}/sagemaker/ocr"]
    with mock.patch.object(c["sagemaker"], "create_endpoint", side_effect=real_create):
        sched.handler({"action": "start"}, None, **c)
    assert snapshot(c) == before and records(c) == {}


def test_missing_resources_on_restore(c):
    sched.handler({"action": "stop"}, None, **c)
    c["ecs"].delete_service(cluster="apps", service="api", force=True)   # deleted overnight: record is stale
    c["sagemaker"].delete_endpoint_config(EndpointConfigName="ocr-config")  # config gone: cannot restore
    with pytest.raises(sched.PartialFailure, match="sagemaker/ocr"):
        sched.handler({"action": "start"}, None, **c)
    assert list(records(c)) == [f"{PATH}/sagemaker/ocr"]  # kept for an operator; the stale ECS record is gone
    assert snapshot(c)[0]["worker"] == 1


def test_refuses_to_run_in_a_prod_stack(c, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "prod")
    before = snapshot(c)
    assert sched.handler({"action": "stop"}, None, **c)["status"] == "refused"
    assert snapshot(c) == before and records(c) == {}


def test_bad_action_is_rejected_and_changes_nothing(c):
    before = snapshot(c)
    for event in ({"action": "pause"}, {}, None):
        out = sched.handler(event, None, **c)
        assert out["status"] == "rejected" and "action must be" in out["errors"][0]
    assert snapshot(c) == before


def test_restore_leaves_out_aws_system_tags_that_create_endpoint_rejects(c):
    sched.handler({"action": "stop"}, None, **c)
    name = f"{PATH}/sagemaker/ocr"
    rec = records(c)[name]
    rec["tags"]["aws:cloudformation:stack-name"] = "legacy"  # ListTags returns system tags; requests can't set them
    c["ssm"].put_parameter(Name=name, Value=json.dumps(rec), Type="String", Overwrite=True)
    real_create = c["sagemaker"].create_endpoint
    with mock.patch.object(c["sagemaker"], "create_endpoint", side_effect=real_create) as create:
        assert sched.handler({"action": "start"}, None, **c)["status"] == "ok"
    [call] = create.call_args_list
    assert {t["Key"] for t in call.kwargs["Tags"]} == {"Environment", "OffHours"}
    assert call.kwargs["EndpointConfigName"] == "ocr-config"
