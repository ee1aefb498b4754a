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
    """The table ships with the pack (policies/README.md), generated from the registry."""
    table = catalog.readme_table((ROOT / "policies" / "README.md").read_text())
    assert table is not None, "policies/README.md lacks the policy-table block"
    assert table == catalog.markdown(), \
        "policies/README.md policy table is stale: run `python -m policies.catalog --write-readme`"


# Modules whose tests live in another module's test file: none (kept as the one place to say so).
GROUPED_TESTS: dict = {}


def test_every_rule_module_has_its_own_test_file():
    """Rule modules are one per AWS service and tests mirror them one to one."""
    modules = {r.module for r in RULES} - set(GROUPED_TESTS)
    assert all(m.isidentifier() and not m.startswith("_") for m in modules)
    missing = [m for m in sorted(modules) if not (ROOT / "tests" / f"test_rules_{m}.py").exists()]
    assert missing == [], f"rule modules without tests/test_rules_<module>.py: {missing}"
    orphans = sorted(p.stem[len("test_rules_"):] for p in (ROOT / "tests").glob("test_rules_*.py")
                     if p.stem[len("test_rules_"):] not in modules | set(GROUPED_TESTS.values()))
    assert orphans == [], f"rule test files with no rule module: {orphans}"


def test_each_rule_is_tested_in_its_module_test_file():
    untested = [r.id for r in RULES if f'"{r.id}"' not in
                (ROOT / "tests" / f"test_rules_{GROUPED_TESTS.get(r.module, r.module)}.py").read_text()]
    assert untested == [], f"rules not named in their module's test file: {untested}"


def test_registry_metadata_is_explicit():
    from policies.rules._registry import REF_KINDS, specs
    for s in specs():
        assert s.types and all(isinstance(t, str) for t in s.types), s.id
        assert set(s.refs) <= set(REF_KINDS), s.id
        assert s.autofix.decision in ("remediate", "report") and s.autofix.reason, s.id
        assert (s.autofix.decision == "remediate") == bool(getattr(s.policy, "has_remediation", lambda: False)())


def test_registry_refuses_a_remediation_without_its_reason():
    from policies.rules._registry import Autofix, rule
    with pytest.raises(ValueError, match="Autofix"):
        rule("x-test-only", "d", types=("aws:sqs/queue:Queue",), remediate=lambda a: None)
    with pytest.raises(ValueError, match="types"):
        rule("x-test-only", "d", types=())
    with pytest.raises(ValueError):
        Autofix("remediate", "")


def test_no_metadata_recovery_hacks_remain():
    src = "\n".join(p.read_text() for p in (ROOT / "policies").rglob("*.py") if "venv" not in p.parts)
    for hack in ("with_types", "STACK_TYPES", "getclosurevars", "co_consts", "_ResourceValidationPolicy__"):
        assert hack not in src, hack


def test_markdown_cli_prints_the_table(capsys):
    assert catalog.main(["--markdown"]) == 0
    assert capsys.readouterr().out == catalog.markdown()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_configs_are_valid_and_levels_match_intent(stack):
    cfg = json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())
    configure(build_servicer(), cfg)  # unknown names or bad values raise
    levels = {r.id: r.levels[stack] for r in RULES}
    for r in RULES:  # a level of "remediate" only where the rule's decision is to remediate
        if levels[r.id] == "remediate":
            assert r.autofix == "remediate" and r.remediates, r.id
    # Deployability rules (constraints AWS documents between resources: the `up` fails, or the resource deploys and
    # does not work) are mandatory in every stack: a dev `up` fails on them as a prod one does (issue 24).
    deployability = {r.id for r in RULES if "deployability" in r.tags}
    assert len(deployability) >= 10 and all(levels[i] == "mandatory" for i in deployability), \
        {i: levels[i] for i in deployability if levels[i] != "mandatory"}
    if stack == "dev":
        assert {lvl for i, lvl in levels.items() if i not in deployability} <= {"advisory", "remediate"}
    else:
        # rules protecting data and access are enforced in prod. Exception: awsx public subnets (NAT gateways,
        # load balancers) map public IPs by design, so subnet-no-auto-public-ip stays advisory.
        for r in RULES:
            if r.id in ("subnet-no-auto-public-ip",):
                continue
            if r.severity == "critical" or ({"encryption", "exposure"} & set(r.tags)):
                assert levels[r.id] in ("mandatory", "remediate"), r.id


def test_remediation_decisions():
    """Every remediating rule says why it cannot change behaviour; the four former remediations are gone."""
    for r in RULES:
        assert r.remediates == (r.autofix == "remediate"), r.id
    gone = {"s3-public-access-block-remediation", "sqs-queue-managed-encryption-remediation",
            "sns-topic-managed-encryption-remediation"}
    assert not gone & {r.id for r in RULES}
    assert not next(r for r in RULES if r.id == "required-tags").remediates


# --- org rollout as code ------------------------------------------------------------------------------
def test_publish_workflow_takes_the_version_from_the_tag_and_refuses_existing_versions():
    import yaml
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "policy-publish.yml").read_text())
    on = wf.get("on", wf.get(True))
    assert on["push"]["tags"] == ["policy-v*.*.*"]
    assert wf["permissions"] == {"contents": "read"}
    steps = wf["jobs"]["publish"]["steps"]
    text = "\n".join(str(s.get("run", "")) for s in steps)
    for step in steps:
        if "uses" in step:  # actions pinned by commit SHA
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    assert steps[0]["with"]["persist-credentials"] is False
    order = [text.index(s) for s in ("pulumi policy ls", "PulumiPolicy.yaml", "python -m venv policies/venv",
                                     "policies/requirements.txt")]
    assert order == sorted(order)
    assert steps[-1]["run"].startswith("pulumi policy publish") and steps[-1]["working-directory"] == "policies"


def test_org_program_declares_the_policy_groups_with_the_stack_configs():
    import ast

    import yaml
    project = yaml.safe_load((ROOT / "policies" / "org" / "Pulumi.yaml").read_text())
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": "venv"}
    src = (ROOT / "policies" / "org" / "__main__.py").read_text()
    tree = ast.parse(src)
    groups = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, "attr", "") == "PolicyGroup"]
    modes = {next(k.value.value for k in c.keywords if k.arg == "mode") for c in groups}
    assert modes == {"preventative", "audit"}
    for name in ("prod.json", "dev.json"):
        assert f'"{name}"' in src and (ROOT / "policies" / "config" / name).exists()
    assert "pulumi-pulumiservice==" in (ROOT / "policies" / "org" / "requirements.txt").read_text()
    declared = set(project["config"])
    used = {c.args[0].value for c in ast.walk(tree) if isinstance(c, ast.Call) and c.args
            and getattr(c.func, "attr", "") in ("require", "get_object") and isinstance(c.args[0], ast.Constant)}
    used |= {"preventativeStacks", "auditStacks"}
    assert used <= declared


def test_the_evaluator_skips_exactly_the_pairs_a_rules_validate_ignores(monkeypatch):
    """Every registered resource rule says which types its validate reads (`applies_to`, from its declared types);
    the offline evaluator calls it only for those (tests/test_analyze_equivalence.py shows the results are the
    stock servicer's), and still for every type when the rule reads every aws type."""
    from plan.analyze import analyze
    from plan.records import records_plan
    from policies.rules._registry import ANY_AWS, REGISTRY
    from policy_harness import rec
    for spec in REGISTRY.values():
        if spec.kind != "resource":
            continue
        for token in (("aws:s3/bucket:Bucket", "aws:sqs/queue:Queue") if spec.types == ANY_AWS else spec.types):
            assert spec.policy.applies_to(token), (spec.id, token)
        assert not spec.policy.applies_to("kubernetes:core/v1:Pod"), spec.id
    calls: dict = {}
    for rule_id in ("s3-no-public-acl", "required-tags"):
        policy = REGISTRY[rule_id].policy
        real = policy.validate

        def counting(args, report, real=real, rule_id=rule_id):
            calls.setdefault(rule_id, []).append(args.resource_type)
            return real(args, report)
        monkeypatch.setattr(policy, "validate", counting)
    analyze(records_plan([rec("aws:s3/bucket:Bucket", "b"), rec("aws:sqs/queue:Queue", "q")]),
            policy_config={"all": "mandatory"})
    assert calls["s3-no-public-acl"] == ["aws:s3/bucket:Bucket"]
    assert sorted(calls["required-tags"]) == ["aws:s3/bucket:Bucket", "aws:sqs/queue:Queue"]
