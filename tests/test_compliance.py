"""The compliance table (issue 32): `python -m plan --compliance` on both stacks, every claimed control met or
explained, docs/compliance.md carries prod's table, and the statuses follow the pack's verdicts on both sides."""
from __future__ import annotations

import dataclasses
import json

import pytest

from conftest import ROOT, cli, stack_analysis, stack_plan
from plan import compliance
from plan.analyze import Finding


def controls(stack, preview=False):
    return compliance.table(stack_plan(stack, preview), stack_analysis(stack, preview))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_control_the_pack_claims_is_met_or_explained(stack):
    table = controls(stack)
    assert compliance.unexplained(table) == []
    claimed = {cid for (_, cid) in compliance.claims(__import__("policies.rules", fromlist=["load"]).load())}
    listed = {c.id for c in table}
    assert claimed <= listed and set(compliance.CIS_V3) <= listed
    assert not [c for c in table if c.status == compliance.UNDECIDED]   # update mode decides everything


def test_prod_meets_the_findings_of_the_review():
    by_id = {(c.framework, c.id): c for c in controls("prod")}
    for cid in ("2.2.1", "3.1", "3.2", "3.3", "3.5", "3.7", "5.1", "5.4", *(f"4.{i}" for i in range(1, 16))):
        assert by_id[(compliance.CIS, cid)].status == compliance.MET, cid
    for cid in ("Config.1", "GuardDuty.1", "KMS.1", "KMS.2", "EC2.21"):
        assert by_id[(compliance.FSBP, cid)].status == compliance.MET, cid
    assert by_id[(compliance.CIS, "4.16")].status == compliance.ACCOUNT
    # dev shares prod's account: the baseline is prod's to build
    dev = {(c.framework, c.id): c for c in controls("dev")}
    assert dev[(compliance.CIS, "3.3")].status == compliance.ACCOUNT


def test_a_reported_resource_makes_its_control_not_met_and_unexplained_fails():
    plan, analysis = stack_plan("prod", False), stack_analysis("prod", False)
    acl = next(r for r in plan.resources if r.type == "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl")
    worse = dataclasses.replace(analysis, violations=[*analysis.violations, Finding(
        "default-network-acl-restricted", "mandatory", acl.urn, "rule 100 allows all traffic from 0.0.0.0/0")])
    by_id = {c.id: c for c in compliance.table(plan, worse)}
    assert by_id["5.1"].status == compliance.NOT_MET and by_id["5.1"].resources == ["default-nacl"]
    assert [c.id for c in compliance.unexplained(compliance.table(plan, worse))] == ["5.1", "EC2.21"]


def test_a_control_whose_rules_judge_nothing_is_not_applicable():
    plan, analysis = stack_plan("prod", False), stack_analysis("prod", False)
    by_id = {c.id: c for c in compliance.table(plan, analysis)}
    assert by_id["Redshift.1"].status == compliance.NA and by_id["Redshift.1"].rules
    # a stack without any load balancer: the ELB controls become not applicable
    no_lb = dataclasses.replace(plan, resources=[r for r in plan.resources if "loadBalancer" not in r.type])
    assert {c.id: c for c in compliance.table(no_lb, analysis)}["ELB.6"].status == compliance.NA


def test_docs_carry_prods_table():
    text = (ROOT / compliance.DOC).read_text()
    assert compliance.block(text) == compliance.markdown("prod", "update", controls("prod")), (
        "docs/compliance.md is stale: run `venv/bin/python -m plan.compliance --write-docs`")


def test_cli_text_and_json_and_bad_flags():
    out = cli("--stack", "prod", "--mode", "update", "--compliance", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["counts"] == compliance.counts(controls("prod")) and doc["mode"] == "update"
    row = next(c for c in doc["controls"] if c["id"] == "3.3")
    assert row["status"] == "met" and row["rules"] == ["account-baseline-every-region"]
    assert "aws:cfg/recorder:Recorder" not in row["resources"] and row["resources"]
    text = cli("--stack", "prod", "--mode", "update", "--compliance")
    assert text.returncode == 0 and "CIS v3.0.0" in text.stdout and "needs the account" in text.stdout
    bad = cli("--stack", "prod", "--compliance", "--no-policies")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--compliance" in bad.stderr
