"""Byte-compile, on every core, the installed packages every test worker imports first.

`.ci/run` installs with --no-compile (compiling all of pulumi_aws at install costs more than it saves) and the
modules are compiled on first import instead. On a clean clone that first import happened in both pytest-xdist
workers at once, each compiling the same ~1,200 pulumi_aws modules (~12 s of the clean suite's wall time). This
compiles them once, on both cores, before the suite starts: the pulumi_aws subpackages the project's sources name
(`aws.ec2.`, `pulumi_aws.s3`, `from pulumi_aws import iam`, a type token `"aws:sfn/...`), the package's top level, and the Pulumi SDKs. A
subpackage this misses is still compiled on first import; one it names in excess costs a little time, not
correctness.

It compiles with py_compile, on a process pool (compileall starts a pool per directory: ~50 of them). It keeps no
cache of its own between runs: caching belongs to the CI system (ci.yml's setup-python caches pip's downloads).

    venv/bin/python scripts/precompile.py
"""
from __future__ import annotations

import os
import py_compile
import re
import sys
import sysconfig
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("__main__.py", "components", "plan", "policies", "functions", "tests")
PACKAGES = ("pulumi", "pulumi_awsx", "pulumi_eks", "pulumi_policy")
# `aws.ec2.`, `pulumi_aws.s3`, `from pulumi_aws import iam, kms`, and a type token `"aws:opensearch/...`: the tags
# rule imports the module of every type it checks (policies/rules/tags.py `taggable`), so each type the rule
# tests' records name is imported (alb, appsync, efs, opensearch, sfn: compiled in the test workers before).
NAMED = re.compile(r"\baws\.([a-z0-9_]+)\.|\bpulumi_aws\.([a-z0-9_]+)|from pulumi_aws import ([a-z0-9_, ]+)"
                   r'|"aws:([a-z0-9]+)/')


def named_subpackages(root: Path = ROOT) -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        path = root / source
        for file in [path] if path.is_file() else path.rglob("*.py"):
            for match in NAMED.finditer(file.read_text(encoding="utf-8")):
                for group in match.groups():
                    if group:
                        found.update(name.strip() for name in group.split(","))
    return found


def compile_one(path: str) -> bool:
    """The byte code file `path`'s import looks for, as its first import would write it."""
    try:
        py_compile.compile(path, doraise=True)
        return True
    except (py_compile.PyCompileError, OSError):
        return False


def main() -> int:
    site = Path(sysconfig.get_paths()["purelib"])
    aws = site / "pulumi_aws"
    dirs = [aws / name for name in sorted(named_subpackages()) if (aws / name).is_dir()]
    dirs += [site / name for name in PACKAGES if (site / name).is_dir()]
    files = [str(f) for f in aws.glob("*.py")] + [str(f) for d in dirs for f in d.rglob("*.py")]
    # One pool for every file: compileall.compile_dir starts a pool per directory (~50 of them: 6.3 s against
    # 4.6 s for the same 1,300 files).
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        failed = sum(not ok for ok in pool.map(compile_one, files, chunksize=32))
    # A file that does not compile is left to its import to report (as pip's own compile step does): this step
    # only saves time, so it never fails the run.
    print(f"precompile: {len(files)} files in pulumi_aws's top level and {len(dirs)} packages"
          + (f"; {failed} did not compile" if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
