"""Which service names make valid PostgreSQL login roles. Shared by the stack's config check (plan time: one line,
exit 2) and the bootstrap itself (it refuses a bad input before touching the database). No dependencies.

A service `my-service` logs in as `my_service` (components/service_access.db_user). PostgreSQL accepts any
quoted identifier of at most 63 bytes, except:
- names it reserves for itself: the `pg_` prefix ("role name ... is reserved"), and the pseudo-roles `public`,
  `none`, `current_user`, `current_role`, `session_user` (CREATE ROLE refuses them even quoted);
- on RDS, the names RDS owns: `rdsadmin`, `rds_superuser`, `rds_iam`, `rds_replication`, `rds_password`, ...
  (the `rds` prefix), and the instance's master user;
- the bootstrap's own group role (MARKER), which marks the roles it manages.
The tests create every accepted shape on a real server and check that it refuses the rejected ones.
"""
from __future__ import annotations

import re

ROLE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
RESERVED_ROLES = frozenset({"public", "none", "current_user", "current_role", "session_user"})
RESERVED_PREFIXES = ("pg_", "rds")
MARKER = "ai_platform_services"   # NOLOGIN group role: every login role the bootstrap manages is a member
ACCEPTED = ("a PostgreSQL role name: lowercase letters, digits and _ (from -), at most 63 characters, not starting "
            "with pg_ or rds, not public/none/current_user/current_role/session_user, not the master user")


def role_name(service: str) -> str:
    """The service's own (non-master) PostgreSQL user."""
    return service.replace("-", "_")


def role_problem(role: str, master: str | None = None) -> str | None:
    """None when `role` may be a service's login role, else why not (for the one-line error)."""
    if not ROLE_PATTERN.fullmatch(role):
        return "not lowercase letters, digits and _ of at most 63 characters"
    if role in RESERVED_ROLES:
        return f"{role} is reserved by PostgreSQL"
    if role.startswith(RESERVED_PREFIXES):
        return f"{role} starts with pg_ or rds (reserved by PostgreSQL / RDS)"
    if role == MARKER:
        return f"{role} is the bootstrap's own group role"
    if master is not None and role == master:
        return f"{role} is the database's master user"
    return None
