"""Tests for policies/rules/batch.py: privileged containers in every job-definition shape, both sides."""
from __future__ import annotations

import json

from policy_harness import UNKNOWN, check, names, rec, skipped, violations

JOB = "aws:batch/jobDefinition:JobDefinition"
POLICY = "batch-job-no-privileged-containers"


def _job(name, **props):
    return rec(JOB, name, {"type": "container", **props})


def test_privileged_container_properties_are_reported_and_unprivileged_pass():
    r = check([
        _job("priv", containerProperties=json.dumps({"image": "busybox", "privileged": True})),
        _job("priv-string", containerProperties=json.dumps({"image": "busybox", "privileged": "true"})),
        _job("plain", containerProperties=json.dumps({"image": "busybox"})),
        _job("off", containerProperties=json.dumps({"image": "busybox", "privileged": False})),
        _job("off-string", containerProperties=json.dumps({"image": "busybox", "privileged": "false"})),
    ])
    assert names(violations(r, POLICY)) == {"priv", "priv-string"}
    [v] = [v for v in violations(r, POLICY) if v.urn.endswith("::priv")]
    assert "containerProperties: privileged is true" in v.message and v.level == "mandatory"


def test_ecs_node_and_eks_properties_are_read_too():
    ecs = {"taskProperties": [{"containers": [{"name": "main", "image": "x", "privileged": True}]}]}
    nodes = {"mainNode": 0, "numNodes": 2, "nodeRangeProperties": [
        {"targetNodes": "0:", "container": {"image": "x", "privileged": True}}]}
    eks = {"podProperties": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]}}
    eks_ok = {"podProperties": {"containers": [{"name": "c", "image": "x", "securityContext": {"runAsNonRoot": True}}]}}
    r = check([_job("ecs", ecsProperties=json.dumps(ecs)), _job("multinode", type="multinode",
                                                                 nodeProperties=json.dumps(nodes)),
               _job("eks", eksProperties=eks), _job("eks-ok", eksProperties=eks_ok),
               _job("ecs-ok", ecsProperties=json.dumps({"taskProperties": [{"containers": [{"image": "x"}]}]}))])
    assert names(violations(r, POLICY)) == {"ecs", "multinode", "eks"}
    assert any("containers[main]" in v.message for v in violations(r, POLICY))


def test_preview_with_computed_properties_cannot_pass():
    """A containerProperties built from other resources' outputs is unknown in a new stack's preview: the rule says
    it could not run, it does not pass."""
    r = check([_job("computed", containerProperties=UNKNOWN)])
    assert violations(r, POLICY) == [] and names(skipped(r, POLICY)) == {"computed"}
