"""`python -m plan`: run the Pulumi program offline under mocks and evaluate the policy pack on it.

The command line only: the engine is plan/engine.py, policies plan/analyze.py, reports plan/report.py, cost
plan/cost.py, the critical path plan/critical_path.py, the picture plan/diagram.py. See plan/README.md.

Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 bad input, config or program error
(always one line on stderr; `--debug` adds the traceback), 3 a policy raised an exception (reported as
that policy's error, "policy X raised: ..."; the other policies still ran, so the result is incomplete;
3 wins over 1).
"""
from __future__ import annotations

import gc

if __name__ == "__main__":
    # A short-lived CLI that exits through os._exit: the collector was 25-30% of a plan's CPU and buys
    # ~6 MB of peak memory back (docs/performance.md). Tests importing this module keep theirs.
    gc.disable()
    # Byte code cached even where PYTHONDONTWRITEBYTECODE is set (CI machines, these sandboxes): the project's
    # own modules (components, the pack, the engine; ~0.3 s to compile) were compiled again on every run.
    # Python's default; __pycache__ is gitignored, and a read-only checkout just skips the write.
    import sys as _sys
    _sys.dont_write_bytecode = False

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from .engine import PlanError

EPILOG = """\
examples:
  python -m plan --stack dev                       short summary: resources per tier, policy result
  python -m plan --stack prod --details            every resource type and every advisory finding
  python -m plan --stack prod --mode update        as after `pulumi up`: outputs known, no "could not run"
  python -m plan --stack prod --json > plan.json   everything, for scripts (cost and critical path included)
  python -m plan --stack prod --cost               monthly cost, totals first (usage: plan/usage/prod.yaml)
  python -m plan --stack dev --compare prod        cost of dev beside prod and what makes the difference
  python -m plan --stack prod --critical-path      estimated time of a first `pulumi up`
  python -m plan --stack prod --diagram plan/architecture-prod.png   the architecture picture (.png/.svg/.mmd)
  python -m plan --check-records records.json      the pack on hand-written resource records
  python -m plan --stack prod --mode update --compliance   CIS v3.0.0 / FSBP controls: met, not met, n/a, account
  python -m plan --stack prod --journeys           AI traffic walked hop by hop (streams, uploads, prompts, bursts)
  python -m plan --stack prod --first-up           a first `pulumi up` in an empty account: every lookup answerable

exit codes:
  0  no mandatory violation
  1  mandatory policy violations or deploy errors (listed on stdout)
  2  bad input or config (one line on stderr naming the key or file; --debug adds the traceback)
  3  a policy raised an exception (a bug in the pack, not a finding)
"""


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m plan", description=__doc__.splitlines()[0], epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--stack", help="stack name: reads Pulumi.NAME.yaml")
    p.add_argument("--stack-file", help="a stack config file of the same shape as Pulumi.NAME.yaml")
    p.add_argument("--program", metavar="DIR", help="check any Pulumi Python program in DIR (its Pulumi.yaml; "
                   "stack from --stack NAME in DIR or --stack-file); see docs/any-program.md")
    p.add_argument("--stack-references", metavar="FILE", help="with --program: other stacks' outputs its "
                   "StackReferences read, JSON/YAML {org/project/stack: {output: value}}")
    where.add_argument("--check-records", metavar="FILE", help="evaluate the pack on a JSON list of records")
    p.add_argument("--mode", choices=("preview", "update"), default="preview",
                   help="preview (default): a new stack's `pulumi preview`, computed outputs unknown; "
                        "update: outputs known, as after `pulumi up`")
    p.add_argument("--first-up", action="store_true",
                   help="a first `pulumi up` in an empty account (update mode): every invoke must find what it looks "
                        "up among what the deployment created earlier (or what AWS provides); others are deploy "
                        "errors (exit 1), answered as the provider answers them (plan/first_up.py)")
    p.add_argument("--policy-config", help="policy config JSON (default policies/config/STACK.json)")
    p.add_argument("--no-policies", action="store_true", help="record only, skip the policy pack")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--details", action="store_true",
                   help="list every resource type per tier, every advisory finding and every unpriced resource")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--cost", action="store_true", help="print the monthly cost estimate, totals first")
    p.add_argument("--compare", metavar="OTHER", help="cost of this stack beside stack OTHER (implies --cost)")
    p.add_argument("--usage", metavar="FILE", help="usage file for --cost (default plan/usage/STACK.yaml)")
    p.add_argument("--critical-path", action="store_true", help="print the estimated first `pulumi up` critical path")
    p.add_argument("--diagram", metavar="FILE", help="write the architecture picture: FILE.png, .svg or .mmd (Mermaid)")
    p.add_argument("--flows", action="store_true", help="check every intended/forbidden flow (plan/flows; update mode "
                                                        "unless --mode is given); exit 1 if any is not as intended")
    p.add_argument("--journeys", action="store_true", help="walk the AI traffic journeys hop by hop (plan/journeys; "
                   "update mode unless --mode is given); exit 1 if a promised journey breaks")
    p.add_argument("--dr", action="store_true", help="recovery objectives: RPO per data store, RTO of the dr.mode (plan/dr.py)")
    p.add_argument("--dr-modes", action="store_true", help="each dr.mode's monthly cost, what it adds, RTO/RPO (3 runs)")
    p.add_argument("--compliance", action="store_true",
                   help="CIS AWS Foundations v3.0.0 and the FSBP controls the pack cites: status, rules and resources "
                        "per control (plan/compliance.py; with --json the table as JSON)")
    return p.parse_args(argv)


def progress(message: str) -> None:
    """One status line on stderr, only on a terminal (pipes and CI logs stay clean)."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()


def _estimate(plan, stack: str, usage_path):
    from .cost import default_usage_path, estimate
    if usage_path and not Path(usage_path).exists():
        raise PlanError(f"usage file {usage_path} not found")
    try:
        return estimate(plan, usage_file=Path(usage_path) if usage_path else default_usage_path(stack))
    except ValueError as exc:
        raise PlanError(str(exc)) from None


def _program_plan(stack_name: str, stack_file, preview: bool, program: str | None = None, references=None,
                  first_up: bool = False):
    """(stack, plan) of this project's program, or of any Pulumi Python program in DIR (`--program`).
    `first_up`: as a first `pulumi up` in an empty account (plan/first_up.py)."""
    if program:
        from .engine import plan_directory
        progress(f"running the program in {program} under mocks...")
        plan = plan_directory(Path(program), stack=stack_name, stack_file=stack_file, preview=preview,
                              references_file=references, **({"first_up": True} if first_up else {}))
        return plan.stack, plan
    from .engine import main_program, run_program
    from .stackfile import load_stack_config, stack_file_path
    stack, path = stack_file_path(stack_name, stack_file)
    config, secret_keys = load_stack_config(stack, path)
    progress(f"running the program for stack {stack} under mocks...")
    if first_up:    # passed only when asked: tests replace run_program with stand-ins that do not know it
        return stack, run_program(main_program(), config=config, stack=stack, preview=preview,
                                  secret_keys=secret_keys, first_up=True)
    return stack, run_program(main_program(), config=config, stack=stack, preview=preview, secret_keys=secret_keys)


def extras(args, plan, stack: str) -> tuple[dict, list[str]]:
    """(keys added to --json, text sections printed before the plan summary). Raises PlanError (exit 2)."""
    from . import critical_path as cp
    from . import report

    if not (args.json or args.cost or args.compare or args.critical_path or args.diagram):
        return {}, []
    sections: list[str] = []
    if args.diagram:
        from . import diagram
        progress("drawing the architecture picture...")
        written = diagram.write(plan, args.diagram)
        progress("")
        print(f"wrote {written}", file=sys.stderr)
    est = _estimate(plan, stack, args.usage)
    path = cp.critical_path(plan)
    doc = {"monthlyCost": est.to_json(), "criticalPath": path.to_json()}
    if args.compare:
        _, other_plan = _program_plan(args.compare, None, plan.preview, args.program, args.stack_references)
        other = _estimate(other_plan, args.compare, None)
        doc["costComparison"] = {"other": args.compare, "otherMonthlyCost": other.to_json(),
                                 "differences": [{k: (round(v, 2) if k == "delta" else v) for k, v in d.items()}
                                                 for d in report.differences(est, other)]}
        sections += [report.cost_text(est, args.details), report.compare_text(est, other)]
    elif args.cost:
        sections.append(report.cost_text(est, args.details))
    if args.critical_path:
        sections.append(cp.text(path))
    return doc, ([] if args.json else sections)


def run(args) -> int:
    from . import analyze as an
    from .report import text, to_json

    if args.check_records:
        from .records import check_records
        return check_records(Path(args.check_records), args.policy_config, args.json)
    if not args.stack and not args.stack_file:
        raise PlanError("give --stack NAME or --stack-file PATH")
    if args.stack_references and not args.program:
        raise PlanError("--stack-references: only with --program (this project's stacks read no other stack)")
    if args.compliance and args.no_policies:
        raise PlanError("--compliance: the table is the pack's verdicts; drop --no-policies")
    # Inputs are validated before the program runs (fail fast): stack file, policy config, usage file.
    stack = _stack_name(args)
    servicer = None
    if not args.no_policies:
        cfg_path = Path(args.policy_config) if args.policy_config else an.default_policy_config(stack)
        servicer = an.configured_servicer(an.load_policy_config(cfg_path))
    _check_usage(args, stack)
    stack, plan = _program_plan(args.stack, args.stack_file, args.mode == "preview" and not args.first_up,
                                args.program, args.stack_references, first_up=args.first_up)
    analysis = None
    if servicer is not None:
        progress(f"evaluating the policy pack on {len(plan.resources)} resources...")
        analysis = an.analyze(plan, servicer=servicer)
    extra_json, extra_text = extras(args, plan, stack)
    if args.dr or args.dr_modes:
        from .dr import cli as dr_cli
        dr_json, dr_text = dr_cli(args, plan)
        extra_json, extra_text = {**extra_json, **dr_json}, [*extra_text, *dr_text]
    progress("")
    if args.compliance and analysis is not None:
        from . import compliance
        controls = compliance.table(plan, analysis)
        mode = "preview" if plan.preview else "update"
        print(compliance.dumps(stack, mode, controls) if args.json else compliance.text(stack, mode, controls))
    elif args.json:
        json.dump({**to_json(plan, analysis), **extra_json}, sys.stdout, indent=1, sort_keys=False)
        sys.stdout.write("\n")
    else:
        for section in extra_text:
            print(section)
        print(text(plan, analysis, details=args.details))
    if analysis is not None and analysis.errors:
        return 3
    return 1 if (analysis is not None and analysis.mandatory) or plan.deploy_errors else 0


def _stack_name(args) -> str:
    """The stack's name; for this project's own stacks the stack file is found and read (exit 2 if bad)."""
    if args.program:
        return args.stack or Path(args.stack_file).name.removeprefix("Pulumi.").removesuffix(".yaml")
    from .stackfile import load_stack_config, stack_file_path
    stack, path = stack_file_path(args.stack, args.stack_file)
    load_stack_config(stack, path)
    return stack


def _check_usage(args, stack: str) -> None:
    """The --cost usage file, read before the program runs: missing or malformed is exit 2, not a traceback."""
    if not any(getattr(args, k, None) for k in ("json", "cost", "compare", "critical_path", "diagram")):
        return
    from .cost import default_usage_path, load_usage
    if args.usage and not Path(args.usage).exists():
        raise PlanError(f"usage file {args.usage} not found")
    path = Path(args.usage) if args.usage else default_usage_path(stack)
    import yaml
    try:
        load_usage(path)
    except ValueError as exc:
        raise PlanError(str(exc).splitlines()[0]) from None
    except yaml.YAMLError as exc:
        raise PlanError(f"usage file {path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.flows:
            from .flows import cli as flows_cli
            return flows_cli.main(args, argv)
        if args.journeys:
            from .journeys import cli as journeys_cli
            return journeys_cli.run(args, argv)
        return run(args)
    except PlanError as exc:
        progress("")
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return 2


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the mock runtime leaves event loops whose finalisers print noise
    # after the one line we promise. Everything is flushed and no file is left open for writing.
    os._exit(code)
