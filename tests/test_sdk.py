"""plan/sdk.py is the one door to the Pulumi SDKs' private symbols: this fails loudly when a pin upgrade changes
any of them (re-read the changed code, port it into plan/sdk.py, then update its SOURCE_HASHES)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from plan import sdk

ROOT = Path(__file__).resolve().parent.parent


def test_the_pins_are_the_installed_versions_and_the_requirements():
    assert sdk.installed_versions() == sdk.PINS
    pins, lock = (ROOT / "requirements.in").read_text(), (ROOT / "requirements.txt").read_text()
    for name, version in sdk.PINS.items():
        line = f"{name.replace('_', '-')}=={re.escape(version)}"
        assert re.search(rf"^{line}$", pins, re.M), f"{name} in requirements.in"
        assert re.search(rf"^{line} \\$", lock, re.M), f"{name} in the hashed lock requirements.txt"


@pytest.mark.parametrize("dotted", sorted(sdk.SOURCE_HASHES))
def test_private_sdk_code_is_unchanged_since_it_was_read(dotted):
    assert sdk.source_hash(dotted) == sdk.SOURCE_HASHES[dotted], (
        f"{dotted} changed in the installed SDK: re-read it, port the change into plan/sdk.py, update SOURCE_HASHES")


@pytest.mark.parametrize("dotted", sorted(sdk.PRIVATE_VALUES))
def test_private_sdk_constants_keep_their_values(dotted):
    assert sdk.resolve(dotted) == sdk.PRIVATE_VALUES[dotted]


def test_the_servicer_privates_the_pack_view_reads_exist():
    servicer = sdk.PolicyAnalyzerServicer("p", "0.0.1", [object()], sdk.EnforcementLevel.ADVISORY)
    missing = [name for name in sdk.SERVICER_PRIVATES if not hasattr(servicer, name)]
    assert not missing


def test_no_module_of_plan_but_sdk_imports_a_private_sdk_symbol():
    """Every `from pulumi... import _x`, `pulumi_policy` internals and `module._private` access goes through
    plan/sdk.py."""
    offenders = []
    for path in sorted((ROOT / "plan").rglob("*.py")):
        if path.name == "sdk.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("pulumi", "pulumi_policy"):
                if node.module.startswith("pulumi_policy") or any(a.name.startswith("_") for a in node.names) \
                        or node.module.startswith(("pulumi.runtime.settings", "pulumi.runtime.sync_await",
                                                   "pulumi.runtime.stack", "pulumi.runtime.config",
                                                   "pulumi.runtime.rpc", "pulumi.runtime.mocks")):
                    offenders.append(f"{path.name}:{node.lineno} from {node.module} import ...")
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("pulumi_policy") or alias.name.startswith("pulumi.runtime."):
                        offenders.append(f"{path.name}:{node.lineno} import {alias.name}")
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("rpc", "pmocks", "pulumi", "runtime", "sdk"):
                    offenders.append(f"{path.name}:{node.lineno} {base.id}.{node.attr}")
    assert not offenders, offenders
