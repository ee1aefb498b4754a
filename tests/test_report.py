"""What `python -m plan` prints: short by default, details behind --details, 120 columns, folded rows, "could not
run" as its own category in text and JSON, totals first for --cost, help with examples and exit codes."""
from __future__ import annotations

import json

import pytest

from conftest import stack_plan
from plan import cost, report
from plan.__main__ import main as plan_main
from plan.__main__ import parse_args
from plan.analyze import Analysis, Finding

SKIP = "can't run policy 'x' during preview: string value at .policy can't be known during preview"


def analysis():
    return Analysis(
        violations=[Finding("tags", "mandatory", "urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "missing tags"),
                    *[Finding("rotation", "advisory", f"urn:pulumi:s::p::aws:secretsmanager/secret:Secret::s{i}",
                              "no rotation") for i in range(3)],
                    *[Finding("s3-tls", "advisory", f"urn:pulumi:s::p::aws:s3/bucketPolicy:BucketPolicy::p{i}",
                              SKIP) for i in range(4)]],
        not_applicable=[], remediations=[], policies=["tags", "rotation", "s3-tls"])


def test_fold_counts_identical_rows_in_first_seen_order():
    assert report.fold(["a", "b", "a", "c", "a"]) == ["3 × a", "b", "c"]


def test_could_not_run_is_its_own_category_in_json_not_a_violation():
    doc = report.to_json(stack_plan("dev"), analysis())
    assert [v["policy"] for v in doc["violations"]] == ["tags", "rotation", "rotation", "rotation"]
    assert len(doc["couldNotRun"]) == 4 and {v["policy"] for v in doc["couldNotRun"]} == {"s3-tls"}


def test_default_text_is_short_folds_advisories_and_details_lists_them():
    plan = stack_plan("dev")
    short = report.text(plan, analysis())
    assert "1 mandatory, 3 advisory violations" in short and "4 could not run" in short
    assert "[mandatory] tags b: missing tags" in short
    assert "3 × rotation" in short and "[advisory]" not in short
    assert "4 × s3-tls: string value at .policy can't be known" in short
    detailed = report.text(plan, analysis(), details=True)
    assert detailed.count("[advisory] rotation") == 3
    assert len(short.splitlines()) < 15 < len(detailed.splitlines())
    assert max(len(x) for x in (short + "\n" + detailed).splitlines()) <= 120


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cost_text_leads_with_totals_fits_120_columns_and_folds_repeated_lines(stack):
    est = cost.estimate(stack_plan(stack), usage_file=cost.default_usage_path(stack))
    text = report.cost_text(est)
    assert text.startswith(f"TOTAL ${report.money(est.total)}/month, stack {stack}")
    assert max(len(x) for x in text.splitlines()) <= 120
    alarms = [x for x in est.lines if x.type == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    assert len(alarms) > 10
    assert sum(" alarm, 1 metric(s)" in x for x in text.splitlines()) < len(alarms) / 4   # folded, not one per alarm
    assert f"{len(est.unpriced)}" in text and "UNPRICED" in text


def test_help_has_examples_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "--compare prod" in out
    assert all(f"  {code}  " in out for code in "0123")


def test_cli_json_keeps_every_key_and_adds_could_not_run(capsys, monkeypatch):
    import plan.engine as engine
    monkeypatch.setattr(engine, "run_program", lambda program, *, config, stack, preview, secret_keys=(), **kw:
                        stack_plan(stack, preview))
    assert plan_main(["--stack", "prod", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"resources", "outputs", "violations", "couldNotRun", "monthlyCost", "criticalPath"} <= set(doc)
    assert not any("during preview" in v["message"] for v in doc["violations"])
    assert all(set(v) == {"policy", "level", "urn", "message"} for v in doc["couldNotRun"])


def test_progress_goes_to_stderr_only_on_a_terminal(capsys, monkeypatch):
    from plan import __main__ as cli
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: False)
    cli.progress("running")
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True)
    cli.progress("running")
    assert "running" in capsys.readouterr().err


def test_tier_names_come_from_the_tier_components_including_another_instance():
    from plan.tiers import NO_TIER, tier_name
    assert tier_name("ai-platform:tier:Data") == "Data"
    assert tier_name("ai-platform:dr:Network") == "dr-Network"       # the DR region's instance of the tiers
    assert tier_name("aws:s3/bucket:Bucket") is None and tier_name("ai-platform:application") is None
    assert NO_TIER == "-"


def test_the_prod_summary_puts_every_dr_region_resource_in_a_named_tier():
    """The DR region's tiers (network, application, events, edge again) were summed under a tier named "-"."""
    from conftest import stack_plan
    from plan.report import summary_rows
    tiers = summary_rows(stack_plan("prod"))
    assert {"dr-Network", "dr-Application", "dr-Events", "dr-Edge"} <= set(tiers)
    assert sum(tiers.get("-", {}).values()) <= 2      # only what no tier owns (the DR region's provider)
