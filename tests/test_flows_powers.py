"""Contracts must not combine into a power no contract grants (issue 32): writing the data lake is not starting
SageMaker training. plan/flows/powers.py forbids every contract role (ECS tasks: services, Batch jobs) to create
an object an EventBridge S3 trigger starts something with; the flows are decided by the IAM evaluation."""
from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from conftest import stack_plan
from plan.flows.catalogue import build_flows


def powers(plan):
    return [f for f in build_flows(plan) if f.group == "powers"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_contract_role_can_write_a_training_request(stack):
    flows = powers(stack_plan(stack, False))
    sources = {f.source.split(" (")[0] for f in flows}
    # document-extraction writes the data lake (its contract) and the Batch jobs read-write it (theirs)
    assert {"role document-extraction-task"} <= sources
    assert all("training-requests/" in f.target and "training-orchestrator" in f.target for f in flows)
    assert all(f.expected == "deny" and f.verdict.allowed is False for f in flows), [
        (f.source, f.verdict.reason) for f in flows if f.verdict.allowed is not False]


def _without_deny(plan):
    """The plan as it was before issue 32: the write grant on data-lake/* without the Deny on the trigger prefix."""
    resources = []
    for r in plan.resources:
        if r.type == "aws:iam/rolePolicy:RolePolicy" and "NoTriggeredPowers" in str(r.inputs.get("policy")):
            r = copy.deepcopy(r)
            doc = json.loads(r.inputs["policy"])
            doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "NoTriggeredPowers"]
            r.inputs["policy"] = json.dumps(doc)
        resources.append(r)
    return dataclasses.replace(plan, resources=resources)


def test_the_combined_power_is_caught_when_the_deny_is_missing():
    flows = powers(_without_deny(stack_plan("prod", False)))
    allowed = sorted({f.source for f in flows if f.verdict.allowed is True})
    assert "role document-extraction-task" in allowed and "role batch-job-role" in allowed
    # a role whose contract does not write the data lake stays denied either way
    assert all(f.verdict.allowed is False for f in flows if f.source == "role search-task")
