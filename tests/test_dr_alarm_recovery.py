"""Issue 26: every alarm the stack builds can return to OK in standby, after the failover's planned steps and after
the failback's (plan/dr.py `alarm_recovery`, over the prod plan and functions/dr_failover's own step lists). Both
sides: the DR replica's lag alarm without the procedure's handling, a breaching alarm on a parked DR service, and a
procedure step the model does not know are each named."""
from __future__ import annotations

import copy
import dataclasses

import pytest
from test_dr_tier import dr_provider, prod_with

from conftest import stack_plan
from plan import dr

LAG = "ai-platform-prod-postgres-dr-replica-lag"


@pytest.mark.parametrize("mode", ["pilot-light", "warm-standby"])
def test_every_alarm_can_return_to_ok_through_failover_and_failback(mode):
    plan = stack_plan("prod", preview=False) if mode == "pilot-light" else prod_with(mode, False, released=True)
    assert dr.alarm_recovery(plan) == []
    assert not [n for n in dr.objectives(plan).notes if "cannot return to OK" in n]
    # the lag alarm the procedure relaxes is the manifest's, with the stack's own missing-data handling
    [lag] = [a for a in plan.of_type(dr.ALARM) if a.props.get("name") == LAG]
    assert plan.exports["drManifest"]["drReplicaAlarms"] == {LAG: lag.props["treatMissingData"]} == {LAG: "breaching"}


def _with_manifest(plan, change):
    doc = copy.deepcopy(plan.exports["drManifest"])
    change(doc)
    return dataclasses.replace(plan, exports={**plan.exports, "drManifest": doc})


def test_a_promoted_replicas_lag_alarm_left_breaching_holds_alarm_after_failover():
    plan = stack_plan("prod", preview=False)
    bare = _with_manifest(plan, lambda d: d.pop("drReplicaAlarms"))
    assert dr.alarm_recovery(bare) == [
        f"{LAG} (us-west-2) after failover: ai-platform-prod-postgres-dr is not a replica (no ReplicaLag), "
        "treatMissingData breaching: it stays ALARM"]      # after failback the re-created replica reports again
    assert any(LAG in n for n in dr.objectives(bare).notes)


def test_a_breaching_alarm_on_parked_dr_services_is_named_in_standby():
    """e.g. a region-liveness alarm in the DR region (the ECS services' CPU summed, missing = breaching): pilot-light
    parks every DR service at 0, so it would hold ALARM in standby and again after the failback's standby step."""
    plan = stack_plan("prod", preview=False)
    [live] = [a for a in plan.of_type(dr.ALARM) if a.name == "alarm-region-liveness"]
    dr_services = plan.exports["drManifest"]["services"]
    queries = copy.deepcopy(live.inputs["metricQueries"])
    for q, svc in zip([q for q in queries if isinstance(q.get("metric"), dict)], dr_services, strict=False):
        q["metric"]["dimensions"] = {**q["metric"]["dimensions"], "ServiceName": svc}
    moved = dataclasses.replace(live, urn=live.urn + "-dr", provider=dr_provider(plan).urn,
                                inputs={**live.inputs, "metricQueries": queries})
    found = dr.alarm_recovery(dataclasses.replace(plan, resources=[*plan.resources, moved]))
    name = live.props["name"]
    assert [line.split(": ")[0] for line in found] == [f"{name} (us-west-2) in standby", f"{name} (us-west-2) after failback"]
    assert all("at 0 tasks" in line and "it stays ALARM" in line for line in found)


def test_a_procedure_step_the_model_does_not_know_is_named():
    plan = stack_plan("prod", preview=False)
    from functions.dr_failover.manifest import parse
    from functions.dr_failover.procedure import Procedure
    proc = Procedure(parse(plan.exports["drManifest"]), clients=lambda *a: None)
    steps = {"failover": [s.name for s in proc.failover_steps()] + ["drain-queues"],
             "failback": [s.name for s in proc.failback_steps()]}
    assert dr.alarm_recovery(plan, steps) == [
        "failover step drain-queues: its effect on the alarms' resources is not modelled (plan/dr.py _effects)"]
