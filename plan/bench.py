"""`python -m plan.bench`: how fast the change loop is, as ratios to a bare program on the same machine, same run.

For every Pulumi.<stack>.yaml and both modes: best of N (default 5) of
- total: wall time of `python -m plan --stack S --mode M` as a fresh process (what an engineer waits for);
- imports / program / policies: the same work in a fresh process that times its phases in CPU seconds (imports
  of the engine, the pack and the pulumi_aws subpackages the program uses; the program under mocks; configuring
  the pack and evaluating it);
- peak memory: ru_maxrss of the CLI process (os.wait4);
and the bare-program floor (plan/bench_floor.py: the same pulumi_aws subpackages plus awsx, as many real
resources as prod with trivial inputs, collector off), then one run of the test suite (`pytest -q`, with the
options in pyproject.toml). Rounds are interleaved (floor, stack 1, stack 2, ... then again) so the load of a
shared machine falls on all of them alike; ratios within one run are what to compare across days. CPU seconds
(user+sys of the child) are shown beside wall seconds: on a shared machine they drift less.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Targets of issue 16 (ratios within one run).
TARGET_PLAN_VS_FLOOR = 1.6
GOAL_PLAN_VS_FLOOR = 1.3
TARGET_POLICIES_VS_PROGRAM = 0.3
TARGET_SUITE_VS_FLOOR = 25.0
TARGET_PEAK_MB = 300.0


def stacks(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


@dataclasses.dataclass
class Run:
    wall: float
    cpu: float
    maxrss_mb: float
    code: int
    stdout: str


def child(argv: list[str], capture: bool = False) -> Run:
    """Run a fresh `python argv...` and measure it: wall, CPU (user+sys) and peak RSS of that process alone."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stderr=subprocess.DEVNULL, text=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    out = proc.stdout.read() if capture and proc.stdout is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, out)


def phases(stack: str, mode: str) -> dict:
    """In a fresh process (`--phases`): the CLI's work, timed phase by phase, collector off as in the CLI."""
    import gc
    gc.disable()
    t0, c0 = time.perf_counter(), time.process_time()
    import pulumi_awsx  # noqa: F401

    from policies.pack import pack_args  # noqa: F401 - the pack's rule modules

    from . import analyze as an
    from .bench_floor import load
    from .engine import main_program, run_program
    from .stackfile import load_stack_config, stack_file_path
    for name in json.loads(os.environ.get("PLAN_BENCH_SUBPACKAGES", "[]")):
        load(f"pulumi_aws.{name}")
    t1, c1 = time.perf_counter(), time.process_time()
    name, path = stack_file_path(stack, None)
    config, secrets = load_stack_config(name, path)
    plan = run_program(main_program(), config=config, stack=name, preview=mode == "preview", secret_keys=secrets)
    t2, c2 = time.perf_counter(), time.process_time()
    servicer = an.build_servicer()  # (not configured_servicer: the bench also runs on older checkouts)
    an.configure(servicer, an.load_policy_config(an.default_policy_config(name)))
    analysis = an.analyze(plan, servicer=servicer)
    t3, c3 = time.perf_counter(), time.process_time()
    return {"imports": t1 - t0, "program": t2 - t1, "policies": t3 - t2,
            "cpu_imports": c1 - c0, "cpu_program": c2 - c1, "cpu_policies": c3 - c2, "resources": len(plan.resources),
            "violations": len(analysis.violations), "errors": len(getattr(analysis, "errors", []))}


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
        lines = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(line for line in lines if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    load = ""
    try:
        load = f"; load average at start {os.getloadavg()[0]:.1f}"
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}{load}")


@dataclasses.dataclass
class Row:
    """Best-of-N figures of one stack and mode (or the floor)."""
    label: str
    resources: int = 0
    imports: float = float("inf")
    program: float = float("inf")
    policies: float = float("inf")
    total: float = float("inf")
    cpu: float = float("inf")
    peak_mb: float = 0.0
    code: int | None = None

    def add_cli(self, run: Run) -> None:
        self.total, self.cpu = min(self.total, run.wall), min(self.cpu, run.cpu)
        self.peak_mb, self.code = max(self.peak_mb, run.maxrss_mb), run.code

    def add_phases(self, doc: dict) -> None:
        """Phases in CPU seconds of that process (wall seconds of a phase are mostly the neighbours' load)."""
        self.imports = min(self.imports, doc["cpu_imports"])
        self.program = min(self.program, doc["cpu_program"])
        self.policies = min(self.policies, doc.get("cpu_policies", float("inf")))
        self.resources = doc.get("resources", self.resources)


def render(rows: list[Row], floor: Row, suite: tuple[float, float, str] | None, runs: int) -> str:
    def f(x: float) -> str:
        return "-" if x == float("inf") else f"{x:.2f}"

    out = [f"| run (best of {runs}) | resources | imports CPU s | program CPU s | policies CPU s | total wall s "
           f"| total CPU s | total / floor (wall) | total / floor (CPU) | policies / program | peak MB | exit |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
           f"| floor (bare program) | {floor.resources} | {f(floor.imports)} | {f(floor.program)} | - | "
           f"{f(floor.total)} | {f(floor.cpu)} | 1.00 | 1.00 | - | {floor.peak_mb:.0f} | {floor.code} |"]
    for r in rows:
        out.append(f"| {r.label} | {r.resources} | {f(r.imports)} | {f(r.program)} | {f(r.policies)} | {f(r.total)} "
                   f"| {f(r.cpu)} | {r.total / floor.total:.2f} | {r.cpu / floor.cpu:.2f} | "
                   f"{r.policies / r.program:.2f} | {r.peak_mb:.0f} | {r.code} |")
    if suite is not None:
        wall, cpu, summary = suite
        out.append(f"\ntest suite (`pytest -q`, one run): {wall:.1f} s wall, {cpu:.1f} s CPU = "
                   f"{wall / floor.total:.1f}x the floor (wall), {cpu / floor.cpu:.1f}x (CPU); {summary}")
    prod = [r for r in rows if r.label.startswith("prod ")]
    if prod:
        worst = max(prod, key=lambda r: r.total)
        out.append(f"\ntargets (issue 16): prod plan / floor {worst.total / floor.total:.2f} wall, "
                   f"{max(r.cpu for r in prod) / floor.cpu:.2f} CPU (target <= "
                   f"{TARGET_PLAN_VS_FLOOR}, goal {GOAL_PLAN_VS_FLOOR}); policies / program "
                   f"{max(r.policies / r.program for r in prod):.2f} (<= {TARGET_POLICIES_VS_PROGRAM}); "
                   f"peak {max(r.peak_mb for r in prod):.0f} MB (<= {TARGET_PEAK_MB:.0f})"
                   + (f"; suite / floor {suite[0] / floor.total:.1f} (<= {TARGET_SUITE_VS_FLOOR})" if suite else ""))
    return "\n".join(out)


def suite_time(extra: Sequence[str] = ()) -> tuple[float, float, str]:
    """One run of the suite as .ci/run runs it (`pytest -q`, options from pyproject.toml, plus `extra`); CPU is
    the whole process tree's (pytest-xdist workers included)."""
    run = child(["-m", "pytest", "-q", "-p", "no:cacheprovider", *extra], capture=True)
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    return run.wall, run.cpu, f"{lines[-1] if lines else '(no output)'}; peak {run.maxrss_mb:.0f} MB"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m plan.bench", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="rounds; the best of each is kept (default 5)")
    p.add_argument("--no-tests", action="store_true", help="skip timing the test suite")
    p.add_argument("--stack", action="append", help="only these stacks (default: every Pulumi.<stack>.yaml)")
    p.add_argument("--suite-args", default="", metavar="ARGS",
                   help="extra pytest arguments for the suite run, e.g. '-n 0' (serial) or '-n 2'")
    p.add_argument("--phases", nargs=2, metavar=("STACK", "MODE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phases:
        print(json.dumps(phases(*args.phases)))
        return 0
    names = args.stack or stacks()
    print(f"offline plan benchmark; machine: {machine()}", flush=True)
    probe = json.loads(child(["-m", "plan.bench_floor", "--probe", "prod" if "prod" in names else names[0]],
                             capture=True).stdout)
    os.environ["PLAN_BENCH_SUBPACKAGES"] = json.dumps(probe["subpackages"])
    floor = Row("floor", resources=probe["resources"])
    rows = [Row(f"{s} {m}") for s in names for m in ("preview", "update")]
    floor_argv = ["-m", "plan.bench_floor", "--subpackages", ",".join(probe["subpackages"]),
                  "--resources", str(probe["resources"])]
    for _ in range(args.runs):
        run = child(floor_argv, capture=True)
        floor.add_cli(run)
        floor.add_phases(json.loads(run.stdout))
        for row in rows:
            stack, mode = row.label.split()
            row.add_cli(child(["-m", "plan", "--stack", stack, "--mode", mode]))
            row.add_phases(json.loads(child(["-m", "plan.bench", "--phases", stack, mode], capture=True).stdout))
    floor.resources = probe["resources"]
    suite = None if args.no_tests else suite_time(args.suite_args.split())
    print(render(rows, floor, suite, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
