"""Database users as code, on the stack's side: the contracts' database part is checked at plan time (bad input is
one line and exit 2, before anything runs), and it becomes the bootstrap's input (components/service_access.py
`database_roles`). The bootstrap itself runs on a real server in tests/test_db_bootstrap.py."""
from __future__ import annotations

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


def test_a_service_role_may_not_be_the_master_user():
    with pytest.raises(ConfigError, match=r"services\.platform-admin = 'platform-admin'.*dbMasterUsername"):
        settings({"platform-admin": {"port": 8009, "uses": {"database": "readwrite"}}})


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
