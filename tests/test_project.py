"""Project files: Pulumi's own schema, pinned requirements, the README's commands in CI, valid workflows."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT

SCHEMA = ROOT.parent / "shared" / "reference" / "pulumi-project.schema.json"


def test_pulumi_yaml_validates_against_pulumis_project_schema():
    if not SCHEMA.exists():
        # CI always has shared/ beside the clone: there a missing schema is a failure, not a skip.
        assert not os.environ.get("CI"), f"{SCHEMA} missing in CI"
        pytest.skip("shared reference schema not beside this checkout")
    jsonschema.validate(yaml.safe_load((ROOT / "Pulumi.yaml").read_text()), json.loads(SCHEMA.read_text()))


def test_project_runtime_uses_the_venv_with_the_pinned_requirements():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "ai-platform"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    policy = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert policy["runtime"]["options"]["virtualenv"] == "venv"  # pack-local: the pack must publish on its own


def _pins(path: Path) -> dict:
    lines = [l.split("#")[0].strip() for l in path.read_text().splitlines()]
    return {l.split("==")[0].split("[")[0].lower(): l.split("==")[1] for l in lines if l}


def test_policy_pack_requirements_are_the_root_pins_of_what_it_imports():
    """One source of truth: the published pack carries its own requirements file, pinned exactly as the root."""
    root, pack = _pins(ROOT / "requirements.txt"), _pins(ROOT / "policies" / "requirements.txt")
    assert {"pulumi", "pulumi-policy", "pulumi-aws"} <= set(pack)
    assert {k: root.get(k) for k in pack} == pack


def test_every_stack_config_key_is_declared_by_the_project():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    declared = {f"ai-platform:{k}" for k in project["config"]}
    for stack in ROOT.glob("Pulumi.*.yaml"):
        keys = set(yaml.safe_load(stack.read_text())["config"])
        assert {k for k in keys if k.startswith("ai-platform:")} <= declared, stack.name


def test_requirements_are_pinned_exactly():
    lines = [l.split("#")[0].strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    reqs = [l for l in lines if l]
    assert reqs and all(re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[a-z0-9,_-]+\])?==[0-9][0-9A-Za-z.]*", r) for r in reqs), reqs
    names = {r.split("==")[0].split("[")[0].lower() for r in reqs}
    assert {"pulumi", "pulumi-aws", "pulumi-awsx", "pulumi-policy", "boto3", "moto", "pytest"} <= names
    versions = {r.split("==")[0].split("[")[0].lower(): r.split("==")[1] for r in reqs}
    assert versions["pulumi-aws"].startswith("7.") and versions["pulumi-awsx"].startswith("3.")


def readme_commands():
    text = (ROOT / "README.md").read_text()
    setup = re.search(r"<!-- command:setup -->\s*```(?:bash|sh)?\n(.+?)\n```", text, re.S).group(1).strip()
    tests = re.search(r"<!-- command:test -->\s*```(?:bash|sh)?\n(.+?)\n```", text, re.S).group(1).strip()
    return setup, tests


def test_ci_runs_the_readmes_own_commands():
    setup, tests = readme_commands()
    script = (ROOT / ".ci" / "run").read_text()
    assert tests in script
    assert setup.split(" && venv/bin/python -m plan")[0] in script
    assert "Pulumi.*.yaml" in script and "-m plan --stack" in script


@pytest.mark.parametrize("workflow", sorted((ROOT / ".github" / "workflows").glob("*.yml")), ids=lambda p: p.name)
def test_workflows_are_valid(workflow):
    doc = yaml.safe_load(workflow.read_text())
    assert doc["name"] and doc["jobs"]
    on = doc.get("on", doc.get(True))
    assert on
    for job in doc["jobs"].values():
        assert job["runs-on"] and job["steps"]
        for step in job["steps"]:
            assert "uses" in step or "run" in step


def test_workflows_preview_with_the_policy_pack_and_deploy_dev_on_main():
    preview = yaml.safe_load((ROOT / ".github/workflows/preview.yml").read_text())
    step = next(s for s in preview["jobs"]["preview"]["steps"] if s.get("uses", "").startswith("pulumi/actions"))
    assert step["with"]["command"] == "preview" and step["with"]["policyPacks"] == "policies"
    deploy = yaml.safe_load((ROOT / ".github/workflows/deploy-dev.yml").read_text())
    on = deploy.get("on", deploy.get(True))
    assert on["push"]["branches"] == ["main"]
    up = next(s for s in deploy["jobs"]["up"]["steps"] if s.get("uses", "").startswith("pulumi/actions"))
    assert up["with"]["command"] == "up" and up["with"]["stack-name"].endswith("/dev")


def test_policy_pack_entry_point_only_builds_the_pack():
    source = (ROOT / "policies" / "__main__.py").read_text()
    code = [l for l in source.splitlines() if l.strip() and not l.lstrip().startswith(("#", '"""', "from", "import"))]
    assert code[-1].startswith("PolicyPack(**pack_args())")


def test_config_reference_is_generated_from_the_code():
    from components.config.__main__ import document
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert text == document(), "run: venv/bin/python -m components.config (writes docs/configuration.md)"


def test_policy_pack_serves_over_grpc_as_the_cli_runs_it():
    """Start policies/__main__.py as the CLI does (cwd policies/, only that folder on the path), read the port it
    prints, and ask it for its policies over gRPC."""
    import os
    import subprocess
    import sys

    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc
    from google.protobuf import empty_pb2

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen([sys.executable, "__main__.py"], cwd=ROOT / "policies", stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
        names = {p.name for p in info.policies}
        assert info.name == "ai-platform-policies"
        assert {"required-tags", "no-public-ingress", "kms-key-rotation-enabled", "iam-no-full-admin",
                "vpc-flow-logs-enabled"} <= names
    finally:
        proc.kill()
        proc.wait(timeout=10)
