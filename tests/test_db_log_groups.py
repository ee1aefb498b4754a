"""Every database that exports logs to CloudWatch has its log groups built by the stack (issue 26: the DR replica
exported `postgresql`/`upgrade` into groups RDS created itself, with no key and no retention): for each RDS
instance and DocumentDB cluster with `enabledCloudwatchLogsExports`, in either region, the group of each export
(`/aws/rds/instance/<id>/<log>`, `/aws/docdb/<cluster>/<log>`: RDS User Guide, 'Publishing database logs to
Amazon CloudWatch Logs') is in the plan, in the database's region, KMS-encrypted with a retention, and the database
waits for it (else RDS creates a plain group at the first export and the stack's `create` then fails on it)."""
from __future__ import annotations

import dataclasses

import pytest

from conftest import stack_plan
from plan import dr

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
EXPORTERS = {"aws:rds/instance:Instance": ("identifier", "/aws/rds/instance"),
             "aws:docdb/cluster:Cluster": ("clusterIdentifier", "/aws/docdb")}


def log_group_gaps(plan) -> list[str]:
    view = dr._View(plan)
    groups = {(g.props.get("name"), view.region(g)): g for g in plan.of_type(LOG_GROUP)}
    gaps = []
    for token, (id_prop, prefix) in EXPORTERS.items():
        for db in plan.of_type(token):
            region = view.region(db)
            for log in db.props.get("enabledCloudwatchLogsExports") or []:
                name = f"{prefix}/{db.props.get(id_prop)}/{log}"
                g = groups.get((name, region))
                if g is None:
                    gaps.append(f"{name} ({region}): not built")
                elif not g.props.get("kmsKeyId") or not g.props.get("retentionInDays"):
                    gaps.append(f"{name} ({region}): no key or no retention")
                elif g.urn not in (db.options.get("dependsOn") or []):
                    gaps.append(f"{name} ({region}): {db.name} does not wait for it")
    return gaps


@pytest.mark.parametrize("stack,preview", [("prod", True), ("prod", False), ("dev", False)])
def test_every_exported_database_log_has_its_group(stack, preview):
    plan = stack_plan(stack, preview=preview)
    exporting = [d for t in EXPORTERS for d in plan.of_type(t) if d.props.get("enabledCloudwatchLogsExports")]
    assert exporting or stack == "dev"     # dev exports none
    assert log_group_gaps(plan) == []


def test_the_dr_replica_exports_into_groups_of_its_own_region_under_the_dr_logs_key():
    plan = stack_plan("prod", preview=False)
    view = dr._View(plan)
    [replica] = [r for r in plan.of_type("aws:rds/instance:Instance") if view.region(r) == "us-west-2"]
    groups = [g for g in plan.of_type(LOG_GROUP)
              if g.props["name"].startswith(f"/aws/rds/instance/{replica.props['identifier']}/")]
    assert {g.props["name"].rsplit("/", 1)[1] for g in groups} == set(replica.props["enabledCloudwatchLogsExports"])
    [key] = [k for k in plan.of_type("aws:kms/key:Key") if k.name == "dr-logs-key"]
    for g in groups:
        assert view.region(g) == "us-west-2" and g.props["kmsKeyId"] == key.outputs["arn"]
    # both sides: without them (as before issue 26) the check names each group
    bare = dataclasses.replace(plan, resources=[r for r in plan.resources if r not in groups])
    assert sorted(log_group_gaps(bare)) == sorted(f"{g.props['name']} (us-west-2): not built" for g in groups)
    # ... and a group the database does not wait for
    def no_wait(r):
        return dataclasses.replace(r, options={**r.options, "dependsOn": []}) if r is replica else r
    loose = dataclasses.replace(plan, resources=[no_wait(r) for r in plan.resources])
    assert all("does not wait for it" in g for g in log_group_gaps(loose)) and len(log_group_gaps(loose)) == len(groups)
