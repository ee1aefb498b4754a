"""Recovery objectives (plan/dr.py): computed from the plan's replication mechanisms and sourced durations,
per mode; and the DR side priced with the DR region's price file."""
from __future__ import annotations

import dataclasses
import json

import pytest
from test_dr_tier import prod_with

from conftest import stack_plan
from plan import dr
from plan.cost import PRICES_DIR, default_usage_path, estimate

MIN = 60


def test_prod_pilot_light_meets_rto_one_hour_and_rpo_fifteen_minutes_for_every_store():
    o = dr.objectives(stack_plan("prod"))
    assert o.mode == "pilot-light" and o.dr_region == "us-west-2"
    assert o.rto_high <= 60 * MIN and o.meets() is True
    stores = {r.store.split()[0] for r in o.rpo}
    assert {"PostgreSQL", "S3", "DynamoDB", "Secrets"} <= stores
    for r in o.rpo:
        assert r.seconds is not None and r.seconds <= 15 * MIN, r
        assert r.source and r.source != "-", r
    for s in o.steps:
        assert s.source and 0 <= s.low <= s.high, s
    [pg] = [r for r in o.rpo if r.store.startswith("PostgreSQL") and r.direction == "to-dr"]
    assert "cross-region read replica" in pg.mechanism and pg.seconds == 900   # the ReplicaLag alarm's threshold
    assert [s.name for s in o.steps] == ["preflight", "promote-replica", "point-services", "use-current-images",
                                         "scale-services", "wait-services-stable",
                                         "deployment-bake (blue/green, 10.0 min)", "move-dns"]
    # the deliberately unreplicated stores are named, not hidden
    assert any("Cognito" in n for n in o.not_covered) and any("ElastiCache" in n for n in o.not_covered)


def test_warm_standby_rto_is_at_most_twenty_minutes():
    o = dr.objectives(prod_with("warm-standby", False, released=True))   # the objectives read no run-time value
    assert o.mode == "warm-standby" and o.rto_high <= 20 * MIN and o.meets() is True
    assert o.rto_high < dr.objectives(stack_plan("prod")).rto_high


def test_backup_restore_restores_rather_than_promotes():
    o = dr.objectives(prod_with("backup-restore", False, released=True))
    assert o.mode == "backup-restore" and "promote-replica" not in [s.name for s in o.steps]
    [pg] = [r for r in o.rpo if r.store.startswith("PostgreSQL")]
    assert pg.mechanism.startswith("automated backups") and pg.seconds == 600
    assert o.meets() is None     # the issue sets targets for the standing modes only
    assert dr.objectives(stack_plan("dev")).dr_region is None


def _without(plan, predicate):
    return dataclasses.replace(plan, resources=[r for r in plan.resources if not predicate(r)])


def test_the_rpo_follows_the_mechanisms_actually_built():
    plan = stack_plan("prod")
    # no ReplicaLag alarm on the DR replica: nothing bounds the lag, and the target is not met
    no_alarm = _without(plan, lambda r: r.type == dr.ALARM and r.props.get("metricName") == "ReplicaLag")
    o = dr.objectives(no_alarm)
    [pg] = [r for r in o.rpo if r.store.startswith("PostgreSQL") and r.direction == "to-dr"]
    assert pg.seconds is None and o.meets() is False
    # replication without RTC: no 15-minute bound
    def no_rtc(r):
        if r.type != dr.REPLICATION:
            return r
        rules = [{**rule, "destination": {k: v for k, v in rule["destination"].items() if k != "replicationTime"}}
                 for rule in r.inputs["rules"]]
        return dataclasses.replace(r, inputs={**r.inputs, "rules": rules})
    o = dr.objectives(dataclasses.replace(plan, resources=[no_rtc(r) for r in plan.resources]))
    # (the data buckets and the site bundle, which the DR tier replicates for CloudFront's secondary origin)
    # (both directions: the DR replicas' rules back are RTC-less too)
    assert [r.seconds for r in o.rpo if r.store.startswith("S3")] == [None] * 8 and o.meets() is False
    # no DynamoDB replica: the daily Backup copy is what is left, and nothing brings DR-region writes back
    o = dr.objectives(_without(plan, lambda r: r.type == dr.TABLE_REPLICA))
    assert {(r.direction, r.seconds) for r in o.rpo if r.store.startswith("DynamoDB")} == {("to-dr", 86400),
                                                                                            ("back", None)}


def test_the_rpo_of_what_is_written_in_the_dr_region_during_the_outage():
    """Issue 26: what the DR services write during the outage comes back at failback: S3 through the replicas'
    rules back (two-way, RTC), DynamoDB because global tables are multi-active, PostgreSQL through failback's
    replicate-to-primary behind the lag gate. Each figure has its source; without the rules back the S3 rows are
    unbounded and the targets are not met."""
    plan = stack_plan("prod")
    o = dr.objectives(plan)
    back = {r.store.split()[0] + " " + r.store.split()[1]: r for r in o.rpo if r.direction == "back"}
    forward = [r for r in o.rpo if r.direction == "to-dr" and r.store.split()[0] in ("S3", "DynamoDB", "PostgreSQL")]
    assert {f.store for f in forward} == {r.store for r in back.values()}   # every replicated store, both ways
    assert all(r.source and r.source != "-" for r in back.values())
    assert {r.seconds for k, r in back.items() if k.startswith("S3")} == {900}
    assert [r.seconds for r in back.values() if r.store.startswith("DynamoDB")] == [1]
    [pg] = [r for r in back.values() if r.store.startswith("PostgreSQL")]
    assert pg.seconds == 0 and "failback" in pg.mechanism and "lag gate" in pg.source
    assert "written in the DR region during the outage" in dr.text(o)
    assert {r["direction"] for r in o.to_json()["rpo"]} == {"to-dr", "back"}
    # break: the DR replicas' rules back removed -> those objects stay in the DR region, unbounded, target missed
    one_way = _without(plan, lambda r: r.type == dr.REPLICATION and "dr-provider" in (r.provider or ""))
    o = dr.objectives(one_way)
    stranded = [r for r in o.rpo if r.direction == "back" and r.store.startswith("S3")]
    assert len(stranded) == 4 and all(r.seconds is None for r in stranded) and o.meets() is False
    # backup-restore: nothing is written in the DR region until it is stood up (a standing mode adds the rules)
    base = dr.objectives(prod_with("backup-restore", False, released=True))
    assert not [r for r in base.rpo if r.direction == "back"]


def test_the_dns_step_is_computed_from_the_health_check():
    plan = stack_plan("prod")
    cfg = dr.dr_config(plan)
    o = dr.objectives(plan, {**cfg, "threshold": 2, "interval": 10})
    [dns] = [s for s in o.steps if s.name == "move-dns"]
    assert (dns.low, dns.high) == (20, 80)


def test_every_figure_in_the_data_file_names_its_source():
    doc = json.loads(dr.TIMES_PATH.read_text())
    for section in ("steps", "replication"):
        for key, row in doc[section].items():
            assert row.get("source"), f"{section}.{key}"


def test_dr_region_resources_are_priced_with_the_dr_region_price_file():
    plan = stack_plan("prod")
    est = estimate(plan, usage_file=default_usage_path("prod"))
    west = json.loads((PRICES_DIR / "us-west-2.json").read_text())["prices"]
    [replica] = [line for line in est.lines if line.name == "postgres-dr" and "db.r6g.large" in line.item]
    assert replica.region == "us-west-2"
    assert replica.unit_price == pytest.approx(west["rds.postgres"]["db.r6g.large"]["price"])
    nat = [line for line in est.lines if line.name == "dr-vpc" and line.item.startswith("NAT gateway hours")]
    assert nat and {line.region for line in nat} == {"us-west-2"}
    dr_services = [line for line in est.lines if line.region == "us-west-2" and line.item.startswith("Fargate")]
    assert dr_services and sum(line.monthly for line in dr_services) == 0   # pilot-light: 0 tasks


def test_the_cli_prints_and_exports_the_objectives():
    from conftest import cli
    run = cli("--stack", "prod", "--dr", "--json", "--no-policies")
    assert run.returncode == 0
    doc = json.loads(run.stdout)["disasterRecovery"]
    assert doc["mode"] == "pilot-light" and doc["targets"]["met"] is True
    assert doc["rto"]["highSeconds"] <= 3600 and doc["worstRpoSeconds"] <= 900
    assert doc["failbackRto"]["highSeconds"] > 0 and doc["failbackRto"]["steps"]   # failover AND failback
    text = cli("--stack", "prod", "--dr", "--no-policies")
    assert "RTO (pilot-light)" in text.stdout and "failback RTO" in text.stdout and text.returncode == 0
    assert all(r["source"] for r in doc["rpo"])


def _fargate_tasks(est, region: str) -> dict:
    """Service -> tasks priced in `region` (the vCPU-hour lines: 'Fargate vCPU-h: <n> x ...')."""
    out: dict = {}
    for line in est.lines:
        if line.region == region and line.item.startswith("Fargate vCPU-h:") and line.monthly > 0:
            out[line.name] = out.get(line.name, 0) + float(line.item.split(":")[1].split(" x ")[0])
    return out


@pytest.mark.parametrize("mode,standby", [("pilot-light", 0), ("warm-standby", 1)])
def test_a_released_mode_prices_each_dr_service_at_its_standby_count(mode, standby):
    plan = prod_with(mode, preview=False, released=True)
    est = estimate(plan, usage_file=default_usage_path("prod"))
    primary, west = _fargate_tasks(est, "us-east-1"), _fargate_tasks(est, "us-west-2")
    assert len(primary) == 9 and min(primary.values()) >= 1          # released: the primary's services run
    assert west == ({name: standby for name in primary} if standby else {})


def test_the_mode_table_prices_warm_standby_above_pilot_light_by_its_standby_tasks():
    # the released plans of each mode, shared with the tests above (mode_rows' default runs the same programs)
    rows = {r["mode"]: r for r in dr.mode_rows(stack_plan("prod"),
                                               plan_for=lambda mode: prod_with(mode, preview=False, released=True))}
    warm, pilot, base = rows["warm-standby"], rows["pilot-light"], rows["backup-restore"]
    assert base["addsMonthly"] == 0 < pilot["addsMonthly"] < warm["addsMonthly"]
    est = estimate(prod_with("warm-standby", preview=False, released=True), usage_file=default_usage_path("prod"))
    standby_tasks = sum(line.monthly for line in est.lines if line.region == "us-west-2"
                        and line.item.startswith("Fargate"))
    assert standby_tasks > 0
    assert warm["monthly"] - pilot["monthly"] == pytest.approx(standby_tasks, abs=0.05)
    assert warm["rtoHighSeconds"] <= 20 * MIN and pilot["rtoHighSeconds"] <= 60 * MIN


def test_queues_are_named_as_not_replicated_with_the_dr_regions_own():
    o = dr.objectives(stack_plan("prod"))
    [line] = [n for n in o.not_covered if n.startswith("SQS queues")]
    assert "own bus and 7 queues" in line      # the three event queues, their DLQs, the DR user sync's DLQ
    o = dr.objectives(prod_with("backup-restore", False, released=True))
    [line] = [n for n in o.not_covered if n.startswith("SQS queues")]
    assert "no DR-region queues" in line


def test_every_step_the_procedure_takes_is_counted_failover_and_failback():
    """Issue 26: the pilot-light failover's UpdateService starts a blue/green deployment whose bake (read from the
    DR services in the plan: 10 min) is part of the RTO; the failback RTO counts the write outage from the fence
    to DNS back, with the lag gate an idle source passes and the settings the new primary gets back; every step of
    both is one of functions/dr_failover's (or its bake) and names a source."""
    from functions.dr_failover.procedure import TYPICAL
    o = dr.objectives(stack_plan("prod"))
    [bake] = [s for s in o.steps if s.name.startswith("deployment-bake")]
    assert bake.low == bake.high == 10 * MIN and "bakeTimeInMinutes" in bake.source
    assert o.rto_high <= 60 * MIN and o.meets() is True
    names = [s.name.split(" (")[0] for s in o.failback_steps]
    assert names == ["fence-dr-services", "wait-replica-caught-up", "promote-primary", "restore-primary-settings",
                     "point-services", "scale-services", "wait-primary-services-stable", "deployment-bake",
                     "move-dns-back"]
    assert all(n in TYPICAL or n == "deployment-bake" for n in names)
    [gate] = [s for s in o.failback_steps if s.name == "wait-replica-caught-up"]
    assert gate.high >= 5 * MIN   # an idle PostgreSQL source's heartbeat interval
    assert all(s.source and 0 <= s.low <= s.high for s in o.failback_steps)
    assert o.failback_high == sum(s.high for s in o.failback_steps) and o.failback_low > 0
    # warm-standby's services are already on the release: no deployment at failover, no bake
    warm = dr.objectives(prod_with("warm-standby", False, released=True))
    assert not [s for s in warm.steps if s.name.startswith("deployment-bake")] and warm.failback_steps
    doc = o.to_json()
    assert doc["failbackRto"]["highSeconds"] == o.failback_high and len(doc["failbackRto"]["steps"]) == 9
