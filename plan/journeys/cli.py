"""`python -m plan --stack NAME --journeys [--json] [--mode preview|update]`: the journey table.

Exit 0 when every promised journey passes, 1 otherwise (an undecidable journey does not pass), 2 on bad input
(one line on stderr, raised as PlanError). Update mode unless --mode is given, as --flows."""
from __future__ import annotations

import json
import sys

from ..engine import PlanError


def text(journeys, stack: str, mode: str) -> str:
    from ..flows.cli import fit
    lines = [f"Journeys of stack {stack} ({mode} mode)", ""]
    for j in journeys:
        mark = {"pass": "ok  ", "fail": "FAIL", "undecidable": "??  "}[j.verdict]
        b = j.broken_at
        where = "delivered" if b is None else f"{'refused' if b.verdict.allowed is False else 'undecidable'} at {b.hop}"
        lines.append(f"  {mark} {j.name}: {j.description} [expect {j.expect}; {where}]")
        for h in j.hops:
            v = h.verdict.allowed
            lines.append(f"         {h.hop:13} {'pass' if v else 'UNDECIDABLE' if v is None else 'REFUSED':11} "
                         f"{h.verdict.reason}")
    broken = [j for j in journeys if j.promised and j.verdict != "pass"]
    lines.append(f"\n{len(journeys)} journeys: {len(journeys) - len(broken)} as promised, {len(broken)} not "
                 "(limits and their sources: --json, docs/traffic.md)")
    return fit(lines)


def run(args, argv=None) -> int:
    from ..flows.cli import build_plan, mode_given
    from ..stackfile import stack_file_path
    from .catalogue import build_journeys, to_json
    if not args.stack and not args.stack_file:
        raise PlanError("give --stack NAME or --stack-file PATH with --journeys")
    mode = args.mode if mode_given(argv) else "update"
    stack, path = stack_file_path(args.stack, args.stack_file)
    plan = build_plan(stack, path, mode == "preview")
    journeys = build_journeys(plan)
    if args.json:
        json.dump(to_json(journeys, stack, mode), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(text(journeys, stack, mode))
    return 0 if all(j.verdict == "pass" for j in journeys if j.promised) else 1
