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

# Pulumi's project schema (pulumi/pulumi, sdk/go/common/workspace/project.json, Apache-2.0), kept in the repository:
# a clone in any folder, GitHub Actions included, has what the test needs.
SCHEMA = ROOT / "tests" / "data" / "pulumi-project.schema.json"


def test_pulumi_yaml_validates_against_pulumis_project_schema():
    jsonschema.validate(yaml.safe_load((ROOT / "Pulumi.yaml").read_text()), json.loads(SCHEMA.read_text()))


def test_project_runtime_uses_the_venv_with_the_pinned_requirements():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "ai-platform"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    policy = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert policy["runtime"]["options"]["virtualenv"] == "venv"  # pack-local: the pack must publish on its own


def _pins(path: Path) -> dict:
    """name -> version of every `name==version` requirement (plain pins or a hashed pip-compile lock)."""
    pins = {}
    for line in path.read_text().splitlines():
        m = re.match(r"([A-Za-z0-9_.\-]+)(\[[a-z0-9,_-]+\])?==([0-9][0-9A-Za-z.+]*)", line.split("#")[0].strip())
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(3)
    return pins


DEPLOY = {"pulumi", "pulumi-aws", "pulumi-awsx", "pulumi-policy", "boto3", "pg8000", "setuptools"}  # setuptools: pulumi-policy needs it; pinned below 81 (pkg_resources, parliament)
DEV_ONLY = {"moto", "pytest", "pytest-xdist", "diagrams", "graphviz", "jsonschema", "parliament", "ruff", "mypy"}


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


def test_inputs_are_pinned_exactly():
    for name in ("requirements.in", "requirements-dev.in"):
        lines = [x.split("#")[0].strip() for x in (ROOT / name).read_text().splitlines()]
        reqs = [x for x in lines if x and not x.startswith("-")]
        assert reqs and all(re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[a-z0-9,_-]+\])?==[0-9][0-9A-Za-z.]*", r) for r in reqs), reqs
    deploy = _pins(ROOT / "requirements.in")
    assert set(deploy) == DEPLOY, "requirements.in is the deploy set only"
    assert deploy["pulumi-aws"].startswith("7.") and deploy["pulumi-awsx"].startswith("3.")


@pytest.mark.parametrize("lock,source", [("requirements.txt", "requirements.in"),
                                         ("requirements-dev.txt", "requirements-dev.in")])
def test_lock_files_pin_every_package_with_hashes_and_match_their_inputs(lock, source):
    """scripts/lock.sh output: every transitive package pinned and hashed; the inputs' pins kept."""
    text = (ROOT / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1])
    pinned = [b for b in blocks if re.match(r"[A-Za-z0-9_.\-]+==", b)]
    assert pinned and all("--hash=sha256:" in b for b in pinned), lock
    assert "--find-links" not in text and "--index-url" not in text   # no machine-local sources in a lock
    locked, wanted = _pins(ROOT / lock), _pins(ROOT / source)
    assert {k: locked.get(k) for k in wanted} == wanted


def test_deploy_lock_carries_no_test_tools_and_the_dev_lock_agrees_with_it():
    deploy, dev = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-dev.txt")
    assert DEPLOY <= set(deploy) and not (DEV_ONLY & set(deploy))
    assert DEV_ONLY <= set(dev)
    assert {k: dev[k] for k in deploy if k in dev} == {k: deploy[k] for k in deploy if k in dev}
    assert set(deploy) <= set(dev)


def test_ruff_and_pre_commit_are_configured_and_run_in_ci():
    import tomllib
    ruff = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]
    assert {"E4", "E7", "E9", "F", "I", "B", "UP"} <= set(ruff["lint"]["select"])
    assert "ruff check ." in (ROOT / ".ci" / "run").read_text()
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert any("ruff check" in h.get("entry", "") for repo in hooks["repos"] for h in repo["hooks"])


def readme_commands():
    text = (ROOT / "README.md").read_text()
    setup = re.search(r"<!-- command:setup -->\s*```(?:bash|sh)?\n(.+?)\n```", text, re.S).group(1).strip()
    tests = re.search(r"<!-- command:test -->\s*```(?:bash|sh)?\n(.+?)\n```", text, re.S).group(1).strip()
    return setup, tests


def test_ci_runs_the_readmes_own_commands():
    setup, tests = readme_commands()
    script = (ROOT / ".ci" / "run").read_text()
    assert tests in script
    # The README's setup (the hashed lock into `venv`), its options aside (quiet, no compile at install)
    venv, install = setup.split(" && venv/bin/python -m plan")[0].split(" && ")
    assert venv in script
    assert re.search(r"venv/bin/pip install [^\n]*--require-hashes -r requirements-dev\.txt", script), install
    assert "unset PYTHONDONTWRITEBYTECODE" in script   # byte code written once, shared by the suite's processes
    assert script.index("scripts/precompile.py") < script.index(tests)   # compiled once, before the workers start
    # lint and types before the tests; no machine's own caches in the script every user's CI runs
    assert script.index("venv/bin/ruff check .") < script.index("venv/bin/mypy") < script.index(tests)
    assert ".cache" not in script and "wheelhouse" not in script.lower() and "uv " not in script
    # every stack file's offline plan is part of the suite (through the CLI, both modes)
    import test_stacks
    assert set(test_stacks.STACK_FILES) >= {"dev", "prod"}


WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def _on(doc: dict) -> dict:
    return doc.get("on", doc.get(True))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_are_valid_pinned_and_least_privilege(workflow):
    doc = yaml.safe_load(workflow.read_text())
    assert doc["name"] and doc["jobs"] and _on(doc)
    assert doc["permissions"] in ({}, {"contents": "read"}), "workflow-wide: nothing, or read the code"
    for job in doc["jobs"].values():
        perms = job.get("permissions", doc["permissions"])    # each job asks for what it needs, nothing more
        assert job["runs-on"] and job["steps"] and perms.get("contents") == "read"
        assert set(perms) <= {"contents", "id-token", "pull-requests"}
        for step in job["steps"]:
            assert "uses" in step or "run" in step
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), f"pin {step['uses']} by commit SHA"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    # The tag a SHA stands for, beside it (a reviewer reads `# v7.0.1`, Dependabot updates both).
    assert all(re.search(r"@[0-9a-f]{40}\s+#\s*v\d", line) for line in workflow.read_text().splitlines()
               if re.search(r"uses: .+@", line))


def _pulumi_step(job: dict) -> dict:
    return next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))


@pytest.mark.parametrize("name,job", [("preview.yml", "preview"), ("deploy-dev.yml", "up")])
def test_pulumi_jobs_pin_the_cli_to_the_sdk_create_the_pack_venv_and_use_their_environment_role(name, job):
    spec = _workflow(name)["jobs"][job]
    step = _pulumi_step(spec)
    assert step["with"]["pulumi-version"] == _pins(ROOT / "requirements.in")["pulumi"]
    assert step["with"]["policyPacks"] == "policies"
    runs = [s.get("run", "") for s in spec["steps"]]
    pulumi_at = spec["steps"].index(step)
    pack_venv = next(i for i, r in enumerate(runs) if "policies/venv" in r and "policies/requirements.txt" in r)
    program_venv = next(i for i, r in enumerate(runs) if "--require-hashes -r requirements.txt" in r)
    assert pack_venv < pulumi_at and program_venv < pulumi_at
    assert spec["environment"] and spec["permissions"]["id-token"] == "write"
    creds = next(s for s in spec["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"   # the environment's own role


def test_preview_runs_per_stack_environment_and_skips_fork_pull_requests():
    spec = _workflow("preview.yml")["jobs"]["preview"]
    assert _pulumi_step(spec)["with"]["command"] == "preview"
    assert spec["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert "matrix.stack" in spec["environment"]
    assert "head.repo.full_name == github.repository" in spec["if"]


def test_deploy_dev_follows_a_green_ci_on_main_without_rerunning_it():
    doc = _workflow("deploy-dev.yml")
    run = _on(doc)["workflow_run"]
    assert run["workflows"] == [_workflow("ci.yml")["name"]] and run["branches"] == ["main"]
    job = doc["jobs"]["up"]
    assert "conclusion == 'success'" in job["if"] and "event == 'push'" in job["if"]
    assert job["environment"] == "dev"
    assert not any(".ci/run" in s.get("run", "") for s in job["steps"])
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"
    up = _pulumi_step(job)
    assert up["with"]["command"] == "up" and up["with"]["stack-name"].endswith("/dev")


def test_ci_docs_list_every_secret_and_variable_the_workflows_read():
    used = set()
    for workflow in WORKFLOWS:
        used |= set(re.findall(r"\$\{\{\s*((?:secrets|vars)\.\w+)", workflow.read_text()))
    doc = (ROOT / "docs" / "ci.md").read_text()
    assert used and all(f"`{name.split('.')[1]}`" in doc for name in used if name != "secrets.GITHUB_TOKEN")


def test_policy_pack_entry_point_only_builds_the_pack():
    source = (ROOT / "policies" / "__main__.py").read_text()
    code = [x for x in source.splitlines() if x.strip() and not x.lstrip().startswith(("#", '"""', "from", "import"))]
    assert code[-1].startswith("PolicyPack(**pack_args())")


def test_config_reference_is_generated_from_the_code():
    from components.config.__main__ import document
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert text == document(), "run: venv/bin/python -m components.config (writes docs/configuration.md)"


def test_policy_pack_serves_over_grpc_as_the_cli_runs_it():
    """Start policies/__main__.py as the CLI does (cwd policies/, only that folder on the path), read the port it
    prints, and ask it for its policies over gRPC."""
    import subprocess
    import sys

    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2_grpc

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


def _precompile_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("precompile", ROOT / "scripts" / "precompile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_precompile_writes_the_byte_code_the_import_looks_for(tmp_path):
    """scripts/precompile.py: py_compile's own timestamp pyc where the import looks for it; a missing source is
    left to its import to report (the step only saves time)."""
    import importlib.util
    precompile = _precompile_module()
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    assert precompile.compile_one(str(source))
    pyc = Path(importlib.util.cache_from_source(str(source))).read_bytes()
    assert pyc[:4] == importlib.util.MAGIC_NUMBER and pyc[12:16] == len("X = 1\n").to_bytes(4, "little")
    assert not precompile.compile_one(str(tmp_path / "missing.py"))


def test_precompile_names_the_pulumi_aws_subpackages_the_sources_use(tmp_path):
    """scripts/precompile.py finds the subpackages in each spelling the sources use, and the project's own."""
    precompile = _precompile_module()
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "a.py").write_text(
        "import pulumi_aws as aws\nfrom pulumi_aws import iam, kms\nimport pulumi_aws.s3\naws.ec2.Vpc('v')\n"
        "aws.get_caller_identity()\nOS = \"aws:opensearch/domain:Domain\"\n")
    assert precompile.named_subpackages(tmp_path) == {"iam", "kms", "s3", "ec2", "opensearch"}
    assert {"ec2", "ecs", "iam", "kms", "s3", "rds", "wafv2", "lambda_", "sfn", "appsync"} <= \
        precompile.named_subpackages()
