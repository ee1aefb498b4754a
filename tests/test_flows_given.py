"""The flow check follows what a service is given (issue 24): the endpoint in its environment decides which
instance's `rds-db:connect` grant (each instance has its own DbiResourceId), IAM-auth setting and security-group
path are evaluated; and the program gives each service one instance for both (components/service_access.py
`database_target`). Each class reintroduced on the recorded prod plan turns the named flow red."""
from __future__ import annotations

import copy
import json

from conftest import stack_plan
from plan.flows.catalogue import build_flows
from plan.flows.model import Model

READ_ONLY = ("search", "quality")


def flows(plan=None):
    return build_flows(plan if plan is not None else stack_plan("prod", preview=False))


def db_flow(table, service):
    (f,) = [f for f in table if f.source == service and f.action == "rds-db:connect" and f.expected == "allow"]
    return f


def mutated(mutate):
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    mutate(plan, Model(plan))
    return flows(plan)


def _instances(plan, m):
    rds = [r for r in plan.resources if r.type == "aws:rds/instance:Instance" and m.region_of(r) == plan.region]
    primary = next(r for r in rds if not r.inputs.get("replicateSourceDb"))
    replica = next(r for r in rds if r.inputs.get("replicateSourceDb"))
    return primary, replica


def test_read_only_services_are_evaluated_against_the_replica_they_are_given():
    table = flows()
    for svc in READ_ONLY:
        f = db_flow(table, svc)
        assert f.target.startswith("database ai-platform-prod-postgres-replica ") and f.verdict.allowed is True, f.to_json()
    assert db_flow(table, "classification").target == "database ai-platform-prod-postgres (readwrite)"


def test_read_only_service_granted_the_primary_is_denied():
    """The defect of issue 24: search connects to the replica with a grant naming the primary's resource id."""
    def grant_primary(plan, m):
        primary, replica = _instances(plan, m)
        pol = next(r for r in plan.resources if r.name == "search-task-db" and m.region_of(r) == plan.region)
        pol.inputs["policy"] = pol.inputs["policy"].replace(m.get(replica, "resourceId"), m.get(primary, "resourceId"))
        assert m.get(primary, "resourceId") in pol.inputs["policy"]
    f = db_flow(mutated(grant_primary), "search")
    assert f.verdict.allowed is False and "rds-db:connect" in f.verdict.reason
    assert "replica" in f.target


def test_replica_without_iam_database_authentication_is_denied():
    def auth_off(plan, m):
        _, replica = _instances(plan, m)
        replica.inputs.pop("iamDatabaseAuthenticationEnabled")
        replica.outputs.pop("iamDatabaseAuthenticationEnabled", None)
    table = mutated(auth_off)
    for svc in READ_ONLY:
        f = db_flow(table, svc)
        assert f.verdict.allowed is False and "IAM database authentication is off" in f.verdict.reason
    assert db_flow(table, "classification").verdict.allowed is True   # the primary's services are unaffected


def test_db_host_that_is_no_endpoint_of_the_plan_is_denied():
    def elsewhere(plan, m):
        _, replica = _instances(plan, m)
        td = next(r for r in plan.resources if r.name == "search-task" and m.region_of(r) == plan.region
                  and r.type == "aws:ecs/taskDefinition:TaskDefinition")
        for store in (td.inputs, td.outputs):
            if isinstance(store.get("containerDefinitions"), str):
                store["containerDefinitions"] = store["containerDefinitions"].replace(
                    m.get(replica, "address"), "db.elsewhere.example.com")
    f = db_flow(mutated(elsewhere), "search")
    assert f.verdict.allowed is False and "db.elsewhere.example.com" in f.verdict.reason


def test_the_program_gives_each_service_one_instance_for_host_and_grant():
    """components/service_access.py: the host in the environment and the resource id in the grant come from the
    same decision (readonly: the replica when there is one)."""
    plan = stack_plan("prod", preview=False)
    m = Model(plan)
    by_rid = {m.get(r, "resourceId"): r for r in plan.resources if r.type == "aws:rds/instance:Instance"}
    for td in (r for r in plan.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"):
        env = {e["name"]: e["value"] for c in json.loads(m.get(td, "containerDefinitions"))
               for e in c.get("environment") or []}
        if "DB_HOST" not in env:
            continue
        pol = next(r for r in plan.resources if r.name == f"{td.name}-db" and m.region_of(r) == m.region_of(td))
        rid = json.loads(pol.inputs["policy"])["Statement"][0]["Resource"].split(":dbuser:")[1].split("/")[0]
        assert m.get(by_rid[rid], "address") == env["DB_HOST"], (td.name, m.region_of(td))
