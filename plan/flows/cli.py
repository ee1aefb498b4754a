"""`python -m plan --stack NAME --flows [--json] [--mode preview|update]`: the flow table.

Exit 0 when every intended flow is allowed and every forbidden one denied, 1 otherwise (an
undecidable flow is neither), 2 on bad input (one line on stderr, raised as PlanError).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..engine import ROOT, PlanError


def mode_given(argv) -> bool:
    argv = sys.argv[1:] if argv is None else argv
    return any(a == "--mode" or a.startswith("--mode=") for a in argv)


def other_stacks(stack: str, root: Path = ROOT) -> list[str]:
    """The project's other stacks (Pulumi.NAME.yaml beside Pulumi.yaml), for the cross-stack forbidden flows."""
    names = []
    for p in sorted(root.glob("Pulumi.*.yaml")):
        name = p.name[len("Pulumi."):-len(".yaml")]
        if name != stack:
            names.append(name)
    return names


def build_plan(stack, path, preview):
    from ..engine import main_program, run_program
    from ..stackfile import load_stack_config
    config, secret_keys = load_stack_config(stack, path)
    return run_program(main_program(), config=config, stack=stack, preview=preview, secret_keys=secret_keys)


def _start_plan(stack, path, preview):
    """Plan another stack in a forked child while this process plans its own (two cores: the wall time of the
    two programs instead of their sum). Only from a single-threaded process (the CLI): forking a process with
    other threads (a pytest-xdist worker) could copy a lock another thread holds. Returns a function giving the
    plan (or raising PlanError), run sequentially when forking is not safe."""
    import os
    import threading
    if threading.active_count() != 1 or not hasattr(os, "fork"):
        return lambda: build_plan(stack, path, preview)
    import multiprocessing
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child():
        try:
            send.send(("ok", build_plan(stack, path, preview)))
        except PlanError as e:
            send.send(("error", str(e)))
        except BaseException as e:  # noqa: BLE001 - reported by the parent, which re-plans in-process
            send.send(("crash", repr(e)))
        finally:
            send.close()
            os._exit(0)
    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()

    def result():
        try:
            kind, value = receive.recv()   # before join: the child waits until its pickle is read
        except EOFError:
            kind, value = "crash", "no answer"
        proc.join()
        if kind == "ok":
            return value
        if kind == "error":
            raise PlanError(value)
        return build_plan(stack, path, preview)   # the child failed otherwise: the same work here, same errors
    return result


def counts(flows) -> dict:
    c = {"allowed": 0, "denied": 0, "undecidable": 0, "intended": 0, "forbidden": 0, "failing": 0}
    for f in flows:
        v = f.verdict.allowed
        c["allowed" if v is True else "denied" if v is False else "undecidable"] += 1
        c["intended" if f.expected == "allow" else "forbidden"] += 1
        c["failing"] += 0 if f.ok else 1
    return c


def fit(lines: list[str], width: int = 120) -> str:
    """Lines wrapped to the terminal width of every report of `python -m plan` (continuations indented)."""
    import textwrap
    out = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=True, break_on_hyphens=False)
    return "\n".join(out)


def text(flows, stack: str, mode: str) -> str:
    lines = [f"Flows of stack {stack} ({mode} mode)"]
    group = None
    for f in sorted(flows, key=lambda f: (f.group, f.expected, f.source, f.target)):
        if f.group != group:
            group = f.group
            lines.append(f"\n[{group or 'other'}]")
        v = f.verdict
        verdict = "UNDECIDABLE" if v.allowed is None else "allowed" if v.allowed else "denied"
        mark = "ok  " if f.ok else "FAIL"
        lines.append(f"  {mark} {f.expected:5} {verdict:11} {f.source} -> {f.target} [{f.action}]")
        if not f.ok or v.allowed is None:
            lines.append(f"         {v.reason}")
    c = counts(flows)
    lines.append(f"\n{len(flows)} flows ({c['intended']} intended, {c['forbidden']} forbidden): "
                 f"{c['allowed']} allowed, {c['denied']} denied, {c['undecidable']} undecidable; "
                 f"{c['failing']} not as intended")
    return fit(lines)


def lint_text(findings) -> str:
    """parliament's findings (reported, not part of the exit code: a finding is a review item, a flow is a verdict)."""
    serious = [f for f in findings if f.severity not in ("LOW", "")]
    lines = [f"\nIAM lint (parliament): {len(findings)} findings, {len(serious)} medium or higher"]
    for f in serious:
        lines.append(f"  {f.severity:6} {f.issue} {f.kind} {f.resource}: {f.detail}")
    return fit(lines)


def run(args, argv=None) -> int:
    from ..stackfile import stack_file_path
    from .catalogue import build_flows
    if not args.stack and not args.stack_file:
        raise PlanError("give --stack NAME or --stack-file PATH with --flows")
    mode = args.mode if mode_given(argv) else "update"
    stack, path = stack_file_path(args.stack, args.stack_file)
    pending = {} if args.stack_file else {
        name: _start_plan(name, ROOT / f"Pulumi.{name}.yaml", mode == "preview") for name in other_stacks(stack)}
    plan = build_plan(stack, path, mode == "preview")
    others = {}
    for name, result in pending.items():
        try:
            others[name] = result()
        except PlanError:
            continue  # another stack that does not plan is that stack's problem, not this table's
    flows = build_flows(plan, others)
    if args.json:
        json.dump({"flows": [f.to_json() for f in flows]}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(text(flows, stack, mode))
        from .lint import lint_plan
        print(lint_text(lint_plan(plan)))
    return 0 if all(f.ok for f in flows) else 1


def main(args, argv: list | None = None) -> int:
    return run(args, argv)
