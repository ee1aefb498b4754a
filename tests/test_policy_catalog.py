"""The pack's metadata and docs: every rule is documented, tested and listed in the README; the stack configs
name only real policies and give each rule a level."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from plan.analyze import build_servicer, configure
from policies import catalog

ROOT = Path(__file__).resolve().parent.parent
RULES = catalog.rules()


def test_catalog_is_importable_without_building_a_pack():
    assert len(RULES) == len({r.id for r in RULES}) and len(RULES) >= 40


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_metadata(rule):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id)
    assert rule.description and rule.severity in ("low", "medium", "high", "critical")
    assert rule.remediation and rule.tags
    assert rule.resource_types, f"{rule.id}: the catalog cannot tell which resource types it checks"
    assert set(rule.levels.values()) <= {"advisory", "mandatory", "remediate", "disabled"}


def test_every_rule_is_named_in_some_rule_test_file():
    text = "\n".join(p.read_text() for p in sorted((ROOT / "tests").glob("test_rules_*.py")))
    untested = [r.id for r in RULES if f'"{r.id}"' not in text and f"'{r.id}'" not in text]
    assert untested == [], f"rules with no test naming them: {untested}"


def test_readme_policy_table_is_generated():
    table = catalog.readme_table((ROOT / "README.md").read_text())
    assert table is not None, "README lacks the policy-table block"
    assert table == catalog.markdown(), "README policy table is stale: run `python -m policies.catalog --write-readme`"


def test_markdown_cli_prints_the_table(capsys):
    assert catalog.main(["--markdown"]) == 0
    assert capsys.readouterr().out == catalog.markdown()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_configs_are_valid_and_levels_match_intent(stack):
    cfg = json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())
    configure(build_servicer(), cfg)  # unknown names or bad values raise
    levels = {r.id: r.levels[stack] for r in RULES}
    for r in RULES:
        if "remediation" in r.tags or r.id == "required-tags":
            assert levels[r.id] == "remediate", r.id
    if stack == "dev":
        assert {lvl for lvl in levels.values()} <= {"advisory", "remediate"}
    else:
        # rules protecting data and access are enforced in prod. Exception: awsx public subnets (NAT gateways,
        # load balancers) map public IPs by design, so subnet-no-auto-public-ip stays advisory.
        for r in RULES:
            if r.id in ("subnet-no-auto-public-ip",):
                continue
            if r.severity == "critical" or ({"encryption", "exposure"} & set(r.tags)):
                assert levels[r.id] in ("mandatory", "remediate"), r.id


def test_remediation_policies_only_remediate():
    for r in RULES:
        if "remediation" in r.tags:
            assert r.remediates and r.id.endswith("-remediation")
