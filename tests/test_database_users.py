"""Database users as code, on the stack's side: the contracts' database part is checked at plan time (bad input is
one line and exit 2, before anything runs), and it becomes the bootstrap's input (components/service_access.py
`database_roles`). The bootstrap itself runs on a real server in tests/test_db_bootstrap.py."""
from __future__ import annotations

import fnmatch
import json
import textwrap

import pytest

from components.config import ConfigError, load_settings
from components.service_access import database_roles
from conftest import cli

PROD = {"platform": {"environment": "prod"}, "events": {"alertEmails": ["ops@example.com"]}}


def settings(services: dict, **tiers):
    return load_settings({**PROD, "application": {"services": services}, **tiers}, stack="prod", region="us-east-1")


def test_the_catalogue_grants_each_service_exactly_its_contract():
    roles = database_roles(settings({}).application.catalogue())["roles"]
    assert roles == {
        "classification": {"mode": "readwrite", "reads": []},
        "workflow": {"mode": "readwrite", "reads": []},
        "search": {"mode": "readonly", "reads": ["classification"]},
        "quality": {"mode": "readonly", "reads": ["conversational"]},
        "personalization": {"mode": "readwrite", "reads": []},
        "conversational": {"mode": "readwrite", "reads": []},
    }
    # format-conversion, document-extraction and code use no database: no login role at all.


def test_a_disabled_service_loses_its_role_and_its_readers_their_grant_on_it():
    s = settings({"classification": {"enabled": False}})
    roles = database_roles(s.application.catalogue())["roles"]
    assert "classification" not in roles and roles["search"] == {"mode": "readonly", "reads": []}


def test_an_added_service_gets_a_role_from_its_name():
    s = settings({"invoice-parser": {"port": 8009, "uses": {"database": "readonly", "schemas": ["workflow"]}}})
    roles = database_roles(s.application.catalogue())["roles"]
    assert roles["invoice_parser"] == {"mode": "readonly", "reads": ["workflow"]}


@pytest.mark.parametrize("services, key, expected", [
    ({"search": {"uses": {"database": "admin"}}}, "ai-platform:application.services.search.uses.database = 'admin'",
     "one of 'none', 'readonly', 'readwrite'"),
    ({"pg-stats": {"port": 8009, "uses": {"database": "readonly"}}}, "ai-platform:application.services.pg-stats = ",
     "not starting with pg_ or rds"),
    ({"rdsadmin": {"port": 8009, "uses": {"database": "readwrite"}}}, "ai-platform:application.services.rdsadmin = ",
     "starts with pg_ or rds"),
    ({"public": {"port": 8009, "uses": {"database": "readwrite"}}}, "ai-platform:application.services.public = ",
     "public is reserved by PostgreSQL"),
    ({"current-user": {"port": 8009, "uses": {"database": "readwrite"}}}, "services.current-user = ",
     "current_user is reserved"),
    ({"search": {"uses": {"schemas": ["quality"]}}}, "services.search.uses.schemas[1] = 'quality'",
     "another readwrite service's schema"),
    ({"code": {"uses": {"schemas": ["workflow"]}}}, "services.code.uses.schemas = ['workflow']",
     "empty unless uses.database is readonly or readwrite"),
])
def test_bad_database_contracts_are_one_line_at_plan_time(services, key, expected):
    with pytest.raises(ConfigError) as exc:
        settings(services)
    message = str(exc.value)
    assert key in message and expected in message and "\n" not in message, message


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_service_role_may_not_be_the_master_user(env):
    """Whichever place the service has in the catalogue, with or without Batch (the check is per service)."""
    with pytest.raises(ConfigError, match=r"services\.platform-admin = 'platform-admin'.*dbMasterUsername"):
        load_settings({"platform": {"environment": env}, "events": {"alertEmails": ["ops@example.com"]},
                       "network": {"appPortTo": 8020},
                       "application": {"batch": {"enabled": False}, "services": {
                           "platform-admin": {"port": 8009, "uses": {"database": "readwrite"}},
                           "zz-last": {"port": 8010, "uses": {"database": "readonly"}}}}},
                      stack=env, region="us-east-1")


@pytest.mark.parametrize("service, expected", [
    ("search: {uses: {database: superuser}}", "ai-platform:application.services.search.uses.database = 'superuser'"),
    ("pg-audit: {port: 8009, uses: {database: readonly}}", "ai-platform:application.services.pg-audit = 'pg-audit'"),
])
def test_the_offline_plan_exits_2_with_one_line_before_anything_runs(service, expected, tmp_path):
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(textwrap.dedent(f"""
        config:
          aws:region: us-east-1
          ai-platform:platform: {{environment: dev}}
          ai-platform:application:
            services:
              {service}
        """))
    result = cli("--stack-file", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


# ------------------------------------------------------------------ the function, its run, its flows (the whole program)
FUNCTION = "aws:lambda/function:Function"
INVOCATION = "aws:lambda/invocation:Invocation"


def bootstrap_of(plan):
    fn = plan.named("db-bootstrap", FUNCTION)
    run = plan.named("db-bootstrap-run", INVOCATION)
    return fn, run


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stack_runs_the_bootstrap_with_the_contracts_on_the_primary(stack):
    from conftest import primary_plan
    plan = primary_plan(stack, preview=False)
    fn, run = bootstrap_of(plan)
    env = fn.props["environment"]["variables"]
    db = plan.named("postgres", "aws:rds/instance:Instance")
    assert env["DB_HOST"] == db.outputs["address"] and env["DB_NAME"] == db.props["dbName"]
    assert env["MASTER_USERNAME"] == db.props["username"] and env["MASTER_SECRET_ARN"].startswith(
        "arn:aws:secretsmanager:")
    # In the VPC's private subnets with the application group: the only group the data group admits.
    app_sg = plan.named("app-sg", "aws:ec2/securityGroup:SecurityGroup").id
    assert fn.props["vpcConfig"]["securityGroupIds"] == [app_sg]
    assert fn.props["handler"] == "handler.handler" and fn.props["timeout"] == 120
    # Its input is the contracts' database part, nothing secret; it runs again when the code or database change.
    assert json.loads(run.props["input"]) == database_roles(settings({}).application.catalogue())
    assert set(run.props["triggers"]) == {"code", "database", "secret"}
    # It runs once the master credential is in its secret (not between the secret's creation and its value).
    version = plan.named("postgres-master-initial", "aws:secretsmanager/secretVersion:SecretVersion")
    assert version.urn in fn.dependencies
    assert run.props["functionName"] == fn.outputs.get("name", fn.props.get("name"))
    # Its own log group, DLQ and alarms, like every function.
    names = {r.name for r in plan.resources}
    assert {"db-bootstrap-logs", "db-bootstrap-dlq", "alarm-lambda-db-bootstrap-errors",
            "alarm-dlq-db-bootstrap-depth"} <= names


def test_the_function_package_carries_the_locked_driver_and_nothing_compiled():
    from components.database_users import PACKAGES
    from components.recipes.functions import source_archive
    archive = source_archive("db_bootstrap", PACKAGES)
    paths = set(archive.assets)
    assert {"handler.py", "grants.py", "names.py", "pg8000/native.py", "scramp/core.py", "asn1crypto/x509.py",
            "dateutil/parser/__init__.py", "six.py"} <= paths
    assert "pg8000-1.31.6.dist-info/METADATA" in paths      # the version of the deploy lock (requirements.txt)
    assert not any(p.endswith((".so", ".pyc")) or "RECORD" in p or "INSTALLER" in p for p in paths)


def test_only_the_bootstrap_role_reads_the_master_secret():
    from conftest import stack_plan
    plan = stack_plan("prod", preview=False)
    fn, _ = bootstrap_of(plan)
    secret = fn.props["environment"]["variables"]["MASTER_SECRET_ARN"]
    readers = set()
    for pol in plan.of_type("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
        doc = json.loads(pol.props["policy"]) if isinstance(pol.props.get("policy"), str) else {}
        for st in doc.get("Statement", []):
            resources = st.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            # an exact ARN or a name-based pattern (`...:secret:<name>-??????`, known in a preview) that matches it
            # (wildcards: the pack's and the flow check's business; this is about who is granted it by name)
            if st.get("Effect") == "Allow" and any(fnmatch.fnmatchcase(secret, r) for r in resources
                                                   if isinstance(r, str) and "*" not in r):
                readers.add(pol.name)
    assert readers == {"db-bootstrap-policy"}
    # Known in a new stack's preview (a name-based pattern, not the secret's random-suffixed ARN).
    preview = json.loads(stack_plan("prod", preview=True).named("db-bootstrap-policy").props["policy"])
    (read,) = [st for st in preview["Statement"] if st.get("Sid") == "ReadTheMasterCredential"]
    assert read["Resource"].endswith(":secret:ai-platform/prod/postgres-master-??????")


def test_flows_bootstrap_reads_the_master_secret_and_no_service_does():
    import copy

    from conftest import primary, stack_plan
    from plan.flows.catalogue import build_flows
    plan = stack_plan("prod", preview=False)
    flows = [f for f in build_flows(plan) if f.target == "database master secret"]
    by_source = {f.source: f for f in flows}
    assert by_source["db-bootstrap"].expected == "allow" and by_source["db-bootstrap"].verdict.allowed is True
    services = {s.name for s in settings({}).application.catalogue()}
    assert services <= set(by_source)
    for name in services:
        assert by_source[name].expected == "deny" and by_source[name].verdict.allowed is False, name
        # prod's DR region (pilot-light) runs the same services: the secret's replica there is denied to them too
        dr = by_source[f"{name} (DR us-west-2)"]
        assert dr.expected == "deny" and dr.verdict.allowed is False, dr
    # The other side. Twice protected: a service's identity grant alone still meets the secret policy's explicit
    # deny; granted by both, its flow turns red. The bootstrap without its identity grant, or left out of the
    # secret policy's readers, is red too.
    from plan.flows.model import Model
    secret = plan.named("db-bootstrap", FUNCTION).props["environment"]["variables"]["MASTER_SECRET_ARN"]

    def edit(p, name, change):
        res = primary(p).named(name)
        doc = json.loads(res.inputs["policy"])
        change(doc)
        res.inputs["policy"] = json.dumps(doc)

    def grant_search(doc):
        doc["Statement"].append({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret})

    def red(*changes):
        broken = copy.deepcopy(plan)
        for name, change in changes:
            edit(broken, name, change)
        return {f.source: f for f in build_flows(broken) if f.target == "database master secret"}

    only_identity = red(("search-task-policy", grant_search))
    assert only_identity["search"].ok and "explicit deny" in only_identity["search"].verdict.reason
    search_role = Model(plan).role_named("search-task").arn
    both = red(("search-task-policy", grant_search), ("postgres-master-policy", lambda doc: doc["Statement"][0][
        "Condition"]["ArnNotEquals"]["aws:PrincipalArn"].append(search_role)))
    assert both["search"].verdict.allowed is True and not both["search"].ok
    no_grant = red(("db-bootstrap-policy", lambda doc: doc.__setitem__("Statement", [
        st for st in doc["Statement"] if st.get("Sid") != "ReadTheMasterCredential"])))
    assert no_grant["db-bootstrap"].verdict.allowed is False and not no_grant["db-bootstrap"].ok
    not_a_reader = red(("postgres-master-policy", lambda doc: doc["Statement"][0].pop("Condition")))
    assert not_a_reader["db-bootstrap"].verdict.allowed is False and "explicit deny" in \
        not_a_reader["db-bootstrap"].verdict.reason
