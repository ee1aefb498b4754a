"""The flow table of both stacks: its structure, the verdicts that are already right, the intended flows
still denied today (strict xfail: the platform's to-do list, issue 12), and a broken grant turning a
named flow red (the recorded plan mutated: a queue policy statement, a key policy statement, a
security-group rule, a task policy, a bucket policy statement, a trust policy)."""
from __future__ import annotations

import copy
import functools
import json

import pytest

from conftest import ROOT, stack_plan
from conftest import cli as plan_cli
from plan.flows import cli
from plan.flows.catalogue import build_flows
from plan.flows.model import Model

STACKS = ("dev", "prod")
SERVICES = ("format-conversion", "classification", "workflow", "search", "quality", "personalization",
            "document-extraction", "conversational", "code")
# What each service uses (issue 12, branch house): the intended service flows follow the contracts.
from components.catalog import DEFAULT_CONTRACTS  # noqa: E402

HAIKU_USERS = [s for s in SERVICES if "anthropic.claude-3-haiku-20240307-v1:0" in DEFAULT_CONTRACTS[s].get("models", ())]
DB_USERS = [s for s in SERVICES if DEFAULT_CONTRACTS[s].get("database", "none") != "none"]
CACHE_USERS = [s for s in SERVICES if DEFAULT_CONTRACTS[s].get("cache")]


@functools.cache
def flows_of(stack: str, preview: bool = False):
    other = "dev" if stack == "prod" else "prod"
    return build_flows(stack_plan(stack, preview=preview), {other: stack_plan(other, preview=preview)})


class WrongVerdict(AssertionError):
    """The flow exists and its verdict is not the intended one (the only failure an xfail may absorb)."""


def find(flows, source: str, target: str, action: str = ""):
    hits = [f for f in flows if source in f.source and target in f.target and action in f.action]
    if not hits:
        raise LookupError(f"no flow {source!r} -> {target!r} [{action}] in the table")
    return hits


def assert_intended(flows, source, target, action=""):
    for f in find(flows, source, target, action):
        v = f.verdict
        if not f.ok:
            raise WrongVerdict(f"{f.source} -> {f.target} [{f.action}] expected {f.expected}, got "
                               f"{'undecidable' if v.allowed is None else v.allowed}: {v.reason}")


# ------------------------------------------------------------------ structure
@pytest.mark.parametrize("stack", STACKS)
def test_flow_table_shape(stack):
    rows = [f.to_json() for f in flows_of(stack)]
    assert rows
    for row in rows:
        assert set(row) - {"undecidable"} == {"from", "to", "action", "expected", "allowed", "reason"}
        assert row["expected"] in ("allow", "deny")
        assert isinstance(row["allowed"], bool) and isinstance(row["reason"], str) and row["reason"]
        if "undecidable" in row:
            assert row["undecidable"] is True and row["allowed"] is False
    json.dumps({"flows": rows})


@pytest.mark.parametrize("stack", STACKS)
def test_at_least_three_forbidden_flows_and_every_service_covered(stack):
    flows = flows_of(stack)
    assert sum(f.expected == "deny" for f in flows) >= 3
    for svc in SERVICES:
        assert any(f.source == svc for f in flows), svc
        assert any(f.target == svc and f.source.startswith("load balancer") for f in flows), svc
        assert any(f.target == svc and f.source == "internet" and f.expected == "deny" for f in flows), svc


@pytest.mark.parametrize("stack", STACKS)
def test_update_mode_has_no_undecidable_flow(stack):
    assert [f.to_json() for f in flows_of(stack) if f.verdict.allowed is None] == []


def test_preview_unknowns_are_undecidable_never_allowed():
    flows = flows_of("prod", preview=True)
    assert any(f.verdict.allowed is None for f in flows)
    # every service flow hangs on the task role's ARN, a computed output in a new stack's preview
    assert not [f.to_json() for f in flows if f.group == "service" and f.verdict.allowed is True]
    allowed_in_update = {(f.source, f.target, f.action) for f in flows_of("prod") if f.verdict.allowed}
    for f in flows:
        if f.verdict.allowed is True:
            assert (f.source, f.target, f.action) in allowed_in_update


# ------------------------------------------------------------------ verdicts already right
RIGHT = [
    # (stacks, source, target, action)
    (STACKS, "EventBridge rule ai-platform-{env}-document-uploaded", "queue ai-platform-{env}-document-processing", ""),
    (STACKS, "EventBridge rule ai-platform-{env}-document-uploaded", "dead-letter queue", ""),
    (STACKS, "EventBridge rule ai-platform-{env}-inference-requested", "queue ai-platform-{env}-inference-requests", ""),
    (STACKS, "EventBridge rule ai-platform-{env}-training-requests", "function ai-platform-{env}-training-orchestrator", ""),
    (STACKS, "bucket ai-platform-{env}-data-lake", "EventBridge rule", ""),
    (STACKS, "topic ai-platform-{env}-domain-events", "queue ai-platform-{env}-notifications", ""),
    (STACKS, "CloudWatch alarms", "topic ai-platform-{env}-alerts", ""),
    (STACKS, "budget ", "topic ai-platform-{env}-warnings", ""),
    (STACKS, "VPC flow log", "log group /ai-platform/{env}/vpc-flow-logs", ""),
    (STACKS, "load balancer ai-platform-{env}-app access logs", "bucket ai-platform-{env}-access-logs", ""),
    (STACKS, "cloudfront ACCESS_LOGS", "bucket ai-platform-{env}-access-logs", ""),
    (STACKS, "bucket ai-platform-{env}-documents-", "bucket ai-platform-{env}-access-logs", ""),
    (STACKS, "API ", "load balancer ai-platform-{env}-app", ""),
    (STACKS, "dev task roles", "prod bucket", ""),
    (STACKS, "dev task roles", "prod database", ""),
    (STACKS, "dev task roles", "prod queue", ""),
    (STACKS, "dev task roles", "prod secret", ""),
    (STACKS, "", "database master secret", ""),
    (STACKS, "", "(document-extraction's)", ""),
    (STACKS, "", "(conversational's)", ""),
    (("prod",), "CloudTrail", "bucket ai-platform-prod-audit", ""),
    (("prod",), "CloudTrail", "log group /ai-platform/prod/cloudtrail", ""),
    (("prod",), "AWS Config", "bucket ai-platform-prod-audit", ""),
    (("prod",), "replication role", "DR bucket ai-platform-prod-dr-documents", ""),
    (("prod",), "replication role", "DR key", ""),
    (("prod",), "backup role", "vault ai-platform-prod-dr-vault", ""),
    (("prod",), "replica dynamodb", "DR key", ""),
    (STACKS, "SPA https://", "API (CORS preflight)", ""),
    (("prod",), "SPA https://app.example.com", "Cognito client ai-platform-prod-spa", ""),
    (("dev",), "schedule ai-platform-dev-offhours-stop", "offhours-scheduler", ""),
    (("prod",), "stack dev", "GuardDuty detector", ""),
    (("prod",), "stack dev", "AWS Config recorder", ""),
] + [(STACKS, "load balancer ai-platform-{env}-app", s, "") for s in SERVICES] \
  + [(STACKS, "internet", s, "") for s in SERVICES] \
  + [(STACKS, s, "model anthropic.claude-3-haiku", "") for s in HAIKU_USERS]


@pytest.mark.parametrize("stack,source,target,action", [
    (st, src.format(env=st), dst.format(env=st), act) for stacks, src, dst, act in RIGHT for st in stacks
], ids=lambda x: x if isinstance(x, str) and len(x) < 40 else None)
def test_verdict_already_right(stack, source, target, action):
    assert_intended(flows_of(stack), source, target, action)


# ------------------------------------------------------------------ the platform's to-do list (issue 12)
TODO = [
    (STACKS, s, "database ai-platform-{env}-postgres", "rds-db:connect") for s in DB_USERS
] + [
    (STACKS, s, "cache ai-platform-{env}-redis", "") for s in CACHE_USERS
] + [
    (STACKS, "document-extraction", "bucket ai-platform-{env}-documents", "s3:GetObject"),
    (STACKS, "document-extraction", "event bus ai-platform-{env}-platform (DocumentUploaded)", ""),
    (STACKS, "document-extraction", "queue ai-platform-{env}-document-processing", ""),
    (STACKS, "conversational", "queue ai-platform-{env}-inference-requests", ""),
    (STACKS, "topic ai-platform-{env}-alerts", "a subscriber", ""),
    (STACKS, "internet", "load balancer ai-platform-{env}-app", ""),
    (STACKS, "training node", "training node", ""),
    (("prod",), "bucket ai-platform-prod-audit", "bucket ai-platform-prod-access-logs", ""),
    (STACKS, "dev repository", "DR region (registry replication)", ""),
    (("dev",), "SPA https://", "Cognito client ai-platform-dev-spa", ""),
    (STACKS, "API gateway errors", "SPA https://", ""),
    (STACKS, "client", "API (web ACL", "POST"),
    (STACKS, "SageMaker endpoints and training", "models/ in ai-platform-{env}-ml-artifacts", ""),
    (STACKS, "SageMaker training", "datasets/ in ai-platform-{env}-data-lake", ""),
    (("dev",), "off-hours scheduler", "services tagged OffHours=true", ""),
    (("prod",), "stack ", "API Gateway account settings", ""),   # dev no longer manages it (prod owns it)
]


# issue 12 fixed on branch house: every flow of the former to-do list is provided (no longer an xfail)
@pytest.mark.parametrize("stack,source,target,action", [
    (st, src.format(env=st), dst.format(env=st), act) for stacks, src, dst, act in TODO for st in stacks
])
def test_intended_flow_todo(stack, source, target, action):
    assert_intended(flows_of(stack), source, target, action)


# ------------------------------------------------------------------ a broken grant turns a named flow red
def mutated_flows(mutate):
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    mutate(plan, Model(plan))
    return build_flows(plan)


def _edit_policy(r, key, keep):
    doc = json.loads(r.inputs[key])
    before = len(doc["Statement"])
    doc["Statement"] = [s for s in doc["Statement"] if keep(s)]
    assert len(doc["Statement"]) < before, f"{r.name}: nothing removed"
    r.inputs[key] = json.dumps(doc)


def _names(stmt, service):
    return service in json.dumps(stmt.get("Principal", {}))


def one(flows, source, target):
    hits = find(flows, source, target)
    exact = [f for f in hits if f.target == target] or hits
    exact = [f for f in exact if f.source == source] or exact   # not the DR region's namesake "... (DR region)"
    (f,) = exact
    return f


QUEUE_FLOW = ("EventBridge rule ai-platform-prod-document-uploaded", "queue ai-platform-prod-document-processing")


def test_queue_policy_statement_removed_denies_eventbridge_to_queue():
    assert one(flows_of("prod"), *QUEUE_FLOW).verdict.allowed is True

    def drop(plan, m):
        q = next(r for r in plan.resources if r.type == "aws:sqs/queue:Queue"
                 and m.get(r, "name") == "ai-platform-prod-document-processing"
                 and m.region_of(r) == plan.region)   # the primary's (the DR region's has the same name)
        for pol in plan.resources:
            if pol.type == "aws:sqs/queuePolicy:QueuePolicy" and m.ref(pol, "queueUrl") is q:
                _edit_policy(pol, "policy", lambda s: not _names(s, "events.amazonaws.com"))
    f = one(mutated_flows(drop), *QUEUE_FLOW)
    assert f.verdict.allowed is False and "sqs:SendMessage" in f.verdict.reason


def test_key_policy_statement_removed_denies_eventbridge_to_encrypted_queue():
    def drop(plan, m):
        q = next(r for r in plan.resources if r.type == "aws:sqs/queue:Queue"
                 and m.get(r, "name") == "ai-platform-prod-document-processing"
                 and m.region_of(r) == plan.region)   # the primary's (the DR region's has the same name)
        key = m.key(m.get(q, "kmsMasterKeyId"))
        _edit_policy(key, "policy", lambda s: not _names(s, "events.amazonaws.com"))
    f = one(mutated_flows(drop), *QUEUE_FLOW)
    assert f.verdict.allowed is False and "queue key" in f.verdict.reason


def test_security_group_rule_removed_denies_load_balancer_to_service():
    flow = ("load balancer ai-platform-prod-app", "classification")
    assert one(flows_of("prod"), *flow).verdict.allowed is True

    def drop(plan, m):
        lb = next(r for r in plan.resources if r.type == "aws:lb/loadBalancer:LoadBalancer"
                  and m.region_of(r) == plan.region)   # the primary's (the DR region's has the same name)
        lb_sgs = set(m.get(lb, "securityGroups"))
        gone = [r for r in plan.resources if r.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
                and r.inputs.get("referencedSecurityGroupId") in lb_sgs]
        assert gone
        plan.resources[:] = [r for r in plan.resources if r not in gone]
    f = one(mutated_flows(drop), *flow)
    assert f.verdict.allowed is False and "no ingress rule" in f.verdict.reason


def test_task_policy_removed_denies_service_to_model():
    flow = ("classification", "model anthropic.claude-3-haiku")
    assert one(flows_of("prod"), *flow).verdict.allowed is True

    def drop(plan, m):
        svc = next(r for r in plan.resources if r.type == "aws:ecs/service:Service" and m.get(r, "name") == "classification"
                   and m.region_of(r) == plan.region)   # the primary's (the DR region's has the same name)
        td = m.ref(svc, "taskDefinition")
        role = m.role_by_arn(m.get(td, "taskRoleArn"))
        gone = [r for r in plan.resources if r.type in ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                                                        "aws:iam/rolePolicy:RolePolicy")
                and m._role_ref(r, "role") is role]
        assert gone
        plan.resources[:] = [r for r in plan.resources if r not in gone]
    f = one(mutated_flows(drop), *flow)
    assert f.verdict.allowed is False and "bedrock:InvokeModel" in f.verdict.reason


def test_bucket_policy_statement_removed_denies_cloudtrail_delivery():
    flow = ("CloudTrail", "bucket ai-platform-prod-audit")

    def drop(plan, m):
        pol = next(r for r in plan.resources if r.type == "aws:s3/bucketPolicy:BucketPolicy"
                   and "audit" in r.inputs.get("bucket", "") and "access-logs" not in r.inputs["bucket"])
        _edit_policy(pol, "policy", lambda s: not (_names(s, "cloudtrail.amazonaws.com") and "PutObject" in json.dumps(s)))
    f = one(mutated_flows(drop), *flow)
    assert f.verdict.allowed is False and "s3:PutObject" in f.verdict.reason


def test_trust_policy_broken_denies_flow_log_delivery():
    flow = ("VPC flow log flow-log", "log group /ai-platform/prod/vpc-flow-logs")   # the primary's, not "(DR ...)"

    def broken(plan, m):
        fl = next(r for r in plan.resources if r.type == "aws:ec2/flowLog:FlowLog" and m.region_of(r) == plan.region)
        role = m.role_by_arn(m.get(fl, "iamRoleArn"))
        doc = json.loads(role.resource.inputs["assumeRolePolicy"])
        for s in doc["Statement"]:
            s["Principal"] = {"Service": "ec2.amazonaws.com"}
        role.resource.inputs["assumeRolePolicy"] = json.dumps(doc)
    f = one(mutated_flows(broken), *flow)
    assert f.verdict.allowed is False and "trust" in f.verdict.reason


def test_a_forbidden_flow_turns_red_when_a_grant_is_too_wide():
    flow = ("", "(document-extraction's)")

    def widen(plan, m):
        pol = next(r for r in plan.resources if r.name == "classification-task-policy"
                   and m.region_of(r) == plan.region)   # the primary's (the DR region's has the same name)
        doc = json.loads(pol.inputs["policy"])
        doc["Statement"].append({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
        pol.inputs["policy"] = json.dumps(doc)
    f = one(mutated_flows(widen), *flow)
    assert f.verdict.allowed is True and not f.ok


# ------------------------------------------------------------------ command line
def test_cli_json_shape_and_exit_code():
    run = plan_cli("--stack-file", str(ROOT / "Pulumi.dev.yaml"), "--flows", "--json", "--no-policies")
    rc, out = run.returncode, json.loads(run.stdout)
    assert set(out) == {"flows"}
    ok = all((r["allowed"] if r["expected"] == "allow" else not r["allowed"] and not r.get("undecidable"))
             for r in out["flows"])
    assert rc == (0 if ok else 1)


def test_cli_bad_input_is_one_line_and_exit_2(capsys, tmp_path):
    from plan.__main__ import main
    assert main(["--flows"]) == 2
    assert main(["--stack-file", str(tmp_path / "Pulumi.nope.yaml"), "--flows"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("error: ") for e in err)


def test_mode_defaults_to_update_for_flows():
    assert cli.mode_given(["--stack", "dev", "--flows", "--mode", "preview"]) is True
    assert cli.mode_given(["--stack", "dev", "--flows"]) is False




def test_service_contracts_in_config_drive_the_flows():
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    app = dict(plan.config.get("ai-platform:application") or {})
    app["services"] = {"quality": {"uses": {"tables": ["synthetic-data"], "buckets": {"ml-artifacts": "write"}}},
                       "code": {"uses": {"secrets": ["app-api-keys"], "database": "none"}}}
    plan.config["ai-platform:application"] = app
    flows = build_flows(plan)
    quality = {f.target: f for f in flows if f.source == "quality"}
    assert "table ai-platform-prod-synthetic-data" in quality
    assert any(t.startswith("bucket ai-platform-prod-ml-artifacts") for t in quality)
    # the stack's entries add to the catalogue's contract, as the program merges them (issue 25: the flows read
    # the stack's `uses` alone, so a service given one more model lost its database, cache and model flows)
    assert any(t.startswith("database") and t != "database master secret" for t in quality)   # readonly, kept
    code = {f.target: f for f in flows if f.source == "code"}
    assert not any(t.startswith("database") and t != "database master secret" for t in code)   # database: none
    secret = code["secret ai-platform/prod/app-api-keys"]
    assert secret.verdict.allowed is False and "not injected" in secret.verdict.reason
    # each service has its own execution role (issue 12): another service may not read a secret the contract
    # gives to code only, so the isolation flow holds
    (iso,) = [f for f in flows if f.target == "secret ai-platform/prod/app-api-keys (code's)"]
    assert iso.expected == "deny" and iso.verdict.allowed is False and iso.ok


# The CLI's own process for the forked-child test: `python -m plan ARGV` with the program runs served from pickles of
# the tests' stack plans (the config must be the stack file's: anything else is an error, not a silent answer), and
# each serving process's pid written beside them. What this test asserts is the fork: the other stack planned in a
# child process and handed back whole; that a stack file's config plans to `stack_plan` is every other test's
# premise (two whole programs here were ~7 s of CPU).
_FORKED_CLI = """
import json, os, pickle, sys
from pathlib import Path
import plan.engine
from plan.__main__ import main
from plan.stackfile import load_stack_config, stack_file_path
served = Path(sys.argv[1])

def run_program(program, *, config, stack, preview, secret_keys=(), **kwargs):
    assert not kwargs and dict(config) == load_stack_config(*stack_file_path(stack, None))[0], stack
    (served / f"{stack}-{preview}.pid").write_text(str(os.getpid()))
    return pickle.loads((served / f"{stack}-{preview}.pickle").read_bytes())

plan.engine.run_program = run_program
os._exit(main(sys.argv[2:]))
"""


def test_the_cli_plans_the_other_stacks_in_a_forked_child_with_the_same_flows(tmp_path):
    """`--flows` plans the other stacks (cross-stack isolation) in a forked child beside its own stack: the flows
    are the same as from plans built in one process (the tests' stack plans), the other stack's plan comes from
    another process (its pid), and a process with other threads (a pytest-xdist worker) never forks."""
    import os
    import pickle
    import subprocess
    import sys
    import threading
    import time

    from plan.flows.cli import _start_plan
    for stack in STACKS:
        (tmp_path / f"{stack}-False.pickle").write_bytes(pickle.dumps(stack_plan(stack, preview=False),
                                                                      protocol=pickle.HIGHEST_PROTOCOL))
    run = subprocess.run([sys.executable, "-c", _FORKED_CLI, str(tmp_path),
                          "--stack", "dev", "--flows", "--json", "--no-policies"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr[-2000:]
    own, other = ((tmp_path / f"{s}-False.pid").read_text() for s in ("dev", "prod"))
    assert own != other    # prod was planned in the forked child, dev in the CLI's process
    # verdicts, not their wording: a reason may name the first of several roles, in registration order (not fixed)
    def verdicts(docs):
        return sorted((d["from"], d["to"], d["action"], d["expected"], d["allowed"], bool(d.get("undecidable")))
                      for d in docs)
    here = flows_of("dev", False)
    assert verdicts(json.loads(run.stdout)["flows"]) == verdicts(f.to_json() for f in here)
    alive = threading.Thread(target=time.sleep, args=(5,), daemon=True)
    alive.start()
    result = _start_plan("dev", ROOT / "Pulumi.dev.yaml", False)
    assert result.__name__ == "<lambda>"   # sequential: not called here (it would run the program)
