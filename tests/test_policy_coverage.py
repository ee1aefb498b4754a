"""The coverage table (policies/COVERAGE.md, policies/coverage.json): generated from the registry, every anchor
check implemented or explained, every cited id known. Reads only the repository's copies of the anchor lists
(policies/anchors/), never ../shared."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies import coverage
from policies.rules import load

ROOT = Path(__file__).resolve().parent.parent
SPECS = load()


def test_every_id_a_rule_cites_is_in_an_anchor_list():
    unknown = coverage.unknown_citations(SPECS)
    assert unknown == [], (f"rules cite ids no anchor list has: {unknown}. Fix the id, or add the check to "
                           f"policies/anchors/<anchor>-extra.json with its title and source.")


def test_committed_coverage_is_not_stale():
    data = coverage.build(SPECS)
    stale = [p.name for p, text in ((coverage.COVERAGE_JSON, coverage.as_json(data)),
                                    (coverage.COVERAGE_MD, coverage.markdown(data)))
             if not p.exists() or p.read_text() != text]
    assert stale == [], f"{', '.join(stale)} stale relative to the rule registry: run `{coverage.REGENERATE}`"


def test_every_anchor_check_has_a_rule_or_a_reason():
    data = coverage.build(SPECS)
    unclassified = [f"{a} {r['id']}" for a, rows in data["anchors"].items() for r in rows
                    if r["status"] == "unclassified"]
    assert unclassified == [], (f"checks with neither a citing rule nor a reason: {unclassified}; cite the id in "
                                f"the rule that implements it or add a reason to policies/coverage-decisions.json")
    assert coverage.unknown_decisions() == []


def test_counts_per_anchor_are_in_the_table():
    data = json.loads(coverage.COVERAGE_JSON.read_text())
    md = coverage.COVERAGE_MD.read_text()
    for anchor, (title, _) in coverage.ANCHORS.items():
        c = data["counts"][anchor]
        assert c["total"] == len(data["anchors"][anchor]) == sum(v for k, v in c.items() if k != "total")
        assert f"| {title} | {c['implemented']} |" in md


@pytest.mark.parametrize("kind,ident,rule", [
    ("checkov", "CKV_AWS_210", "batch-job-no-privileged-containers"),
    ("checkov", "CKV_AWS_335", "ecs-task-no-host-namespaces"),
    ("checkov", "CKV_AWS_258", "lambda-function-url-auth"),
    ("checkov", "CKV_AWS_364", "lambda-permission-source-restricted"),
    ("checkov", "CKV_AWS_302", "rds-snapshot-not-public"),
    ("checkov", "CKV_AWS_31", "elasticache-redis-auth"),
    ("cdk-nag", "AwsSolutions-OS2", "opensearch-encryption-in-transit"),
    ("cdk-nag", "AwsSolutions-KDF1", "firehose-encrypted"),
    ("checkov", "CKV2_AWS_72", "cloudfront-origin-https"),
    ("checkov", "CKV_AWS_206", "apigateway-domain-tls12"),
    ("checkov", "CKV2_AWS_28", "alb-waf-attached"),
    ("checkov", "CKV_AWS_286", "iam-no-privilege-escalation"),
    ("checkov", "CKV_AWS_45", "lambda-env-no-secrets"),
    ("awsguard", "redshift-cluster-configuration", "redshift-cluster-configuration"),  # same name, same intent
])
def test_issue_31_families_are_implemented_in_the_table(kind, ident, rule):
    [row] = [r for r in coverage.build(SPECS)["anchors"][kind] if r["id"] == ident]
    assert row["status"] == "implemented" and rule in row["rules"]


def test_a_citation_removed_from_the_registry_turns_the_table_stale_and_a_made_up_id_is_caught():
    """The checks above fail for the right reasons: drop one rule's citations, or cite an id no list has."""
    import dataclasses
    spec = next(s for s in SPECS if s.id == "batch-job-no-privileged-containers")
    without = [dataclasses.replace(s, refs={}) if s is spec else s for s in SPECS]
    row = next(r for r in coverage.build(without)["anchors"]["checkov"] if r["id"] == "CKV_AWS_210")
    assert row["status"] == "unclassified"  # no reason recorded for it: the unclassified test would fail
    made_up = [dataclasses.replace(s, refs={**s.refs, "checkov": ("CKV_AWS_99999",)}) if s is spec else s
               for s in SPECS]
    assert coverage.unknown_citations(made_up) == ["batch-job-no-privileged-containers: checkov CKV_AWS_99999"]


def test_coverage_cli_prints_the_table(capsys):
    from policies import catalog
    assert catalog.main(["--coverage"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Policy pack coverage") and "| CKV_AWS_210 |" in out


def test_anchor_copies_do_not_depend_on_shared():
    for path in sorted((ROOT / "policies" / "anchors").glob("*.json")):
        assert json.loads(path.read_text()), path
    assert coverage.ANCHORS_DIR.resolve().is_relative_to(ROOT.resolve())
