"""Deploy errors (plan/deploy_errors.py): documents the provider hands to an AWS API as they are, validated
against AWS's own API model (botocore); a failure is reported with resource, JSON path, value and expected type,
in its own category of text and --json output, and exits 1."""
from __future__ import annotations

import json

import pytest

from conftest import dev_alternatives, stack_file_config, stack_plan
from plan import deploy_errors as de
from plan.engine import Resource, run_program

TASK = "aws:ecs/taskDefinition:TaskDefinition"


def _container(**over):
    base = {"name": "web", "image": "nginx", "essential": True,
            "environment": [{"name": "REDIS_PORT", "value": "6379"}],
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}
    return {**base, **over}


def _task(defs, name="web-task") -> Resource:
    return Resource(urn=f"urn:pulumi:dev::p::{TASK}::{name}", type=TASK, name=name, parent="", provider="",
                    custom=True, remote=False, options={}, inputs={"containerDefinitions": json.dumps(defs)},
                    dependencies=[], propertyDependencies={})


def test_a_number_in_a_container_environment_is_a_deploy_error_with_path_value_and_type():
    [error] = de.document_errors([_task([_container(environment=[{"name": "REDIS_PORT", "value": 6379}])])])
    assert (error.kind, error.path, error.value, error.expected) == (
        "document", "containerDefinitions[0].environment[0].value", 6379, "string")
    assert error.api == "ecs RegisterTaskDefinition" and error.urn.endswith("::web-task")
    assert "6379 is an integer, expected string" in error.line()


def test_a_valid_container_definition_has_no_deploy_error():
    assert de.document_errors([_task([_container()])]) == []


def test_keys_are_matched_as_the_providers_go_decoder_matches_them():
    """Go's encoding/json matches keys case-insensitively: `Environment` is accepted; a key the type does not
    have is dropped by the provider, so it is reported (the setting never reaches AWS)."""
    ok = _container()
    ok["Environment"] = ok.pop("environment")
    assert de.document_errors([_task([ok])]) == []
    [error] = de.document_errors([_task([_container(enviroment=[])])])
    assert error.path == "containerDefinitions[0].enviroment" and "drops it" in error.message


@pytest.mark.parametrize("defs, path, expected", [
    ([_container(essential="true")], "containerDefinitions[0].essential", "boolean"),
    ([_container(portMappings=[{"containerPort": "8080"}])], "containerDefinitions[0].portMappings[0].containerPort",
     "integer"),
    ([_container(secrets=[{"name": "TOKEN"}])], "containerDefinitions[0].secrets[0].valueFrom", "required"),
])
def test_other_types_than_the_model_says_are_deploy_errors(defs, path, expected):
    errors = de.document_errors([_task(defs)])
    assert [(e.path, e.expected) for e in errors] == [(path, expected)]


def test_unknown_values_are_not_judged_and_malformed_json_is():
    unknown = _task([_container(environment=[{"name": "A", "value": de.UNKNOWN}])])
    whole = Resource(**{**unknown.__dict__, "inputs": {"containerDefinitions": de.UNKNOWN}})
    assert de.document_errors([unknown, whole]) == []
    bad = Resource(**{**unknown.__dict__, "inputs": {"containerDefinitions": "[{"}})
    [error] = de.document_errors([bad])
    assert error.path == "containerDefinitions" and "not valid JSON" in error.message


def test_batch_container_properties_are_validated_against_the_batch_model():
    job = Resource(urn="urn:pulumi:dev::p::aws:batch/jobDefinition:JobDefinition::job",
                   type="aws:batch/jobDefinition:JobDefinition", name="job", parent="", provider="", custom=True,
                   remote=False, options={}, dependencies=[], propertyDependencies={},
                   inputs={"containerProperties": json.dumps({"image": "x", "environment": [{"name": "N",
                                                                                            "value": 1}]})})
    [error] = de.document_errors([job])
    assert (error.path, error.api) == ("containerProperties.environment[0].value", "batch RegisterJobDefinition")


def test_an_iam_document_that_is_not_json_is_a_deploy_error():
    role = Resource(urn="urn:pulumi:dev::p::aws:iam/role:Role::r", type="aws:iam/role:Role", name="r", parent="",
                    provider="", custom=True, remote=False, options={}, dependencies=[], propertyDependencies={},
                    inputs={"assumeRolePolicy": "{'Version': '2012-10-17'}"})
    [error] = de.document_errors([role])
    assert error.path == "assumeRolePolicy" and "not valid JSON" in error.message


def test_the_api_shape_is_loaded_once_and_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    de._load_subgraph("ecs", "RegisterTaskDefinition", "containerDefinitions")
    [cached] = list(tmp_path.rglob("ecs.RegisterTaskDefinition.containerDefinitions.json"))
    root, shapes = de._load_subgraph("ecs", "RegisterTaskDefinition", "containerDefinitions")
    assert root == json.loads(cached.read_text())["root"] and "KeyValuePair" in shapes


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_both_stacks_have_no_deploy_error(stack, preview):
    plan = stack_plan(stack, preview)
    assert [e.line() for e in plan.deploy_errors] == []
    if not preview:  # every task definition's containers were known and validated
        assert plan.of_type(TASK) and all(isinstance(r.props["containerDefinitions"], str)
                                          and de.UNKNOWN not in r.props["containerDefinitions"]
                                          for r in plan.of_type(TASK))


def test_the_optional_features_have_no_deploy_error():
    """EKS and Batch on, an explicit image, Redis 6.2 (conftest.DEV_ALTERNATIVES, update mode): the Batch job
    definition's containerProperties are validated against batch RegisterJobDefinition too."""
    plan = dev_alternatives()
    assert plan.of_type("aws:batch/jobDefinition:JobDefinition")
    assert [e.line() for e in plan.deploy_errors] == []


def test_a_port_number_reaching_a_container_environment_is_reported_and_exits_1(monkeypatch):
    """The class of issue 24's REDIS_PORT: a port reaches the contract (ServiceDependencies) as a number (what
    mypy refuses in the source, tests/test_types.py) and the contract's conversion is gone, so a number reaches
    every container environment that names the cache or the database."""
    from components.service_access import ServiceDependencies

    def numbers(self):
        for field, port in (("db_port", 5432), ("redis_port", 6379)):
            if getattr(self, field) is not None:
                object.__setattr__(self, field, port)
    monkeypatch.setattr(ServiceDependencies, "__post_init__", numbers)
    from plan.engine import main_program
    name, config, secrets = stack_file_config("dev")
    plan = run_program(main_program(), config=config, stack=name, preview=False, secret_keys=secrets)
    found = {(e.where.split("/")[-1], e.path.rsplit(".", 1)[-1], e.value) for e in plan.deploy_errors}
    assert ("search-task", "value", 6379) in found and ("search-task", "value", 5432) in found
    assert all(e.kind == "document" and e.expected == "string" for e in plan.deploy_errors)


def _main(*args: str) -> tuple[int, str]:
    """`python -m plan ARGS` in this process, the dev stack's cached plan with one deploy error injected."""
    import contextlib
    import copy
    import io

    import plan.engine
    from plan.__main__ import main

    def injected(program, **kwargs):
        result = copy.deepcopy(stack_plan("dev", True))
        result.deploy_errors = de.document_errors(
            [_task([_container(environment=[{"name": "REDIS_PORT", "value": 6379}])])])
        return result
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setattr(plan.engine, "run_program", injected)
        code = main(list(args))
    return code, out.getvalue()


def test_deploy_errors_are_their_own_category_in_text_and_json_and_exit_1():
    code, text = _main("--stack", "dev", "--no-policies")
    assert code == 1
    assert "deploy errors: 1" in text and "result: FAIL (deploy errors)" in text
    assert "web-task containerDefinitions[0].environment[0].value: 6379 is an integer" in text
    code, text = _main("--stack", "dev", "--json")     # with the pack: still 1, in its own key
    assert code == 1
    doc = json.loads(text)
    [error] = doc["deployErrors"]
    assert (error["path"], error["value"], error["expected"]) == (
        "containerDefinitions[0].environment[0].value", 6379, "string")
    assert all("6379" not in json.dumps(v) for v in doc["violations"])
