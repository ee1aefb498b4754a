"""Every policy runs isolated: an exception in one is that policy's own error ("policy X raised: ..."), the
others still run, and `python -m plan` exits 3 (1 stays "mandatory violations", 2 "bad input"). And the shared
decode keeps each policy's view its own: what one policy writes into its props the next does not see."""
from __future__ import annotations

import json

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from plan.analyze import analyze, build_servicer, configure
from plan.records import records_plan
from policy_harness import rec

RECORDS = [rec("aws:s3/bucket:Bucket", "b1", {"bucket": "one"}), rec("aws:s3/bucket:Bucket", "b2", {"bucket": "two"})]


def boom(args, report):
    raise RuntimeError("kaboom\nsecond line")


def reports_every_bucket(args, report):
    report(f"saw {args.props['bucket']}")


def stack_boom(args, report):
    raise KeyError("missing")


def stack_counts(args, report):
    report(f"{len(args.resources)} resources")


def pack(*policies):
    servicer = build_servicer(policies=list(policies))
    configure(servicer, {"all": "mandatory"})
    return servicer


def test_a_raising_resource_policy_is_its_own_error_and_the_others_still_run():
    result = analyze(records_plan(RECORDS), servicer=pack(
        ResourceValidationPolicy("boom", "raises", boom),
        ResourceValidationPolicy("seen", "reports", reports_every_bucket)))
    assert [(e.policy, e.level, e.urn.split("::")[-1], e.message) for e in result.errors] == [
        ("boom", "error", "b1", "policy boom raised: RuntimeError: kaboom"),
        ("boom", "error", "b2", "policy boom raised: RuntimeError: kaboom")]
    assert sorted(v.message.splitlines()[-1] for v in result.of("seen")) == ["saw one", "saw two"]
    assert not result.of("boom")


def test_the_stock_servicer_would_abort_instead():
    with pytest.raises(RuntimeError, match="kaboom"):
        analyze(records_plan(RECORDS), servicer=pack(ResourceValidationPolicy("boom", "raises", boom)), stock=True)


def test_a_raising_stack_policy_is_its_own_error_and_the_others_still_run():
    result = analyze(records_plan(RECORDS), servicer=pack(
        StackValidationPolicy("stack-boom", "raises", stack_boom),
        StackValidationPolicy("count", "counts", stack_counts)))
    assert [(e.policy, e.urn, e.message) for e in result.errors] == [
        ("stack-boom", "", "policy stack-boom raised: KeyError: 'missing'")]
    assert [v.message.splitlines()[-1] for v in result.of("count")] == ["2 resources"]


def test_a_raising_remediation_is_its_own_error_and_the_next_remediation_still_runs():
    def fix(args):
        return {**args.props, "bucket": "fixed"}

    servicer = build_servicer(policies=[ResourceValidationPolicy("bad-fix", "raises", remediate=lambda a: 1 / 0),
                                        ResourceValidationPolicy("good-fix", "fixes", remediate=fix)])
    configure(servicer, {"all": "remediate"})
    plan = records_plan(RECORDS)
    result = analyze(plan, servicer=servicer)
    assert {e.message for e in result.errors} == {"policy bad-fix raised: ZeroDivisionError: division by zero"}
    assert [r["policy"] for r in result.remediations] == ["good-fix", "good-fix"]
    assert {r.inputs["bucket"] for r in plan.resources} == {"fixed"}


def writer(args, report):
    args.props["bucket"] = "written"


def stack_writer(args, report):
    args.resources[0].props["bucket"] = "written"
    args.resources[0].dependencies.append(args.resources[1])
    args.resources[1].parent = args.resources[0]


def stack_reader(args, report):
    for r in args.resources:
        report(f"{r.props['bucket']} deps={len(r.dependencies)} parent={r.parent is not None}", r.urn)


@pytest.mark.parametrize("stock", [True, False], ids=["stock", "shared"])
def test_a_policy_writing_into_its_view_does_not_change_the_next_policys(stock):
    result = analyze(records_plan(RECORDS), stock=stock, servicer=pack(
        ResourceValidationPolicy("writer", "writes", writer),
        ResourceValidationPolicy("seen", "reads", reports_every_bucket),
        StackValidationPolicy("stack-writer", "writes", stack_writer),
        StackValidationPolicy("stack-reader", "reads", stack_reader)))
    assert sorted(v.message.splitlines()[-1] for v in result.of("seen")) == ["saw one", "saw two"]
    assert sorted(v.message.splitlines()[-1] for v in result.of("stack-reader")) == [
        "one deps=0 parent=False", "two deps=0 parent=False"]
    assert result.errors == []


def test_cli_exit_code_3_when_a_policy_raised_even_with_mandatory_violations(tmp_path, monkeypatch, capsys):
    import policies.pack
    from plan.__main__ import main
    real = policies.pack.pack_args

    def with_boom():
        args = real()
        return {**args, "policies": [*args["policies"], ResourceValidationPolicy("boom", "raises", boom,
                                                                                 EnforcementLevel.MANDATORY)]}

    monkeypatch.setattr(policies.pack, "pack_args", with_boom)
    records = tmp_path / "r.json"
    records.write_text(json.dumps([{"type": "aws:ebs/volume:Volume", "name": "vol", "props": {}}]))
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"all": "mandatory"}))
    assert main(["--check-records", str(records), "--policy-config", str(cfg)]) == 3
    out = capsys.readouterr().out
    assert "[error] boom vol: policy boom raised: RuntimeError: kaboom" in out
    assert "[mandatory] ebs-volume-encrypted" in out or "mandatory)" in out
    monkeypatch.setattr(policies.pack, "pack_args", real)
    assert main(["--check-records", str(records), "--policy-config", str(cfg)]) == 1
