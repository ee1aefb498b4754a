"""The database users the service contracts ask for, converged on a PostgreSQL server (RDS: the primary; the read
replica and a promoted DR replica follow physically, roles and grants included).

Desired state (the invocation's input, built by components/database_users.py from the contracts):

    {"roles": {"classification": {"mode": "readwrite", "reads": []},
               "search": {"mode": "readonly", "reads": ["classification"]}}}

For each role:
- a LOGIN role without password (IAM authentication: member of `rds_iam`), NOSUPERUSER NOCREATEDB NOCREATEROLE
  NOREPLICATION NOBYPASSRLS, and a member of the marker group (names.MARKER) that says the bootstrap manages it;
- readwrite: owns the schema of its own name (its tables, its migrations: DDL there and only there);
- readonly: no schema of its own;
- both: USAGE and SELECT on the schemas in `reads` (each one a readwrite service's schema), present tables and
  future ones (default privileges of the owner);
- nothing on any other managed schema: a grant the contract no longer names is revoked.
A managed role missing from the input loses its login (NOLOGIN, out of rds_iam, its sessions ended, its grants
on other schemas revoked); its schema and data stay (nothing is ever dropped). `CREATE` on schema public is
revoked from PUBLIC (PostgreSQL 15+ default; older servers granted it).

Everything runs in one transaction under an advisory lock (concurrent runs wait for each other), after reading
the current state, and only what differs is changed: a second
run with the same input changes nothing and says so. Every change is one log line.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

try:
    from .names import MARKER, role_problem
except ImportError:   # in the Lambda package this folder is the archive's root
    from names import MARKER, role_problem  # type: ignore[no-redef]

LOG = logging.getLogger("db_bootstrap")
MODES = ("readonly", "readwrite")
RDS_IAM = "rds_iam"
LOCK_KEY = 0x61692D706C6174   # the advisory lock every run takes ("ai-plat"): runs never interleave
ATTRIBUTES = {"rolsuper": "NOSUPERUSER", "rolcreatedb": "NOCREATEDB", "rolcreaterole": "NOCREATEROLE",
              "rolreplication": "NOREPLICATION", "rolbypassrls": "NOBYPASSRLS"}


class BadInput(ValueError):
    """The desired state is malformed: nothing was changed."""


@dataclasses.dataclass(frozen=True)
class Grant:
    role: str
    mode: str                 # readonly | readwrite
    reads: tuple[str, ...]    # other services' schemas it may read

    @property
    def schemas(self) -> set[str]:
        """Every managed schema it may use: its own (readwrite) and the ones it reads."""
        return set(self.reads) | ({self.role} if self.mode == "readwrite" else set())


def parse(event: Mapping[str, Any], master: str | None = None) -> list[Grant]:
    """The input, checked whole before anything runs (one message naming the role, the value and what is accepted)."""
    roles = event.get("roles") if isinstance(event, Mapping) else None
    if not isinstance(roles, Mapping):
        raise BadInput("roles: expected a mapping role -> {mode, reads}")
    out = []
    for role, spec in sorted(roles.items()):
        problem = role_problem(str(role), master)
        if problem:
            raise BadInput(f"roles.{role}: {problem}")
        mode = spec.get("mode") if isinstance(spec, Mapping) else None
        if mode not in MODES:
            raise BadInput(f"roles.{role}.mode: {mode!r} is not one of {', '.join(MODES)}")
        reads = spec.get("reads") or []
        if not isinstance(reads, list) or not all(isinstance(r, str) for r in reads):
            raise BadInput(f"roles.{role}.reads: {reads!r} is not a list of schema names")
        out.append(Grant(str(role), mode, tuple(sorted(set(reads) - {role}))))
    owners = {g.role for g in out if g.mode == "readwrite"}
    for g in out:
        for schema in g.reads:
            if schema not in owners:
                raise BadInput(f"roles.{g.role}.reads: {schema!r} is not the schema of a readwrite role "
                               f"({', '.join(sorted(owners)) or 'none'})")
    return out


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Converger:
    """One run against one connection (pg8000.native.Connection or anything with `run(sql, **params)`)."""

    def __init__(self, conn, log: Callable[[str], None] | None = None):
        self.conn = conn
        self.log = log or LOG.info
        self.changes: list[str] = []

    # ------------------------------------------------------------------ helpers
    def q(self, sql: str, **params) -> list:
        return self.conn.run(sql, **params) or []

    def change(self, message: str, *statements: str) -> None:
        for sql in statements:
            self.conn.run(sql)
        self.changes.append(message)
        self.log(message)

    def role(self, name: str) -> dict | None:
        rows = self.q("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
                      "FROM pg_roles WHERE rolname = :n", n=name)
        if not rows:
            return None
        keys = ("rolcanlogin", *ATTRIBUTES)
        return dict(zip(keys, rows[0], strict=True))

    def member(self, role: str, group: str) -> bool:
        """A direct member (not through another role)."""
        return bool(self.q("SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                           "JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = :g AND r.rolname = :r",
                           g=group, r=role))

    def schema_owner(self, schema: str) -> str | None:
        rows = self.q("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = :s", s=schema)
        return rows[0][0] if rows else None

    def schema_grants(self, role: str) -> set[str]:
        """Schemas on which `role` holds a privilege granted to it directly."""
        rows = self.q("SELECT DISTINCT n.nspname FROM pg_namespace n, aclexplode(n.nspacl) a "
                      "WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = :r)", r=role)
        return {r[0] for r in rows}

    def tables_without_select(self, role: str, schema: str) -> int:
        rows = self.q("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE n.nspname = :s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                      "AND NOT has_table_privilege(:r, c.oid, 'SELECT')", s=schema, r=role)
        return int(rows[0][0])

    def tables_granted(self, role: str, schema: str) -> int:
        rows = self.q("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
                      "aclexplode(c.relacl) a WHERE n.nspname = :s "
                      "AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = :r)", s=schema, r=role)
        return int(rows[0][0])

    def default_select(self, owner: str, schema: str) -> set[str]:
        """Roles that get SELECT on the tables `owner` creates in `schema` from now on."""
        rows = self.q("SELECT pg_get_userbyid(a.grantee) FROM pg_default_acl d "
                      "JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a "
                      "WHERE d.defaclobjtype = 'r' AND n.nspname = :s AND d.defaclrole = "
                      "(SELECT oid FROM pg_roles WHERE rolname = :o) AND a.privilege_type = 'SELECT'",
                      s=schema, o=owner)
        return {r[0] for r in rows}

    def managed(self) -> list[str]:
        rows = self.q("SELECT r.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                      "JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = :g ORDER BY 1", g=MARKER)
        return [r[0] for r in rows]

    # ------------------------------------------------------------------ the run
    def run(self, grants: list[Grant]) -> list[str]:
        me = self.q("SELECT current_user")[0][0]
        self.conn.run("START TRANSACTION")
        try:
            # One run at a time (a retried invocation beside a slow one, two stacks' `up`s): the second waits
            # here and then finds the first one's work done. Released at COMMIT / ROLLBACK.
            self.conn.run("SELECT pg_advisory_xact_lock(:k)", k=LOCK_KEY)
            self._converge(grants, me)
            self.conn.run("COMMIT")
        except Exception:
            self.conn.run("ROLLBACK")
            raise
        self.log(f"converged: {len(self.changes)} change(s)" if self.changes else "converged: no change")
        return self.changes

    def _converge(self, grants: list[Grant], me: str) -> None:
        if self.role(MARKER) is None:
            self.change(f"created group role {MARKER} (marks the roles this bootstrap manages)",
                        f"CREATE ROLE {quote(MARKER)} NOLOGIN")
        if self.q("SELECT has_schema_privilege('public', 'public', 'CREATE')")[0][0]:
            self.change("revoked CREATE on schema public from PUBLIC", "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for g in grants:
            self._login_role(g, me)
        for g in grants:      # every owned schema exists before anyone is granted on it
            if g.mode == "readwrite":
                self._own_schema(g)
        wanted = {g.role for g in grants}
        removed = [r for r in self.managed() if r not in wanted]
        managed_schemas = {r for r in [*wanted, *removed] if self.schema_owner(r) == r}
        for g in grants:
            self._reads(g)
            self._revoke_others(g.role, managed_schemas - g.schemas)
        for role in removed:
            self._remove(role, managed_schemas)

    def _login_role(self, g: Grant, me: str) -> None:
        r = g.role
        current = self.role(r)
        if current is None:
            self.change(f"created login role {r} ({g.mode})",
                        f"CREATE ROLE {quote(r)} LOGIN {' '.join(ATTRIBUTES.values())}")
        else:
            if not current["rolcanlogin"]:
                self.change(f"restored login of role {r}", f"ALTER ROLE {quote(r)} LOGIN")
            extra = [attr for key, attr in ATTRIBUTES.items() if current[key]]
            if extra:
                self.change(f"removed {', '.join(a[2:] for a in extra)} from role {r}",
                            f"ALTER ROLE {quote(r)} {' '.join(extra)}")
        for group, why in ((RDS_IAM, "IAM authentication"), (MARKER, "managed by this bootstrap")):
            if not self.member(r, group):
                self.change(f"granted {group} to {r} ({why})", f"GRANT {quote(group)} TO {quote(r)}")
        # The master user acts for the role below (CREATE SCHEMA ... AUTHORIZATION, ALTER DEFAULT PRIVILEGES FOR
        # ROLE): both need membership (PostgreSQL 16+ no longer gives the creator one it can use).
        if g.mode == "readwrite" and not self.member(me, r):
            self.change(f"granted {r} to {me} (to manage its schema's privileges)", f"GRANT {quote(r)} TO {quote(me)}")

    def _own_schema(self, g: Grant) -> None:
        r = g.role
        owner = self.schema_owner(r)
        if owner is None:
            self.change(f"created schema {r} owned by {r}", f"CREATE SCHEMA {quote(r)} AUTHORIZATION {quote(r)}")
        elif owner != r:
            self.change(f"schema {r}: owner {owner} -> {r}", f"ALTER SCHEMA {quote(r)} OWNER TO {quote(r)}")

    def _reads(self, g: Grant) -> None:
        r = g.role
        have = self.schema_grants(r)
        for s in g.reads:
            if s not in have:
                self.change(f"granted USAGE on schema {s} to {r} (reads)", f"GRANT USAGE ON SCHEMA {quote(s)} TO {quote(r)}")
            missing = self.tables_without_select(r, s)
            if missing:
                self.change(f"granted SELECT on {missing} table(s) of schema {s} to {r}",
                            f"GRANT SELECT ON ALL TABLES IN SCHEMA {quote(s)} TO {quote(r)}")
            if r not in self.default_select(s, s):
                self.change(f"granted SELECT on future tables of schema {s} to {r}",
                            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(s)} IN SCHEMA {quote(s)} "
                            f"GRANT SELECT ON TABLES TO {quote(r)}")

    def _revoke_others(self, role: str, schemas: set[str]) -> None:
        have = self.schema_grants(role)
        for s in sorted(schemas):
            tables = self.tables_granted(role, s)
            defaults = role in self.default_select(s, s)
            if s in have or tables or defaults:
                self.change(f"revoked {role}'s privileges on schema {s} (not in its contract)",
                            f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote(s)} FROM {quote(role)}",
                            f"REVOKE ALL ON SCHEMA {quote(s)} FROM {quote(role)}",
                            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(s)} IN SCHEMA {quote(s)} "
                            f"REVOKE ALL ON TABLES FROM {quote(role)}")

    def _remove(self, role: str, managed_schemas: set[str]) -> None:
        """A service gone from the contracts: no login, no IAM authentication, no grants on others; its data stays."""
        current = self.role(role)
        if current and current["rolcanlogin"]:
            self.change(f"removed login of role {role} (no longer in the contracts; its schema and data are kept)",
                        f"ALTER ROLE {quote(role)} NOLOGIN")
        if self.member(role, RDS_IAM):
            self.change(f"revoked {RDS_IAM} from {role}", f"REVOKE {quote(RDS_IAM)} FROM {quote(role)}")
        ended = self.q("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = :r", r=role)
        if ended and ended[0][0]:
            self.changes.append(f"ended {ended[0][0]} session(s) of {role}")
            self.log(self.changes[-1])
        self._revoke_others(role, managed_schemas - {role})
