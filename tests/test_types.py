"""The type checker `.ci/run` runs (mypy, configured in pyproject.toml) catches the class of mistake that made ECS
refuse five DR task definitions: an `Output[int]` (the cache port) passed where the service wiring declares
`Input[str]` (a container environment value is a string to ECS). Both sides: the mistake is an error, the fix
(`.apply(str)`) is clean. The cache directory is the one `.ci/run`'s mypy step fills, so this reuses its work."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="mypy is in requirements-dev.txt; install the development lock")

ROOT = Path(__file__).resolve().parents[1]

WIRING = """
    import dataclasses

    import pulumi

    from components.service_access import ServiceDependencies


    def dr_dependencies(deps: ServiceDependencies, port: pulumi.Output[int]) -> ServiceDependencies:
        return dataclasses.replace(deps, redis_port={port})
"""


def check(tmp_path: Path, port_expression: str) -> tuple[str, int]:
    snippet = tmp_path / "wiring.py"
    snippet.write_text(textwrap.dedent(WIRING.format(port=port_expression)))
    out, err, status = api.run([str(snippet), "--config-file", str(ROOT / "pyproject.toml"),
                                "--cache-dir", str(ROOT / ".mypy_cache"), "--no-error-summary"])
    assert not err, err
    return out, status


def test_the_sources_type_check(monkeypatch):
    """The same check as `.ci/run`'s `venv/bin/mypy` (pyproject.toml's files and settings), so a suite run on its
    own goes red on a type error too. Warm after .ci/run's step (the same cache directory): about a second. Cold
    (a first `pytest -q` without that step), it is that step: ~60 s, once, as the first unit of its worker
    (tests/conftest.py's mypy group, which also keeps the snippets below from racing it on the cache). First in
    the file: the group runs in this order, and the snippets then find their dependencies cached."""
    import gc

    import conftest
    monkeypatch.chdir(ROOT)
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".mypy_cache")])
    assert status == 0, out[-4000:] + err
    # mypy's build turns the collector on (and unfreezes what was frozen); each test's teardown turns it off again
    conftest.keep_the_collector_off()
    assert not gc.isenabled()


def test_an_int_output_where_the_wiring_declares_a_string_is_a_type_error(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # explicit_package_bases: `components` resolves from the repository root
    out, status = check(tmp_path, "port")
    assert status == 1
    assert 'Argument "redis_port"' in out and "Output[int]" in out and "[arg-type]" in out


def test_the_string_port_passes(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out, status = check(tmp_path, "port.apply(str)")
    assert (status, out) == (0, "")
