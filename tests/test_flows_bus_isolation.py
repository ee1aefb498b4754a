"""Two stacks in one account must not react to each other's events (issue 24): plan/flows/bus_isolation.py's
forbidden flows `stack <other> events -> EventBridge rule <name> (default bus)`, and the pattern overlap they rest
on (EventBridge "Event patterns": both sides)."""
from __future__ import annotations

import copy
import json

import pytest

from conftest import stack_plan
from plan.flows.bus_isolation import overlap
from plan.flows.catalogue import build_flows

REQUESTS = "EventBridge rule ai-platform-prod-training-requests (default bus)"


@pytest.mark.parametrize("a,b,expected", [
    ({"source": ["ai-platform.ml"]}, {"source": ["ai-platform.ml"]}, True),
    ({"source": ["a"]}, {"source": ["b"]}, False),
    ({"source": ["x"], "detail": {"stack": ["prod"]}}, {"source": ["x"], "detail": {"stack": ["dev"]}}, False),
    ({"source": ["x"], "detail": {"stack": ["prod"]}}, {"source": ["x"]}, True),   # unconstrained on one side
    ({"detail": {"name": [{"prefix": "ai-platform-prod-"}]}}, {"detail": {"name": ["ai-platform-dev-train"]}}, False),
    ({"detail": {"name": [{"prefix": "ai-platform-"}]}}, {"detail": {"name": ["ai-platform-dev-train"]}}, True),
    ({"detail": {"name": [{"prefix": "ai-platform-prod-"}]}}, {"detail": {"name": [{"prefix": "ai-platform-dev-"}]}},
     False),
    ({"detail": {"state": [{"anything-but": "OK"}]}}, {"detail": {"state": ["FAILED"]}}, True),   # conservative
    ({"source": ["aws.codepipeline"], "$or": [{"detail": {"pipeline": ["p1"]}}, {"detail": {"pipeline": ["p2"]}}]},
     {"source": ["aws.codepipeline"], "detail": {"pipeline": ["p3"]}}, False),
])
def test_pattern_overlap(a, b, expected):
    assert overlap(a, b) is expected and overlap(b, a) is expected


def flows(prod=None):
    return build_flows(prod or stack_plan("prod", preview=False), {"dev": stack_plan("dev", preview=False)})


def test_no_prod_rule_on_the_default_bus_reacts_to_dev_events():
    rows = [f for f in flows() if f.source == "stack dev events"]
    assert {f.target for f in rows} >= {REQUESTS, "EventBridge rule ai-platform-prod-training-rejected (default bus)",
                                        "EventBridge rule ai-platform-prod-pipeline-events (default bus)"}
    assert [f.to_json() for f in rows if not f.ok] == []


def test_a_rule_matching_any_stacks_requests_is_red():
    """The defect: training requests matched by source and detail-type only, as every stack's rule did."""
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    for r in plan.resources:
        if r.type == "aws:cloudwatch/eventRule:EventRule" and r.inputs.get("name") == "ai-platform-prod-training-requests":
            pattern = json.loads(r.inputs["eventPattern"])
            assert pattern.pop("detail") == {"stack": ["prod"]}
            r.inputs["eventPattern"] = json.dumps(pattern)
    [f] = [f for f in flows(plan) if f.source == "stack dev events" and f.target == REQUESTS]
    assert f.verdict.allowed is True and not f.ok and "ai-platform-dev-training-requests" in f.verdict.reason


def test_the_orchestrator_refuses_a_request_for_another_stack(monkeypatch):
    from functions.training_orchestrator import handler
    monkeypatch.setenv("STACK", "prod")
    for name, value in {"SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/sm", "OUTPUT_KMS_KEY_ARN": "k",
                        "DEFAULT_INSTANCE_TYPE": "ml.m5.large", "DEFAULT_SPOT": "false", "JOB_NAME_PREFIX": "t",
                        "MAX_INSTANCE_COUNT": "2", "MAX_RUNTIME_LIMIT_SECONDS": "86400", "MAX_RUNTIME_SECONDS": "3600",
                        "MAX_WAIT_LIMIT_SECONDS": "86400", "MAX_WAIT_SECONDS": "7200",
                        "ALLOWED_IMAGE_REPOSITORIES": "r", "ALLOWED_INSTANCE_TYPES": "ml.m5.large",
                        "LOCAL_STORAGE_INSTANCE_TYPES": "", "SECURITY_GROUP_IDS": "sg-1", "SUBNET_IDS": "s-1"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(handler.RequestError) as err:
        handler.normalise({"stack": "dev", "image": "1", "inputS3Uri": "s3://b/datasets/x/"})
    assert any("stack 'dev'" in e for e in err.value.errors)
    with pytest.raises(handler.RequestError) as err:   # its own stack: only the other problems
        handler.normalise({"stack": "prod", "image": "1", "inputS3Uri": "s3://b/datasets/x/"})
    assert not any("stack" in e for e in err.value.errors)
