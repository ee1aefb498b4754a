"""`python -m plan`: the offline engine's command line.

Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 bad config or program error
(always one line on stderr; `--debug` adds the traceback).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from .engine import PlanError


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m plan", description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--stack", help="stack name: reads Pulumi.NAME.yaml")
    p.add_argument("--stack-file", help="a stack config file of the same shape as Pulumi.NAME.yaml")
    where.add_argument("--check-records", metavar="FILE", help="evaluate the pack on a JSON list of records")
    p.add_argument("--mode", choices=("preview", "update"), default="preview",
                   help="preview (default): a new stack's `pulumi preview`, computed outputs unknown; "
                        "update: outputs known, as after `pulumi up`")
    p.add_argument("--policy-config", help="policy config JSON (default policies/config/STACK.json)")
    p.add_argument("--no-policies", action="store_true", help="record only, skip the policy pack")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--cost", action="store_true", help="print the monthly cost estimate (plan/cost.py)")
    p.add_argument("--compare", metavar="OTHER", help="cost of this stack beside stack OTHER (implies --cost)")
    p.add_argument("--usage", metavar="FILE", help="usage file for --cost (default plan/usage/STACK.yaml)")
    p.add_argument("--critical-path", action="store_true", help="print the estimated first `pulumi up` critical path")
    p.add_argument("--diagram", metavar="FILE", help="write the architecture picture: FILE.png, .svg or .mmd (Mermaid)")
    p.add_argument("--dr", action="store_true", help="recovery objectives: RPO per data store, RTO of the dr.mode (plan/dr.py)")
    p.add_argument("--dr-modes", action="store_true", help="each dr.mode's monthly cost, what it adds, RTO/RPO (3 runs)")
    return p.parse_args(argv)


def run(args) -> int:
    from . import analyze as an
    from .engine import main_program, run_program
    from .report import text, to_json
    from .stackfile import load_stack_config, stack_file_path

    if args.check_records:
        from .records import check_records
        return check_records(Path(args.check_records), args.policy_config, args.json)
    if not args.stack and not args.stack_file:
        raise PlanError("give --stack NAME or --stack-file PATH")
    stack, path = stack_file_path(args.stack, args.stack_file)
    config, secret_keys = load_stack_config(stack, path)
    plan = run_program(main_program(), config=config, stack=stack, preview=args.mode == "preview",
                       secret_keys=secret_keys)
    analysis = None
    if not args.no_policies:
        cfg_path = Path(args.policy_config) if args.policy_config else an.default_policy_config(stack)
        analysis = an.analyze(plan, policy_config=an.load_policy_config(cfg_path))
    from .cost import cli_extras
    extra_json, extra_text = cli_extras(args, plan, stack)
    if args.dr or args.dr_modes:
        from .dr import cli as dr_cli
        dr_json, dr_text = dr_cli(args, plan)
        extra_json, extra_text = {**extra_json, **dr_json}, [*extra_text, *dr_text]
    if args.json:
        json.dump({**to_json(plan, analysis), **extra_json}, sys.stdout, indent=1, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print(text(plan, analysis))
        for section in extra_text:
            print(section)
    return 1 if analysis is not None and analysis.mandatory else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except PlanError as exc:
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
