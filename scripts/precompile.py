"""Byte-compile, on every core, the installed packages every test worker imports first.

`.ci/run` installs with --no-compile (compiling all of pulumi_aws at install costs more than it saves) and the
modules are compiled on first import instead. On a clean clone that first import happened in both pytest-xdist
workers at once, each compiling the same ~1,200 pulumi_aws modules (~12 s of the clean suite's wall time). This
compiles them once, on both cores, before the suite starts: the pulumi_aws subpackages the project's sources name
(`aws.ec2.`, `pulumi_aws.s3`, `from pulumi_aws import iam`, a type token `"aws:sfn/...`), the package's top level, and the Pulumi SDKs. A
subpackage this misses is still compiled on first import; one it names in excess costs a little time, not
correctness.

The compiled code is cached between runs by the source's content (like the wheelhouse and uv's cache: a clean
clone's venv holds the same package files every time), in AI_PLATFORM_PYC_CACHE or
~/.cache/ai-platform/pyc. Each file still gets the byte code file its import looks for, written as py_compile
writes it (a timestamp pyc of this source's mtime and size, which the import checks): from the cache, that is a
copy with a new header instead of a compilation (~1,400 files: 4.7 s -> ~0.5 s). The cache is keyed by the
interpreter's byte code magic too; a source whose content changed is a new key. Unlike the wheels, whose hashes
the lock pins, a cache entry is trusted as the rest of the user's home is (CI machines start with an empty one).

    venv/bin/python scripts/precompile.py
"""
from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
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


def cache_dir() -> Path:
    base = os.environ.get("AI_PLATFORM_PYC_CACHE") or Path.home() / ".cache" / "ai-platform" / "pyc"
    return Path(base) / f"{sys.implementation.cache_tag}-{importlib.util.MAGIC_NUMBER.hex()}"


def _write(path: Path, data: bytes) -> None:
    """Replace `path` atomically (a worker reading it never sees half a file; two writers race harmlessly)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def compile_one(path: str, cache: Path | None = None) -> bool:
    """Write the byte code file `path`'s import looks for, as py_compile.compile(path) writes it: a timestamp pyc
    (PEP 552 header: magic, flags 0, the source's mtime and size) of the marshalled code. The code comes from
    `cache` when a source with the same content was compiled before (the import fixes the code's file name to
    this path, as for any pyc), and goes into it otherwise."""
    try:
        source = Path(path)
        data = source.read_bytes()
        stat = source.stat()
        entry = cache / hashlib.sha256(data).hexdigest() if cache is not None else None
        try:
            body = entry.read_bytes() if entry is not None else None
        except OSError:
            body = None
        if body is None:
            code = compile(data, path, "exec", dont_inherit=True)  # held by a name, as py_compile holds it: marshal
            body = marshal.dumps(code)                              # flags objects by their reference count
            if entry is not None:
                _write(entry, body)
        target = Path(importlib.util.cache_from_source(path))
        target.parent.mkdir(exist_ok=True)
        header = importlib.util.MAGIC_NUMBER + b"\0\0\0\0" + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") \
            + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
        _write(target, header + body)
        return True
    except (SyntaxError, ValueError, OSError):
        return False


def main() -> int:
    site = Path(sysconfig.get_paths()["purelib"])
    aws = site / "pulumi_aws"
    dirs = [aws / name for name in sorted(named_subpackages()) if (aws / name).is_dir()]
    dirs += [site / name for name in PACKAGES if (site / name).is_dir()]
    files = [str(f) for f in aws.glob("*.py")] + [str(f) for d in dirs for f in d.rglob("*.py")]
    # One pool for every file: compileall.compile_dir starts a pool per directory (~50 of them: 6.3 s against
    # 4.6 s for the same 1,300 files).
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        failed = sum(not ok for ok in pool.map(compile_one, files, [cache] * len(files), chunksize=32))
    # A file that does not compile is left to its import to report (as pip's own compile step does): this step
    # only saves time, so it never fails the run.
    print(f"precompile: {len(files)} files in pulumi_aws's top level and {len(dirs)} packages"
          + (f"; {failed} did not compile" if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
