"""plan/diskcache.py: deterministic check results kept between runs, keyed by input, code and library; the two
users (policy-config validation, deploy-error document validation) answer the same from the cache as without."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT
from plan import analyze as an
from plan import deploy_errors as de
from plan import diskcache
from plan.errors import PlanError


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    an._config_error.cache_clear()
    yield tmp_path / "ai-platform" / "results"
    an._config_error.cache_clear()


def test_a_result_is_computed_once_then_read_back(cache):
    calls = []

    def compute():
        calls.append(1)
        return {"errors": [["a.b", 1, "string"]]}

    assert diskcache.cached("t", ["v1", "input"], compute) == {"errors": [["a.b", 1, "string"]]}
    assert diskcache.cached("t", ["v1", "input"], compute) == {"errors": [["a.b", 1, "string"]]}
    assert len(calls) == 1 and len(list((cache / "t").glob("*.json"))) == 1
    # a different input, code or library stamp is a different key: computed again
    diskcache.cached("t", ["v2", "input"], compute)
    diskcache.cached("t", ["v1", "other"], compute)
    assert len(calls) == 3


def test_a_value_json_would_change_is_never_cached(cache):
    calls = []

    def compute():
        calls.append(1)
        return [("a", 1)]     # a tuple comes back from JSON as a list

    assert diskcache.cached("t", ["k"], compute) == [("a", 1)]
    assert diskcache.cached("t", ["k"], compute) == [("a", 1)]
    assert len(calls) == 2


def test_a_torn_entry_is_a_miss(cache):
    diskcache.cached("t", ["k"], lambda: 1)
    [entry] = list((cache / "t").glob("*.json"))
    entry.write_text("{not json")
    assert diskcache.cached("t", ["k"], lambda: 2) == 2


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))     # a file where the directory should be
    assert diskcache.cached("t", ["k"], lambda: 3) == 3


def test_the_library_stamp_changes_with_the_install(tmp_path, monkeypatch):
    pkg = tmp_path / "stamped_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = diskcache.library_stamp.__wrapped__("stamped_pkg")
    (pkg / "__init__.py").write_text("x = 22\n")
    assert diskcache.library_stamp.__wrapped__("stamped_pkg") != first
    assert "stamped_pkg" not in sys.modules     # found, not imported


DOC = [{"name": "web", "image": "nginx", "essential": True, "environment": [{"name": "PORT", "value": 6379}],
        "portMappings": [{"containerPort": "80"}], "Memory": 512, "bogus": 1}]


def test_document_errors_are_the_same_from_the_cache(cache, monkeypatch):
    fresh = de.validate_document(DOC, "ecs", "RegisterTaskDefinition", "containerDefinitions")
    assert fresh and all(isinstance(e, tuple) for e in fresh)
    assert any(path.endswith("value") for path, _, _ in fresh)          # the number where a string is expected

    def boom(*args, **kwargs):
        raise AssertionError("validated again")
    monkeypatch.setattr(de, "_validate_document", boom)
    assert de.validate_document(DOC, "ecs", "RegisterTaskDefinition", "containerDefinitions") == fresh
    with pytest.raises(AssertionError):    # another document is validated, not served
        de.validate_document([{**DOC[0], "cpu": "x"}], "ecs", "RegisterTaskDefinition", "containerDefinitions")


def test_policy_config_errors_are_the_same_from_the_cache(cache, monkeypatch):
    servicer = an.build_servicer()
    name = next(p.name for p in servicer.GetAnalyzerInfo(None, None).policies
                if p.HasField("configSchema") and an._schema(p.configSchema.SerializeToString()).get("properties"))
    bad = {name: {"no-such-setting": 1}}
    with pytest.raises(PlanError) as first:
        an.configure(servicer, bad)
    an._config_error.cache_clear()
    monkeypatch.setattr(an, "_best_error", lambda *a: pytest.fail("validated again"))
    with pytest.raises(PlanError) as second:
        an.configure(an.build_servicer(), bad)
    assert str(second.value) == str(first.value) and "no-such-setting" in str(first.value)


def test_a_warm_plan_imports_neither_validator(tmp_path):
    """The cache's point: with the results known, configuring the pack and checking the documents import
    neither jsonschema nor botocore's model and validator (CPU a plan no longer pays)."""
    code = (
        "import sys\n"
        "from plan import analyze as an, deploy_errors as de\n"
        "an.configured_servicer(an.load_policy_config(an.default_policy_config('prod')))\n"
        f"de.validate_document({DOC!r}, 'ecs', 'RegisterTaskDefinition', 'containerDefinitions')\n"
        "print(sorted(m for m in ('jsonschema', 'botocore.validate', 'botocore.model') if m in sys.modules))\n")
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = [sys.executable, "-c", code]
    cold = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    warm = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert cold.stdout.strip() == "['botocore.model', 'botocore.validate', 'jsonschema']"
    assert warm.stdout.strip() == "[]"
