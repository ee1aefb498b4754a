"""`python -m plan --check-records FILE.json [--policy-config FILE] [--json]` end to end: one run over a table
of cases (fast), exit codes 0/1/2, the unknown sentinel, and JSON output shaped like the plan's violations."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
TAGS = {"Project": "p", "Environment": "dev", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}

# (record, policy expected to fire on it or None)
TABLE = [
    ({"type": "aws:ebs/volume:Volume", "name": "vol-plain", "props": {"tags": TAGS}}, "ebs-volume-encrypted"),
    ({"type": "aws:ebs/volume:Volume", "name": "vol-enc", "props": {"tags": TAGS, "encrypted": True,
                                                                     "kmsKeyId": UNKNOWN}}, None),
    ({"type": "aws:iam/accessKey:AccessKey", "name": "key", "props": {"user": "bob"}}, "iam-no-user-access-keys"),
    ({"type": "aws:iam/role:Role", "name": "role-open", "props": {"tags": TAGS, "assumeRolePolicy": json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})}},
     "iam-role-trust-not-public"),
    ({"type": "aws:ec2/networkAcl:NetworkAcl", "name": "nacl", "props": {"tags": TAGS, "vpcId": UNKNOWN, "ingress": [
        {"ruleNo": 1, "action": "allow", "protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlock": "0.0.0.0/0"}]}},
     "nacl-no-public-admin-ports"),
    ({"type": "aws:secretsmanager/secret:Secret", "name": "secret", "props": {"tags": TAGS, "kmsKeyId": UNKNOWN}},
     None),
    ({"type": "aws:efs/fileSystem:FileSystem", "name": "efs", "props": {"tags": TAGS, "encrypted": False}},
     "efs-encrypted"),
]
UNKNOWN_CASE = {"type": "aws:ec2/instance:Instance", "name": "unknown-monitoring",
                "props": {"tags": TAGS, "monitoring": UNKNOWN, "instanceType": "t3.micro"}}


def run(tmp_path, records, *extra):
    f = tmp_path / "records.json"
    f.write_text(records if isinstance(records, str) else json.dumps(records))
    p = subprocess.run([sys.executable, "-m", "plan", "--check-records", str(f), *extra], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    return p


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("records")
    cfg = tmp / "cfg.json"
    cfg.write_text(json.dumps({"all": "mandatory"}))
    p = run(tmp, [r for r, _ in TABLE] + [UNKNOWN_CASE], "--policy-config", str(cfg), "--json")
    return p, json.loads(p.stdout)


def test_table_exit_code_and_findings(table_run):
    p, out = table_run
    assert p.returncode == 1, p.stderr
    found = {(v["policy"], v["urn"].split("::")[-1]) for v in out["violations"]}
    for record, policy in TABLE:
        fired = {pol for pol, name in found if name == record["name"] and pol != "required-tags"}
        if policy is None:
            assert not {pol for pol in fired if not pol.startswith("secretsmanager-secret-rotation")}, (record, fired)
        else:
            assert policy in fired, (record["name"], fired)


def test_json_violations_have_the_plan_shape(table_run):
    _, out = table_run
    assert set(out) == {"violations", "notApplicable"}
    assert all(set(v) == {"policy", "level", "urn", "message"} for v in out["violations"])


def test_unknown_sentinel_makes_a_rule_could_not_run(table_run):
    _, out = table_run
    [v] = [v for v in out["violations"] if v["policy"] == "ec2-instance-detailed-monitoring-enabled"]
    assert "can't run policy" in v["message"] and v["level"] == "advisory"
    assert v["urn"].endswith("::unknown-monitoring")


def test_advisory_only_exits_0_and_prints_text(tmp_path, capsys):
    from plan.__main__ import main
    f = tmp_path / "records.json"
    f.write_text(json.dumps([TABLE[0][0]]))
    assert main(["--check-records", str(f)]) == 0  # no --policy-config: the pack default (advisory)
    out = capsys.readouterr().out
    assert "[advisory] ebs-volume-encrypted vol-plain" in out and "0 mandatory" in out


@pytest.mark.parametrize("content", ["{not json", json.dumps({"type": "x"}), json.dumps([{"name": "no-type"}]),
                                     json.dumps([{"type": "aws:s3/bucket:Bucket", "name": "b",
                                                  "dependencies": ["missing"]}]),
                                     json.dumps([{"type": "aws:s3/bucket:Bucket", "name": "b",
                                                  "propertyDependencies": ["b"]}]),
                                     json.dumps([{"type": "aws:s3/bucket:Bucket", "name": "b", "dependencies": "b"}])])
def test_malformed_files_exit_2(tmp_path, content, capsys):
    from plan.__main__ import main  # in-process: same argument parsing and exit codes, no interpreter start-up
    f = tmp_path / "records.json"
    f.write_text(content)
    assert main(["--check-records", str(f)]) == 2
    assert capsys.readouterr().err.startswith("error:")
