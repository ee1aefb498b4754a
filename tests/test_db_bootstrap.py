"""The database bootstrap (functions/db_bootstrap) on a real PostgreSQL server (tests/postgres_server.py): the
catalogue's contracts become login roles and grants, and real connections as each service user check both sides of
every grant. Skipped, with the reason, only where no PostgreSQL server can run (.ci/run installs one)."""
from __future__ import annotations

import json
import logging

import boto3
import pg8000.exceptions
import postgres_server as pg
import pytest
from moto import mock_aws

from components.config import load_settings
from components.service_access import database_roles
from functions.db_bootstrap import handler as bootstrap
from functions.db_bootstrap.grants import BadInput, Converger, parse
from functions.db_bootstrap.names import MARKER, role_problem

# The moto group (one server per worker: the group keeps this module's tests on one; tests/test_fn_dr_failover.py)
pytestmark = pytest.mark.xdist_group("moto")

DENIED = pg8000.exceptions.DatabaseError


def catalogue_input() -> dict:
    """What the stack passes the bootstrap for the default catalogue (prod's settings; dev's contracts are the same)."""
    s = load_settings({"platform": {"environment": "prod"}, "events": {"alertEmails": ["ops@example.com"]}},
                      stack="prod", region="us-east-1")
    return database_roles(s.application.catalogue())


CATALOGUE = catalogue_input()
READWRITE = sorted(r for r, spec in CATALOGUE["roles"].items() if spec["mode"] == "readwrite")
READONLY = sorted(r for r, spec in CATALOGUE["roles"].items() if spec["mode"] == "readonly")


@pytest.fixture(scope="module")
def server():
    bindir = pg.server_or_skip()
    srv = pg.start_server(bindir)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def secret_arn():
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arn = sm.create_secret(Name="rds!db-test", SecretString=json.dumps(
            {"username": pg.MASTER, "password": pg.MASTER_PASSWORD}))["ARN"]
        yield arn


def run(server, secret_arn, monkeypatch, desired: dict) -> dict:
    """The Lambda handler itself: master secret from Secrets Manager, verified TLS, the converge."""
    for k, v in {**server.env(), "MASTER_SECRET_ARN": secret_arn, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    return bootstrap.handler(desired)


def expect_denied(conn, sql: str, what: str = "permission denied") -> None:
    with pytest.raises(DENIED) as exc:
        conn.run(sql)
    assert what in str(exc.value), exc.value


@pytest.fixture(scope="module")
def first_run(server, secret_arn):
    mp = pytest.MonkeyPatch()
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logging.getLogger().addHandler(handler)
    try:
        result = run(server, secret_arn, mp, CATALOGUE)
    finally:
        logging.getLogger().removeHandler(handler)
        mp.undo()
    # Each readwrite service creates a table in its own schema (its migrations), with a row.
    for role in READWRITE:
        c = server.connect(role)
        c.run(f"CREATE TABLE {role}.items (id int PRIMARY KEY, body text)")
        c.run(f"INSERT INTO {role}.items VALUES (1, 'from {role}')")
        c.close()
    return result, lines


def test_first_run_creates_every_catalogue_role_with_iam_auth_and_nothing_more(server, first_run):
    result, lines = first_run
    assert result["roles"] == sorted(CATALOGUE["roles"])
    assert READWRITE == ["classification", "conversational", "personalization", "workflow"]
    assert READONLY == ["quality", "search"]
    su = server.superuser(pg.DATABASE)
    rows = su.run("SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, "
                  "rolpassword IS NULL, pg_has_role(rolname, 'rds_iam', 'MEMBER') FROM pg_authid "
                  "WHERE oid IN (SELECT member FROM pg_auth_members WHERE roleid = :m::regrole) ORDER BY 1", m=MARKER)
    assert [r[0] for r in rows] == sorted(CATALOGUE["roles"])
    for r in rows:
        assert r[1:] == [True, False, False, False, False, False, True, True], r
    owners = dict(su.run("SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ANY(:s)",
                         s=READWRITE + READONLY))
    assert owners == {r: r for r in READWRITE}, "a schema per readwrite service, owned by it; none for readonly"
    su.close()
    assert any(line == "created login role search (readonly)" for line in lines), lines
    assert "granted USAGE on schema classification to search (reads)" in lines
    assert lines[-1].startswith("converged: ") and lines[-1] != "converged: no change"


@pytest.mark.parametrize("role", READONLY)
def test_a_readonly_service_reads_its_schemas_and_cannot_write(server, first_run, role):
    reads = CATALOGUE["roles"][role]["reads"]
    assert reads, "every readonly catalogue service reads a schema"
    c = server.connect(role)
    try:
        for schema in reads:
            assert c.run(f"SELECT body FROM {schema}.items") == [[f"from {schema}"]]
            expect_denied(c, f"INSERT INTO {schema}.items VALUES (2, 'x')")
            expect_denied(c, f"UPDATE {schema}.items SET body = 'x'")
            expect_denied(c, f"DELETE FROM {schema}.items")
            expect_denied(c, f"CREATE TABLE {schema}.mine (id int)")
            expect_denied(c, f"DROP TABLE {schema}.items", "must be owner")
        for other in READWRITE:
            if other not in reads:
                expect_denied(c, f"SELECT * FROM {other}.items")
        expect_denied(c, "CREATE TABLE public.mine (id int)")
        expect_denied(c, f"CREATE SCHEMA {role}_own")
        expect_denied(c, "CREATE ROLE intruder")
    finally:
        c.close()


@pytest.mark.parametrize("role", READWRITE)
def test_a_readwrite_service_writes_its_schema_only_and_cannot_create_roles(server, first_run, role):
    c = server.connect(role)
    try:
        c.run(f"INSERT INTO {role}.items VALUES (100, 'more')")
        c.run(f"UPDATE {role}.items SET body = 'changed' WHERE id = 100")
        c.run(f"DELETE FROM {role}.items WHERE id = 100")
        c.run(f"CREATE TABLE {role}.scratch (id int)")     # DDL in its own schema: its migrations
        c.run(f"DROP TABLE {role}.scratch")
        for other in READWRITE:
            if other != role:
                expect_denied(c, f"SELECT * FROM {other}.items")
                expect_denied(c, f"INSERT INTO {other}.items VALUES (3, 'x')")
                expect_denied(c, f"CREATE TABLE {other}.mine (id int)")
        expect_denied(c, "CREATE ROLE intruder")
        expect_denied(c, f"ALTER ROLE {role} SUPERUSER", "must be superuser")
        expect_denied(c, f"GRANT rds_iam TO {role}", "must have admin option")
        expect_denied(c, "CREATE TABLE public.mine (id int)")
        expect_denied(c, "CREATE DATABASE other")
        assert c.run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == [[False]]
    finally:
        c.close()


def test_a_table_created_after_the_run_is_readable_by_its_readers(server, first_run):
    owner = server.connect("classification")
    owner.run("CREATE TABLE classification.later (id int)")
    owner.run("INSERT INTO classification.later VALUES (7)")
    owner.close()
    reader = server.connect("search")
    assert reader.run("SELECT id FROM classification.later") == [[7]]
    reader.close()


def snapshot(server) -> list:
    su = server.superuser(pg.DATABASE)
    try:
        return su.run("SELECT 'role', rolname, rolcanlogin::text, array_to_string(ARRAY(SELECT b.rolname FROM "
                      "pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid ORDER BY 1), ',') "
                      "FROM pg_roles r UNION ALL SELECT 'schema', nspname, pg_get_userbyid(nspowner), "
                      "coalesce(nspacl::text, '') FROM pg_namespace UNION ALL SELECT 'table', relname, "
                      "relnamespace::regnamespace::text, coalesce(relacl::text, '') FROM pg_class WHERE relkind = 'r' "
                      "UNION ALL SELECT 'default', defaclnamespace::regnamespace::text, "
                      "pg_get_userbyid(defaclrole), defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3")
    finally:
        su.close()


def test_a_second_run_changes_nothing(server, secret_arn, first_run, monkeypatch, caplog):
    before = snapshot(server)
    with caplog.at_level(logging.INFO):
        result = run(server, secret_arn, monkeypatch, CATALOGUE)
    assert result["changes"] == []
    assert "converged: no change" in caplog.messages
    assert snapshot(server) == before


def test_the_bootstrap_verifies_the_server_certificate(server, secret_arn, first_run, monkeypatch, tmp_path):
    other = tmp_path / "other-ca.pem"
    import subprocess
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp_path / "k.pem"), "-out", str(other)], check=True, capture_output=True)
    env = {**server.env(), "DB_CA_BUNDLE": str(other)}
    import ssl
    with pytest.raises((ssl.SSLError, pg8000.exceptions.InterfaceError), match="CERTIFICATE_VERIFY_FAILED|certificate"):
        run(type("S", (), {"env": lambda self: env})(), secret_arn, monkeypatch, CATALOGUE)


def test_bad_input_changes_nothing_and_names_the_role(server, first_run):
    before = snapshot(server)
    for desired, message in (
            ({"roles": {"pg_reader": {"mode": "readonly", "reads": []}}}, "roles.pg_reader: "),
            ({"roles": {"search": {"mode": "admin", "reads": []}}}, "roles.search.mode: 'admin'"),
            ({"roles": {"search": {"mode": "readonly", "reads": ["nobody"]}}}, "roles.search.reads: 'nobody'"),
            ({"roles": {pg.MASTER: {"mode": "readwrite", "reads": []}}}, "master user")):
        with pytest.raises(BadInput, match=message.replace(".", r"\.")):
            parse(desired, master=pg.MASTER)
    assert snapshot(server) == before


@pytest.mark.parametrize("name", ["pg_reader", "public", "none", "current_user", "current_role", "session_user"])
def test_the_names_refused_are_the_ones_postgresql_refuses(server, name):
    """names.role_problem against the real server: it refuses pg_*, public and none even quoted, and takes
    current_user, current_role and session_user unquoted as the caller (never as the service's role)..."""
    assert role_problem(name)
    su = server.superuser()
    try:
        with pytest.raises(DENIED):
            su.run(f'CREATE ROLE "{name}"' if name in ("pg_reader", "public", "none") else f"CREATE ROLE {name}")
    finally:
        su.close()


def test_every_accepted_shape_is_a_role_postgresql_creates(server):
    """...and creates the longest and keyword-like names the check accepts (always quoted by the bootstrap)."""
    su = server.superuser()
    try:
        for name in ("a" * 63, "user", "select", "x_1", "order_service"):
            assert role_problem(name) is None
            su.run(f'CREATE ROLE "{name}"')
            su.run(f'DROP ROLE "{name}"')
        assert role_problem("a" * 64)
    finally:
        su.close()


def test_dr_the_promoted_replica_already_has_the_roles_and_grants(server, first_run):
    """RDS replicas (the read replica, the DR region's) are physical: roles and grants replay from the primary, so a
    promoted replica serves every service user without running the bootstrap again."""
    replica = server.replica(pg.free_port())
    try:
        pg.wait_replayed(server, replica)
        reader = replica.connect("search")      # a readonly service reads from the replica before any failover
        assert reader.run("SELECT body FROM classification.items WHERE id = 1") == [["from classification"]]
        expect_denied(reader, "INSERT INTO classification.items VALUES (9, 'x')", "read-only transaction")
        reader.close()
        replica.promote()
        for role in READWRITE:
            c = replica.connect(role)
            c.run(f"INSERT INTO {role}.items VALUES (50, 'after failover')")
            assert c.run(f"SELECT count(*) FROM {role}.items WHERE id = 50") == [[1]]
            expect_denied(c, "CREATE ROLE intruder")
            c.close()
        reader = replica.connect("search")
        expect_denied(reader, "INSERT INTO classification.items VALUES (9, 'x')")
        expect_denied(reader, "SELECT * FROM workflow.items")
        reader.close()
    finally:
        replica.stop()


def test_removing_a_service_removes_its_login_and_keeps_its_data(server, secret_arn, first_run, monkeypatch):
    session = server.connect("workflow")      # a session open when the service is removed is ended
    without = {"roles": {r: s for r, s in CATALOGUE["roles"].items() if r != "workflow"}}
    result = run(server, secret_arn, monkeypatch, without)
    assert "removed login of role workflow (no longer in the contracts; its schema and data are kept)" in result["changes"]
    assert "revoked rds_iam from workflow" in result["changes"]
    with pytest.raises((DENIED, pg8000.exceptions.InterfaceError)):
        session.run("SELECT 1")
    with pytest.raises(DENIED, match="not permitted to log in"):
        server.connect("workflow")
    su = server.superuser(pg.DATABASE)
    assert su.run("SELECT body FROM workflow.items WHERE id = 1") == [["from workflow"]]
    su.close()
    assert run(server, secret_arn, monkeypatch, without)["changes"] == []
    # Back in the contracts: the same role logs in again, its data where it was.
    result = run(server, secret_arn, monkeypatch, CATALOGUE)
    assert "restored login of role workflow" in result["changes"]
    c = server.connect("workflow")
    assert c.run("SELECT body FROM workflow.items WHERE id = 1") == [["from workflow"]]
    c.close()


def test_a_grant_the_contract_drops_is_revoked(server, secret_arn, first_run, monkeypatch):
    roles = json.loads(json.dumps(CATALOGUE["roles"]))
    roles["search"]["reads"] = ["workflow"]
    result = run(server, secret_arn, monkeypatch, {"roles": roles})
    assert "revoked search's privileges on schema classification (not in its contract)" in result["changes"]
    c = server.connect("search")
    expect_denied(c, "SELECT * FROM classification.items")
    assert c.run("SELECT body FROM workflow.items WHERE id = 1") == [["from workflow"]]
    c.close()
    run(server, secret_arn, monkeypatch, CATALOGUE)
    c = server.connect("search")
    expect_denied(c, "SELECT * FROM workflow.items")
    assert c.run("SELECT body FROM classification.items WHERE id = 1") == [["from classification"]]
    c.close()


def test_a_failed_run_changes_nothing(server, first_run):
    """One transaction: a statement that fails half-way leaves the server as it was."""
    before = snapshot(server)
    import pg8000.native
    conn = pg8000.native.Connection(user=pg.MASTER, password=pg.MASTER_PASSWORD, host="localhost", port=server.port,
                                    database=pg.DATABASE, ssl_context=_ssl(server))
    grants = parse({"roles": {"newcomer": {"mode": "readwrite", "reads": []}}})
    converger = Converger(conn)
    original = converger._own_schema
    converger._own_schema = lambda g: (original(g), conn.run("SELECT 1/0"))
    with pytest.raises(DENIED, match="division by zero"):
        converger.run(grants)
    conn.close()
    assert snapshot(server) == before


def _ssl(server):
    import ssl
    return ssl.create_default_context(cafile=str(server.ca_file))


def test_concurrent_runs_wait_for_each_other(server, first_run):
    """Two runs at once (a retry beside a slow run): the advisory lock serialises them; without it both would
    CREATE ROLE the same name and one would fail."""
    import threading

    import pg8000.native
    desired = {"roles": {**CATALOGUE["roles"], "racer": {"mode": "readwrite", "reads": []}}}
    results, errors = [], []

    def one():
        try:
            conn = pg8000.native.Connection(user=pg.MASTER, password=pg.MASTER_PASSWORD, host="localhost",
                                            port=server.port, database=pg.DATABASE, ssl_context=_ssl(server))
            results.append(Converger(conn, log=lambda m: None).run(parse(desired)))
            conn.close()
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)
    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 2
    assert sorted(len(r) for r in results)[0] == 0, "the second run found the first one's work done"
    c = server.connect("racer")
    c.run("CREATE TABLE racer.t (id int)")
    c.close()
