"""functions/unpark against moto (ECS, Application Auto Scaling): the pipeline's last action brings a parked service
to its configured counts after its first release, leaves a running one alone, and reports every outcome to
CodePipeline (a failure fails the pipeline). And the delivery tier wires it as every pipeline's last stage."""
from __future__ import annotations

import json
from unittest import mock

import pytest

from conftest import moto_session
from functions.unpark import handler as unpark

# the moto group (tests/test_fn_dr_failover.py)
pytestmark = pytest.mark.xdist_group("moto")

REGION = "us-east-1"
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": REGION}
CLUSTER = "ai-platform-prod-services"


@pytest.fixture(scope="module")
def moto_clients():
    with moto_session(ENV, REGION, "ecs", "application-autoscaling") as session:
        yield session


@pytest.fixture
def c(moto_clients):
    m, clients = moto_clients
    m.reset()
    ecs = clients["ecs"]
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(family="search", containerDefinitions=[{"name": "search", "image": "x:1",
                                                                          "memory": 512}])
    for name, desired in (("search", 0), ("workflow", 3)):
        ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition="search", desiredCount=desired)
        clients["application-autoscaling"].register_scalable_target(
            ServiceNamespace="ecs", ResourceId=f"service/{CLUSTER}/{name}",
            ScalableDimension="ecs:service:DesiredCount", MinCapacity=0, MaxCapacity=10)
    return clients


def job(service: str, desired=2, lo=2, hi=10) -> dict:
    params = {"cluster": CLUSTER, "service": service, "desired": desired, "min": lo, "max": hi}
    return {"CodePipeline.job": {"id": "job-1", "data": {"actionConfiguration": {"configuration": {
        "FunctionName": "ai-platform-prod-unpark", "UserParameters": json.dumps(params)}}}}}


def state(c, service):
    svc = c["ecs"].describe_services(cluster=CLUSTER, services=[service])["services"][0]
    (target,) = c["application-autoscaling"].describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{CLUSTER}/{service}"])["ScalableTargets"]
    return svc["desiredCount"], target["MinCapacity"], target["MaxCapacity"]


def test_a_parked_service_goes_to_its_configured_counts_after_its_first_release(c):
    pipeline = mock.Mock()
    message = unpark.handler(job("search"), ecs=c["ecs"], scaling=c["application-autoscaling"], pipeline=pipeline)
    assert message == "search: unparked: desired 0 -> 2, autoscaling 2-10"
    assert state(c, "search") == (2, 2, 10)
    pipeline.put_job_success_result.assert_called_once_with(jobId="job-1", executionDetails={"summary": message})
    pipeline.put_job_failure_result.assert_not_called()


def test_a_running_service_is_left_to_autoscaling_and_a_second_run_changes_nothing(c):
    pipeline = mock.Mock()
    assert unpark.handler(job("workflow"), ecs=c["ecs"], scaling=c["application-autoscaling"],
                          pipeline=pipeline) == "workflow: not parked (3 tasks desired): unchanged"
    assert state(c, "workflow") == (3, 0, 10)
    unpark.handler(job("search"), ecs=c["ecs"], scaling=c["application-autoscaling"], pipeline=pipeline)
    again = unpark.handler(job("search"), ecs=c["ecs"], scaling=c["application-autoscaling"], pipeline=pipeline)
    assert again == "search: not parked (2 tasks desired): unchanged" and state(c, "search") == (2, 2, 10)


def test_a_failure_fails_the_job_with_its_message(c):
    pipeline = mock.Mock()
    with pytest.raises(RuntimeError, match="service missing not found"):
        unpark.handler(job("missing"), ecs=c["ecs"], scaling=c["application-autoscaling"], pipeline=pipeline)
    pipeline.put_job_failure_result.assert_called_once()
    assert "service missing not found" in pipeline.put_job_failure_result.call_args.kwargs["failureDetails"]["message"]
    pipeline.put_job_success_result.assert_not_called()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_pipeline_ends_with_the_unpark_action_and_its_service_counts(stack):
    from conftest import primary_plan
    plan = primary_plan(stack, preview=False)
    fn = plan.named("unpark", "aws:lambda/function:Function")
    services = {s.props["name"]: s for s in plan.of_type("aws:ecs/service:Service")}
    targets = {t.props["resourceId"].rsplit("/", 1)[-1]: t for t in plan.of_type("aws:appautoscaling/target:Target")}
    pipelines = plan.of_type("aws:codepipeline/pipeline:Pipeline")
    assert pipelines
    for pl in pipelines:
        last = pl.props["stages"][-1]
        assert [s["name"] for s in pl.props["stages"]][-2:] == ["Deploy", "Unpark"]
        (action,) = last["actions"]
        assert (action["category"], action["provider"]) == ("Invoke", "Lambda")
        assert action["configuration"]["FunctionName"] == fn.props["name"]
        params = json.loads(action["configuration"]["UserParameters"])
        svc = services[params["service"]]
        tgt = targets[params["service"]]
        # The counts the stack itself sets once the image exists: unparking and the next `pulumi up` agree.
        assert params["max"] == tgt.props["maxCapacity"] and params["desired"] >= params["min"]
        assert svc.props["desiredCount"] in (0, params["desired"])
        # The pipeline may invoke exactly that function.
        role_policy = json.loads(next(r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
                                      if r.name == f"{params['service']}-pipeline-policy").props["policy"])
        (invoke,) = [st for st in role_policy["Statement"] if st.get("Sid") == "InvokeUnpark"]
        assert invoke["Resource"].endswith(f":function:{fn.props['name']}")
    assert {"alarm-lambda-unpark-errors", "alarm-dlq-unpark-depth"} <= {r.name for r in plan.resources}


def test_flows_pipeline_invokes_unpark_and_unpark_sets_only_its_counts():
    import copy

    from conftest import primary, stack_plan
    from plan.flows.catalogue import build_flows
    plan = stack_plan("prod", preview=False)
    flows = {(f.source, f.target): f for f in build_flows(plan)}
    invoke = flows[("pipeline ai-platform-prod-search", "function ai-platform-prod-unpark")]
    acts = flows[("function ai-platform-prod-unpark", "ECS service search (unpark)")]
    assert invoke.ok and invoke.verdict.allowed is True and acts.ok and acts.verdict.allowed is True
    # The other side: without its grants, each flow is red.
    broken = copy.deepcopy(plan)
    for name, sid in (("search-pipeline-policy", "InvokeUnpark"), ("unpark-policy", "ScalingFloor")):
        pol = primary(broken).named(name, "aws:iam/rolePolicy:RolePolicy")
        doc = json.loads(pol.inputs["policy"])
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != sid]
        pol.inputs["policy"] = json.dumps(doc)
    red = {(f.source, f.target): f for f in build_flows(broken)}
    assert not red[("pipeline ai-platform-prod-search", "function ai-platform-prod-unpark")].ok
    assert not red[("function ai-platform-prod-unpark", "ECS service search (unpark)")].ok
