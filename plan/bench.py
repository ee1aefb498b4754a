"""`python -m plan.bench`: how long the offline plan takes, per stack file, and the test suite.

For every Pulumi.<stack>.yaml: best-of-N wall time of `python -m plan --stack S --mode M` as a fresh
process (interpreter start, program run under mocks, policy pack), for both modes; the in-process time of
the program run alone (best of N, after one warm-up); resource counts. Then one timed run of the test
suite (`pytest -q`). Prints a table and the machine it ran on.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stacks(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def cli_time(stack: str, mode: str, runs: int) -> tuple[float, int]:
    """Best wall time of the CLI as a fresh process, and its exit code."""
    best, code = float("inf"), 0
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "plan", "--stack", stack, "--mode", mode],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
        code = proc.returncode
    return best, code


def program_time(stack: str, preview: bool, runs: int) -> tuple[float, int]:
    """Best in-process time of the program run alone (after one warm-up run), and the resource count."""
    from .engine import main_program, run_program
    from .stackfile import load_stack_config, stack_file_path
    name, path = stack_file_path(stack, None)
    config, secrets = load_stack_config(name, path)
    plan = run_program(main_program(), config=config, stack=name, preview=preview, secret_keys=secrets)
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        plan = run_program(main_program(), config=config, stack=name, preview=preview, secret_keys=secrets)
        best = min(best, time.perf_counter() - t0)
    return best, len(plan.resources)


def test_time() -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - t0
    last = [line for line in proc.stdout.splitlines() if line.strip()][-1:] or ["(no output)"]
    return elapsed, last[0]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m plan.bench", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs per measurement; the best is kept (default 3)")
    p.add_argument("--no-tests", action="store_true", help="skip timing the test suite")
    args = p.parse_args(argv)
    rows = []
    for stack in stacks():
        for mode in ("preview", "update"):
            cli, code = cli_time(stack, mode, args.runs)
            try:
                prog, count = program_time(stack, mode == "preview", args.runs)
            except Exception as exc:  # noqa: BLE001 - a broken program is a row, not a crash
                print(f"{stack} {mode}: {str(exc).splitlines()[0]}", file=sys.stderr)
                prog, count = float("nan"), 0
            rows.append((stack, mode, count, prog, cli, code))
    print(f"offline plan benchmark (best of {args.runs}); machine: {machine()}")
    print(f"| stack | mode | resources | program run (s) | `python -m plan` incl. policies (s) | exit |")
    print("|---|---|---:|---:|---:|---:|")
    for stack, mode, count, prog, cli, code in rows:
        print(f"| {stack} | {mode} | {count} | {prog:.2f} | {cli:.2f} | {code} |")
    if not args.no_tests:
        elapsed, summary = test_time()
        print(f"test suite (`pytest -q`, one run): {elapsed:.1f} s: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
