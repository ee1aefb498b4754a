"""The offline engine: what it records, how it shows a preview's unknowns, its exit codes and JSON shape."""
from __future__ import annotations

import dataclasses
import functools
import json
import subprocess
import sys

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx
import pytest
from pulumi_policy import EnforcementLevel, StackValidationPolicy

from conftest import ROOT, cli
from conftest import primary_plan as stack_plan
from plan.analyze import analyze, build_servicer, configure
from plan.engine import UNKNOWN, Plan, run_program

CONFIG = {"aws:region": "us-east-1"}


def vpc_and_flow_log():
    vpc = awsx.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", number_of_availability_zones=2)
    aws.ec2.FlowLog("fl", vpc_id=vpc.vpc_id, traffic_type="ALL", log_destination="arn:aws:logs:x",
                    opts=pulumi.ResourceOptions(protect=True, ignore_changes=["tags"]))


def test_awsx_outputs_are_synthesised_not_echoed():
    plan = run_program(vpc_and_flow_log, config=CONFIG, preview=False)
    fl = plan.named("fl")
    assert fl.props["vpcId"].startswith("vpc-")
    vpc = plan.named("vpc")
    assert vpc.remote and not vpc.custom
    assert "vpcId" not in vpc.inputs  # the component's inputs are not its outputs
    assert len(vpc.outputs["privateSubnetIds"]) == 2 and all(s.startswith("subnet-") for s in vpc.outputs["publicSubnetIds"])


def test_preview_shows_computed_outputs_as_unknown_like_a_new_stack():
    plan = run_program(vpc_and_flow_log, config=CONFIG, preview=True)
    fl = plan.named("fl")
    assert fl.inputs["vpcId"] == UNKNOWN
    assert fl.propertyDependencies["vpcId"] == [plan.named("vpc").urn]


def test_preview_leaves_resource_ids_unknown_downstream():
    plan = stack_plan("prod", True)
    rule = plan.named("app-in-lb")
    assert rule.inputs["securityGroupId"] == UNKNOWN and rule.inputs["referencedSecurityGroupId"] == UNKNOWN
    known = stack_plan("prod", False).named("app-in-lb")
    assert known.inputs["securityGroupId"].startswith("sg-")


def test_records_options_and_dependencies():
    plan = run_program(vpc_and_flow_log, config=CONFIG, preview=True)
    fl = plan.named("fl")
    assert fl.options["protect"] is True and fl.options["ignoreChanges"] == ["tags"]
    assert plan.named("vpc").urn in fl.dependencies


def _value_correlating_policy():
    """A stack policy written the fragile way: it joins flow logs to VPCs by output values."""
    def validate(args, report):
        vpc_ids = {r.props["vpcId"] for r in args.resources if r.resource_type == "awsx:ec2:Vpc"}
        for r in args.resources:
            if r.resource_type == "aws:ec2/flowLog:FlowLog" and r.props["vpcId"] not in vpc_ids:
                report("flow log for an unknown VPC")
    return StackValidationPolicy(name="by-value", description="joins by value", validate=validate,
                                 enforcement_level=EnforcementLevel.MANDATORY)


def test_a_policy_reading_another_resources_output_is_skipped_in_preview():
    servicer = build_servicer(policies=[_value_correlating_policy()])
    configure(servicer, {})
    preview = analyze(run_program(vpc_and_flow_log, config=CONFIG, preview=True), servicer=servicer)
    assert preview.mandatory == []
    [skip] = preview.skipped
    assert skip.policy == "by-value" and skip.level == "advisory" and "can't be known during preview" in skip.message


def test_the_dependency_correlating_flow_log_policy_decides_in_preview():
    analysis = analyze(run_program(vpc_and_flow_log, config=CONFIG, preview=True), policy_config={"all": "mandatory"})
    assert analysis.of("vpc-flow-logs-enabled") == []
    no_logs = analyze(run_program(lambda: awsx.ec2.Vpc("vpc", cidr_block="10.0.0.0/16"), config=CONFIG, preview=True),
                      policy_config={"all": "mandatory"})
    assert [v.level for v in no_logs.of("vpc-flow-logs-enabled")] == ["mandatory"]


def run_cli(*args):
    return cli(*args)  # in-process, plans from the session cache (conftest.cli)


def run_process(*args):
    """A real `python -m plan` process: where the boundary (exit code, one line on stderr) is what is tested."""
    return subprocess.run([sys.executable, "-m", "plan", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_json_shape_and_exit_code_of_a_clean_stack():
    result = run_cli("--stack", "prod", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["stack"] == "prod"
    keys = {"urn", "type", "name", "parent", "provider", "options", "inputs", "dependencies", "propertyDependencies"}
    assert all(keys <= set(r) for r in doc["resources"])
    assert all(set(v) == {"policy", "level", "urn", "message"} for v in doc["violations"])
    assert not [v for v in doc["violations"] if v["level"] == "mandatory"]


def test_exit_code_1_on_mandatory_violation(tmp_path):
    cfg = tmp_path / "strict.json"
    cfg.write_text(json.dumps({"all": "mandatory", "required-tags": {"requiredTags": ["DataOwner"]}}))
    result = run_cli("--stack", "dev", "--policy-config", str(cfg))
    assert result.returncode == 1
    assert "[mandatory] required-tags" in result.stdout


def test_bad_policy_config_is_exit_2(tmp_path):
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps({"required-tags": {"requiredTags": "Team"}}))
    result = run_process("--stack", "dev", "--policy-config", str(cfg))  # fails before the program runs
    assert result.returncode == 2 and "required-tags.requiredTags" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_secret_value_reaches_the_plan_or_outputs():
    plan = stack_plan("prod", False)
    text = json.dumps([r.to_json() for r in plan.resources]) + json.dumps(plan.exports)
    version = plan.named("secret-jwt-signing-secret-initial")
    assert version.inputs["secretString"] != UNKNOWN
    assert "[secret]" in json.dumps(version.to_json()["inputs"])
    assert "mock-random" not in text


# --- any program (issue 13): mocks driven by the provider's own types ------------------------------------
from plan.engine import PlanError  # noqa: E402
from plan.mocks import arn_format, computed_outputs, invoke_result, policy_document  # noqa: E402
from plan.records import records_plan  # noqa: E402
from plan.stackfile import load_stack_config, local_plaintext  # noqa: E402


def test_get_policy_document_renders_the_json_aws_receives():
    doc = json.loads(policy_document({
        "policyId": "p1",
        "statements": [
            {"sid": "Read", "actions": ["s3:GetObject", "s3:ListBucket"], "resources": ["arn:aws:s3:::b/*"],
             "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::111122223333:root"]}],
             "conditions": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}]},
            {"effect": "Deny", "notActions": ["iam:*"], "notResources": ["*"],
             "principals": [{"type": "*", "identifiers": ["*"]}]}],
        "overridePolicyDocuments": [json.dumps({"Statement": [{"Sid": "Read", "Effect": "Deny", "Action": "*",
                                                                "Resource": "*"}]})]})["json"])
    assert doc["Version"] == "2012-10-17" and doc["Id"] == "p1"
    assert doc["Statement"][0] == {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "*", "Principal": "*"}
    assert doc["Statement"][1] == {"Sid": "Read", "Effect": "Deny", "Action": "*", "Resource": "*"}  # overridden


def test_get_policy_document_single_values_and_conditions():
    [stmt] = json.loads(policy_document({"statements": [{
        "actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:us-east-1:1:q"],
        "principals": [{"type": "Service", "identifiers": ["sns.amazonaws.com", "events.amazonaws.com"]}],
        "conditions": [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": ["arn:aws:sns:us-east-1:1:t"]}]}]})
        ["json"])["Statement"]
    assert stmt == {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:1:q",
                    "Principal": {"Service": ["events.amazonaws.com", "sns.amazonaws.com"]},
                    "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:1:t"}}}


def test_any_invoke_gets_its_result_types_keys():
    # No hand-written answer for these: the keys and their types come from the SDK's Get...Result class.
    cluster = invoke_result("aws:ecs/getCluster:getCluster", {"clusterName": "main"}, "eu-west-1")
    assert cluster["clusterName"] == "main" and isinstance(cluster["registeredContainerInstancesCount"], int)
    assert isinstance(cluster["settings"], list)
    zone = invoke_result("aws:route53/getZone:getZone", {"name": "example.com"}, "us-east-1")
    assert zone["zoneId"].startswith("Z") and zone["name"] == "example.com."
    assert invoke_result("aws:index/getPartition:getPartition", {}, "us-east-1")["partition"] == "aws"


@pytest.mark.parametrize("token, shape", [
    ("aws:sfn/stateMachine:StateMachine", "arn:aws:states:eu-west-1:123456789012:stateMachine:sm-"),
    ("aws:appsync/graphQLApi:GraphQLApi", "arn:aws:appsync:eu-west-1:123456789012:apis/"),
    ("aws:ec2/eip:Eip", "arn:aws:ec2:eu-west-1:123456789012:elastic-ip/eipalloc-"),
    ("aws:lambda/layerVersion:LayerVersion", "arn:aws:lambda:eu-west-1:123456789012:layer:sm-"),
    ("aws:sqs/queue:Queue", "arn:aws:sqs:eu-west-1:123456789012:sm-"),
])
def test_any_resource_type_gets_its_services_arn_shape(token, shape):
    _, out = computed_outputs(token, "sm", {}, "eu-west-1")
    assert out["arn"].startswith(shape)


def test_arn_formats_come_from_the_iam_reference():
    assert arn_format("aws:cloudwatch/logGroup:LogGroup") == \
        "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}"


def test_the_arn_formats_table_is_parliaments_reference():
    """plan/arn_formats.json is derived from the installed parliament's iam_definition.json, key order included
    (arn_format takes the first prefix match); after an upgrade: `python -c "import plan.mocks as m;
    m.write_arn_formats()"`."""
    from plan.mocks import ARN_FORMATS, derive_arn_formats
    table, derived = json.loads(ARN_FORMATS.read_text())["formats"], derive_arn_formats()
    assert table == derived and all(list(table[p]) == list(derived[p]) for p in derived)


def test_ec2_style_ids_have_their_prefix():
    assert computed_outputs("aws:ec2/natGateway:NatGateway", "n", {}, "us-east-1")[0].startswith("nat-")
    assert computed_outputs("aws:ec2/internetGateway:InternetGateway", "i", {}, "us-east-1")[0].startswith("igw-")


def test_records_whose_names_repeat_across_types_are_accepted():
    plan = records_plan([{"type": "aws:s3/bucket:Bucket", "name": "app"},
                         {"type": "aws:sqs/queue:Queue", "name": "app"},
                         {"type": "aws:s3/bucketPolicy:BucketPolicy", "name": "app-policy",
                          "propertyDependencies": {"bucket": ["aws:s3/bucket:Bucket::app"]}}])
    assert len({r.urn for r in plan.resources}) == 3
    assert plan.named("app-policy").propertyDependencies["bucket"] == [plan.named("app", "aws:s3/bucket:Bucket").urn]


@pytest.mark.parametrize("records, message", [
    ([{"type": "aws:s3/bucket:Bucket", "name": "app"}, {"type": "aws:s3/bucket:Bucket", "name": "app"}],
     "duplicate of record 0"),
    ([{"type": "aws:s3/bucket:Bucket", "name": "app"}, {"type": "aws:sqs/queue:Queue", "name": "app"},
      {"type": "aws:s3/bucketPolicy:BucketPolicy", "name": "p", "dependencies": ["app"]}], "write TYPE::NAME"),
])
def test_ambiguous_or_duplicate_records_are_one_line_errors(records, message):
    with pytest.raises(PlanError, match=message):
        records_plan(records)


def test_secure_config_becomes_a_deterministic_local_plaintext(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  p:password:\n    secure: v1:abc\n  p:db:\n    user: app\n    pass:\n      secure: v1:def\n")
    config, secrets = load_stack_config("dev", tmp_path / "Pulumi.dev.yaml", tmp_path)
    assert config["p:password"] == local_plaintext("p:password", "v1:abc") != local_plaintext("p:password", "v1:x")
    assert config["p:db"]["user"] == "app" and config["p:db"]["pass"].startswith("local-secret-")
    assert sorted(secrets) == ["p:db", "p:password"]


def _tiny(path, name, body, main=None):
    path.mkdir(parents=True, exist_ok=True)
    (path / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n" + (f"main: {main}\n" if main else ""))
    (path / "Pulumi.dev.yaml").write_text(f"config:\n  aws:region: eu-west-1\n  {name}:greeting: hi\n")
    entry = path / (main or ".") / "__main__.py"
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(body)
    return entry.parent


def test_program_directory_honours_main_and_its_own_namespace(tmp_path):
    from plan.engine import plan_directory
    src = _tiny(tmp_path / "a", "alpha", "import pulumi, pulumi_aws as aws, helper\n"
                "aws.sqs.Queue(helper.NAME, tags={'g': pulumi.Config().require('greeting')})\n", main="src")
    (src / "helper.py").write_text("NAME = 'from-alpha'\n")
    plan = plan_directory(tmp_path / "a", stack="dev", preview=False)
    queue = plan.named("from-alpha")
    assert plan.project == "alpha" and queue.props["tags"] == {"g": "hi"} and "::alpha::" in queue.urn
    assert queue.outputs["arn"].startswith("arn:aws:sqs:eu-west-1:")
    # A second program with its own helper.py is not shadowed by the first one's.
    other = _tiny(tmp_path / "b", "beta", "import pulumi_aws as aws, helper\naws.sqs.Queue(helper.NAME)\n")
    (other / "helper.py").write_text("NAME = 'from-beta'\n")
    assert [r.name for r in plan_directory(tmp_path / "b", stack="dev").resources] == ["from-beta"]


# --- the linear quiescence loop (plan/sdk.py `_wait_for_rpcs`, used by run_program) -----------------------------
def _canonical(plan) -> dict:
    """A plan's records with dependency lists sorted: the SDK gathers dependencies in sets, so their order varies
    from run to run under either loop."""
    return {r.urn: json.dumps([r.type, r.parent, r.provider, r.inputs, sorted(r.dependencies),
                               {k: sorted(v) for k, v in r.propertyDependencies.items()},
                               {k: sorted(v) if k == "dependsOn" else v for k, v in r.options.items()}],
                              sort_keys=True) for r in plan.resources}


def test_the_linear_quiescence_loop_records_what_the_sdks_loop_records():
    """The prod stack in update mode (every output resolved) under the SDK's own `wait_for_rpcs`: the same
    resources, inputs, dependencies, options and exports as run_program's loop gives. The run is
    `_under_the_sdks_loop_and_registration("prod", False)`'s (its registrations answered as ours answers them;
    the SDK's own answers are compared by test_the_monitors_registration_gives_what_the_sdks_gives). prod's
    update holds every resource type and every kind of value dev's does, and more (the DR region)."""
    from conftest import stack_plan as whole_plan
    ours = whole_plan("prod", False)
    stock = _under_the_sdks_loop_and_registration("prod", False).plan
    assert _canonical(stock) == _canonical(ours) and len(ours.resources) > 1000
    assert stock.exports == ours.exports


def _late_outputs():
    """Resources registered from inside applies (outputs created while the loop waits), one apply raising."""
    bucket = aws.s3.Bucket("first", bucket="first")
    second = bucket.arn.apply(lambda arn: aws.s3.Bucket("second", bucket="second", tags={"From": arn}))
    second.arn.apply(lambda arn: aws.sqs.Queue("third", name="third", tags={"From": arn}))
    pulumi.export("second", second.arn)


@pytest.mark.parametrize("stock", [False, True], ids=["linear", "sdk"])
def test_outputs_created_while_waiting_are_awaited_and_an_apply_error_stops_the_run(stock, monkeypatch):
    import contextlib

    import plan.engine
    from plan.engine import PlanError
    if stock:
        monkeypatch.setattr(plan.engine, "linear_quiescence", contextlib.nullcontext)
    plan = run_program(_late_outputs, config=CONFIG, preview=False)
    assert [r.name for r in plan.resources if r.custom] == ["first", "second", "third"]
    assert plan.named("third").props["tags"] == {"From": "arn:aws:s3:::second"}
    assert plan.exports["second"] == "arn:aws:s3:::second"

    def failing():
        _late_outputs()
        aws.s3.Bucket("fourth", bucket="fourth").arn.apply(lambda arn: 1 / 0)
    with pytest.raises(PlanError, match="ZeroDivisionError"):
        run_program(failing, config=CONFIG, preview=False)


def _unknown_cases() -> list:
    """Values as outputs hold them: unknowns (the engine's sentinel object) at every depth, shared and
    self-referring containers, secrets' wrappers, none at all."""
    from pulumi.output import UNKNOWN as U
    shared: dict = {"a": 1}
    loop: dict = {"x": [1, 2]}
    loop["self"] = loop
    loop_with: list = [1]
    loop_with.append(loop_with)
    loop_with.append({"deep": [U]})
    return [None, 1, "s", U, [], {}, [1, "a", None], [[[U]]], {"a": {"b": [1, {"c": U}]}}, {"a": shared, "b": shared},
            [shared, shared, {"u": U}], loop, loop_with, {"k": (U,)}, {U: 1}, [{"a": [{"b": [{"c": [2]}]}]}]]


def test_contains_unknowns_answers_as_the_sdks_and_leaves_no_cycles():
    """plan/sdk.py `_contains_unknowns` (installed for a run by `acyclic_unknown_checks`): the SDK's answer on
    every case; the SDK's own left a closure cycle per call, which only the collector (off in the CLI) frees."""
    import gc

    from pulumi.runtime import rpc

    from plan import sdk
    cases = _unknown_cases()
    assert [sdk._contains_unknowns(v) for v in cases] == [rpc.contains_unknowns(v) for v in cases]
    assert any(rpc.contains_unknowns(v) for v in cases) and not all(rpc.contains_unknowns(v) for v in cases)
    enabled = gc.isenabled()
    gc.disable()
    try:
        # What each leaves behind, counted without a collection: with the collector off, the youngest generation's
        # count is the tracked objects allocated minus those freed, so a call that frees all it made adds 0, and
        # the SDK's adds its closure cycle (only a collection would free it). A collection here walked every
        # object a test worker had allocated since its last one (~7 s at the suite's mix). The calls above warmed
        # the free lists.
        start = gc.get_count()[0]
        for v in cases:
            sdk._contains_unknowns(v)
        ours = gc.get_count()[0] - start
        start = gc.get_count()[0]
        for v in cases:
            rpc.contains_unknowns(v)
        theirs = gc.get_count()[0] - start
    finally:
        if enabled:
            gc.enable()
    assert ours == 0 and theirs >= 3 * len(cases)    # the function, its cell and its closure at least
    with sdk.acyclic_unknown_checks():
        assert rpc.contains_unknowns is sdk._contains_unknowns
    assert rpc.contains_unknowns is not sdk._contains_unknowns


def test_the_runs_output_tracker_keeps_what_the_sdks_keeps(monkeypatch):
    """plan/sdk.py `_tracker` (Output._track during a run): every output's task enters the run's set; a sweep,
    whenever the set has grown by half (at least `_SWEEP_MIN`), drops the tasks that succeeded and keeps the
    failed, cancelled and pending ones (what the SDK's done-callback leaves for the end of the run to raise or
    wait for)."""
    import asyncio
    import threading

    from plan import sdk
    monkeypatch.setattr(sdk, "_SWEEP_MIN", 6)
    loop = asyncio.new_event_loop()
    try:
        ok, bad, cancelled, pending = (loop.create_future() for _ in range(4))
        ok.set_result(1)
        bad.set_exception(ValueError("x"))
        cancelled.cancel()
        outputs: set = set()
        track = sdk._tracker(outputs, threading.Lock())

        class Out:
            def __init__(self, data):
                self._data = data
        for fut in (ok, bad, cancelled, pending):
            track(Out(fut))
        assert outputs == {ok, bad, cancelled, pending}         # below the sweep's size: kept as they are
        more = [loop.create_future() for _ in range(2)]
        more[0].set_result(2)
        for fut in more:
            track(Out(fut))                                     # the sixth: a sweep
        assert outputs == {bad, cancelled, pending, more[1]}
        later = loop.create_future()
        later.set_result(3)
        track(Out(later))                                       # the next sweep: 4 + 6 outputs
        assert later in outputs
    finally:
        loop.close()


@pytest.mark.parametrize("token", [
    "aws:index/getCallerIdentity:getCallerIdentity", "aws:ec2/getNetworkAcls:getNetworkAcls",
    "aws:ecr/getImages:getImages", "aws:elb/getServiceAccount:getServiceAccount",
    "aws:secretsmanager/getRandomPassword:getRandomPassword", "aws:lambda/getFunction:getFunction",
    "aws:iam/getPolicyDocument:getPolicyDocument", "awsx:ec2:getDefaultVpc"])
def test_an_invokes_result_class_is_found_where_the_generator_put_it_as_by_the_search(token):
    """plan/mocks.py `invoke_result_class` looks in the declaring module's usual file first (no walk of the
    package's ~4,000 files); the answer is the whole search's (`lambda` is the `lambda_` folder, `index` the
    package)."""
    import importlib.util
    from pathlib import Path

    from plan import mocks
    mocks.invoke_result_class.cache_clear()
    found = mocks.invoke_result_class(token)
    root = Path(importlib.util.find_spec("pulumi_" + token.split(":")[0]).origin).parent
    assert found == mocks._declaring(root, token, None)
    assert found is not None


def _ordered(value):
    """A value with its dict key order and `Unknown`s made comparable (json text; an Unknown is "<unknown>")."""
    from pulumi.output import Unknown
    return json.dumps(value, default=lambda v: "<unknown>" if isinstance(v, Unknown) else repr(v))


@dataclasses.dataclass(frozen=True)
class _Registrations:
    plan: Plan             # the run's plan
    compared: int          # registrations compared with the SDK's RegisterResource (the stack's own left out)
    plain: int             # of which the direct decoding took (plain data), also compared with the SDK's decoding
    differing: tuple       # (request name, what differed) of every registration whose answers differ


@functools.cache
def _under_the_sdks_loop_and_registration(stack: str, preview: bool) -> _Registrations:
    """One whole-stack run where every registration is answered by plan/sdk.py `register_resource` and also by
    the SDK's own `MockMonitor.RegisterResource` (and, for plain properties, `_plain_props` against the SDK's
    `deserialize_properties`), ours answering; prod's update (a thousand and more registrations, every kind dev's
    update has) also under the SDK's own quiescence loop (`linear_quiescence` off), its plan shared with
    test_the_linear_quiescence_loop_records_what_the_sdks_loop_records. The two comparisons do not interfere:
    ours answers every registration, as in any run, and the loop never sees a registration's internals."""
    import contextlib

    from pulumi.runtime import rpc, settings

    import plan.engine
    from conftest import stack_file_config
    from plan import sdk
    from plan.engine import main_program
    from plan.structs import to_dict
    counts = {"plain": 0, "all": 0}
    differing: list = []

    def both(monitor, request):
        ours = sdk.register_resource(monitor, request)
        theirs = sdk.pmocks.MockMonitor.RegisterResource(monitor, request)
        if (ours.urn, ours.id) != (theirs.urn, theirs.id):
            differing.append((request.name, "urn, id"))
        if _ordered(to_dict(ours.object)) != _ordered(to_dict(theirs.object)):
            differing.append((request.name, "outputs"))
        if request.type != "pulumi:pulumi:Stack":
            counts["all"] += 1
            try:
                plain = sdk._plain_props(request.object, sdk.Unknown if settings.is_dry_run() else None)
            except sdk._NotPlain:
                return ours
            counts["plain"] += 1
            if _ordered(plain) != _ordered(rpc.deserialize_properties(request.object)):
                differing.append((request.name, "inputs"))
        return ours
    sdks_loop = (stack, preview) == ("prod", False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plan.engine, "register_resource", both)
        if sdks_loop:
            mp.setattr(plan.engine, "linear_quiescence", contextlib.nullcontext)
        name, config, secrets = stack_file_config(stack)
        run = run_program(main_program(), config=config, stack=name, preview=preview, secret_keys=secrets)
    return _Registrations(run, counts["all"], counts["plain"], tuple(differing))


@pytest.mark.parametrize("stack,preview", [("prod", False), ("dev", True)])
def test_the_monitors_registration_gives_what_the_sdks_gives(stack, preview):
    """plan/sdk.py `register_resource` (the recording monitor's MockMonitor.RegisterResource, plain properties
    decoded and encoded directly): for every registration of a whole stack, the response (id, urn, outputs in
    their order) and the inputs the mocks receive are the SDK's own `RegisterResource`'s. prod's update adds
    kinds of registration dev's lacks (39 types, deeper values, protected resources), so both stay."""
    seen = _under_the_sdks_loop_and_registration(stack, preview)
    assert seen.differing == ()
    assert seen.compared > 500 and seen.plain > 0.9 * seen.compared


def test_the_direct_state_encoding_is_the_sdks_on_hand_made_states():
    """`register_resource`'s encoding of a mock's state: what `rpc.serialize_properties` gives, in order, for
    None at the top (left out) and inside, tuples, numbers, unknowns, nested maps; an asset is not plain data
    and goes to the SDK's own serializer."""
    from pulumi import FileAsset
    from pulumi.output import Unknown
    from pulumi.runtime import rpc
    from pulumi.runtime.sync_await import _sync_await

    from plan import sdk
    from plan.structs import to_dict
    state = {"z": 1, "gone": None, "a": [None, 2.5, True, ("x", Unknown())], "m": {"k": None, "u": Unknown()},
             "s": "text", "n": {"deep": [{"e": []}, {}]}}
    ours = sdk._struct_of(state)
    assert ours is not None
    assert _ordered(to_dict(ours)) == _ordered(to_dict(_sync_await(rpc.serialize_properties(state, {}))))
    assert sorted(to_dict(ours)) == ["a", "m", "n", "s", "z"]      # None at the top: left out
    assert sdk._struct_of({"code": FileAsset("x.py")}) is None and sdk._struct_of({1: "a"}) is None


def test_each_run_has_its_own_root_stack_and_exports():
    """set_mocks keeps an existing root stack: without a reset a second run in one process reported the first
    run's exports beside its own and parented its resources to the first run's stack."""
    def first():
        aws.s3.Bucket("a", bucket="a")
        pulumi.export("a", 1)

    def second():
        aws.s3.Bucket("b", bucket="b")
        pulumi.export("b", 2)
    one = run_program(first, config=CONFIG, stack="dev", preview=False)
    two = run_program(second, config=CONFIG, stack="prod", preview=False)
    assert (one.exports, two.exports) == ({"a": 1}, {"b": 2})
    assert one.named("a").parent == "urn:pulumi:dev::ai-platform::pulumi:pulumi:Stack::ai-platform-dev"
    assert two.named("b").parent == "urn:pulumi:prod::ai-platform::pulumi:pulumi:Stack::ai-platform-prod"


def test_the_plan_records_each_invoke_with_its_arguments():
    """Plan.invokes: what the program asks the provider to look up (token and wire-named arguments, integers as
    integers), in both modes; each run starts empty. (The order is the runtime's, which is not the source's.)"""
    def program():
        aws.get_caller_identity_output()
        aws.secretsmanager.get_random_password_output(password_length=20, exclude_characters='@"/')
    for preview in (True, False):
        plan = run_program(program, config=CONFIG, preview=preview)
        assert sorted(plan.invokes, key=lambda i: i["token"]) == [
            {"token": "aws:index/getCallerIdentity:getCallerIdentity", "args": {}},
            {"token": "aws:secretsmanager/getRandomPassword:getRandomPassword",
             "args": {"passwordLength": 20, "excludeCharacters": '@"/'}}]
        assert all(isinstance(i["args"].get("passwordLength", 0), int) for i in plan.invokes)
