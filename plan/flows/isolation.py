"""Forbidden flows: another service's queue or secrets, the master secret, other stacks, registry replication."""
from __future__ import annotations

import json

from . import iam
from .common import (
    FlowHost,
    _any_allowed,
    _registry_rules,
    _replicates,
    _tags,
    _via,
)
from .iam import Unknown, Verdict, is_unknown
from .model import Model, Role


class IsolationFlows(FlowHost):
    """Mixed into catalogue.Catalogue (self.m model, self.ck checker, self.add)."""

    # ------------------------------------------------------------------ forbidden
    def forbidden_cross_service(self):
        m = self.m
        records = [r for r in getattr(self, "_records", []) if r["region"] == self.primary]
        contracts = getattr(self, "_contracts", {})
        # another service's queue
        for rec in records:
            for qk in contracts.get(rec["name"], {}).get("queues") or []:
                q = self.find_queue(qk, self.primary)
                if q is None:
                    continue
                consumers = {r["name"] for r in records if qk in (contracts.get(r["name"], {}).get("queues") or [])}
                other = next((r for r in records if r["name"] not in consumers), None)
                if other is None:
                    continue
                role = other["task_role"]
                checks = [(f"{self.role_label(role)} sqs:ReceiveMessage", self.ck.role_can(role, "sqs:ReceiveMessage", m.arn(q)))]
                self.add(other["name"], f"queue {m.get(q, 'name')} ({rec['name']}'s)", "sqs:ReceiveMessage", "deny",
                         checks, "isolation")
        # another service's secrets: secrets injected into exactly one service
        injected: dict[str, set] = {}
        for rec in records:
            if isinstance(rec["containers"], list):
                for c in rec["containers"]:
                    for s in c.get("secrets") or []:
                        injected.setdefault(str(s.get("valueFrom", "")).split(":::")[0], set()).add(rec["name"])
        for ref, owners in sorted(injected.items()):
            if len(owners) != 1:
                continue
            owner = next(iter(owners))
            other = next((r for r in records if r["name"] != owner), None)
            if other is None:
                continue
            arn = ref if ref.count(":") < 7 else ":".join(ref.split(":")[:7])
            checks = []
            for rk in ("exec_role", "task_role"):
                checks.append((f"{self.role_label(other[rk])} GetSecretValue",
                               self.ck.role_can(other[rk], "secretsmanager:GetSecretValue", arn)))
            self.add(other["name"], f"secret {arn.split(':secret:')[-1]} ({owner}'s)", "secretsmanager:GetSecretValue",
                     "deny", [("any role of the service", _any_allowed(checks))], "isolation")
        # secrets a contract gives to exactly one service
        users: dict[str, set] = {}
        for rec in records:
            for key in contracts.get(rec["name"], {}).get("secrets") or []:
                users.setdefault(key, set()).add(rec["name"])
        for key, owners in sorted(users.items()):
            if len(owners) != 1:
                continue
            owner = next(iter(owners))
            sec = self.find_secret(key, self.primary)
            other = next((r for r in records if r["name"] != owner), None)
            if sec is None or other is None:
                continue
            checks = [(f"{self.role_label(other[rk])} GetSecretValue",
                       self.ck.role_can(other[rk], "secretsmanager:GetSecretValue", m.arn(sec))) for rk in ("exec_role", "task_role")]
            self.add(other["name"], f"secret {m.get(sec, 'name')} ({owner}'s)", "secretsmanager:GetSecretValue", "deny",
                     [("any role of the service", _any_allowed(checks))], "isolation")
        self.master_secret()

    # ------------------------------------------------------------------ the database master credential
    def bootstrap_function(self):
        """The database bootstrap (functions/db_bootstrap): the function whose environment names the master
        secret (MASTER_SECRET_ARN), in the primary region."""
        m = self.m
        for fn in self.in_region(m.of_type("aws:lambda/function:Function"), self.primary):
            env = (m.get(fn, "environment") or {}).get("variables") or {}
            if "MASTER_SECRET_ARN" in env:
                return fn, env
        return None, {}

    def master_secret(self):
        """Only the database bootstrap may read the master credential (allowed: its secret, the secret's key,
        the network path to the primary); every service's roles, task and execution, are denied."""
        m = self.m
        db = self.primary_db(self.primary)
        if db is None:
            return
        fn, env = self.bootstrap_function()
        sarn = env.get("MASTER_SECRET_ARN")
        if sarn is None:   # no bootstrap: the RDS-managed secret when RDS manages the password, else the stack's
            mus = (m.get(db, "masterUserSecrets") or []) if m.get(db, "manageMasterUserPassword") else []
            sarn = mus[0].get("secretArn") if mus and isinstance(mus[0], dict) else None
            if sarn is None:
                own = next((s for s in m.of_type("aws:secretsmanager/secret:Secret")
                            if (m.get(s, "tags") or {}).get("Purpose") == "db-master"), None)
                sarn = m.arn(own) if own is not None else None
        if not sarn:
            return
        secret = None if is_unknown(sarn) else next(
            (s for s in m.of_type("aws:secretsmanager/secret:Secret") if m.arn(s) == sarn), None)
        key_ref = m.get(secret, "kmsKeyId") if secret is not None else m.get(db, "masterUserSecretKmsKeyId")
        region = m.region_of(db)

        def reads(role) -> list:
            checks = [(f"{self.role_label(role)} GetSecretValue",
                       self.ck.role_can(role, "secretsmanager:GetSecretValue", sarn))]
            if isinstance(role, Role) and not is_unknown(sarn):
                checks.append(("secret key", self.ck.kms_use(
                    role.principal(), key_ref, ["kms:Decrypt"],
                    {"kms:ViaService": _via("secretsmanager", region), "kms:CallerAccount": m.account,
                     "kms:EncryptionContext:SecretARN": sarn, "kms:EncryptionContext:SecretVersionId": "v"},
                    role=role)))
            return checks

        if fn is not None:
            role = m.role_by_arn(m.get(fn, "role"))
            self.add("db-bootstrap", "database master secret", "secretsmanager:GetSecretValue", "allow", reads(role),
                     "isolation")
            vpc = m.get(fn, "vpcConfig") or {}
            port = int(m.get(db, "port") or 5432)
            self.add("db-bootstrap", f"database {m.get(db, 'identifier') or db.name} (master user, TLS)", "postgres",
                     "allow", [(f"network :{port}", self.ck.sg_path(vpc.get("securityGroupIds") or [],
                                                                     m.get(db, "vpcSecurityGroupIds") or [], port))],
                     "isolation")
        for rec in getattr(self, "_records", []):
            # A DR region's services: the secret's replica there (same name and suffix, that region's ARN).
            arn, who = sarn, rec["name"]
            if rec["region"] != self.primary:
                if is_unknown(sarn):
                    continue
                arn, who = sarn.replace(f":{self.primary}:", f":{rec['region']}:"), f"{rec['name']} (DR {rec['region']})"
            checks = [(f"{self.role_label(rec[rk])} GetSecretValue",
                       self.ck.role_can(rec[rk], "secretsmanager:GetSecretValue", arn))
                      for rk in ("exec_role", "task_role")]
            self.add(who, "database master secret", "secretsmanager:GetSecretValue", "deny",
                     [("any role of the service", _any_allowed(checks))], "isolation")

    def forbidden_registry_replication(self, prod, pm, nonprod):
        """Registry replication is account-wide: a rule meant for production images must not copy another
        stack's repositories into the DR region."""
        for name, plan in nonprod:
            om = self.m if plan is self.plan else Model(plan)
            repos = sorted(om.of_type("aws:ecr/repository:Repository"), key=lambda r: str(om.get(r, "name")))
            if not repos:
                continue
            repo = repos[0]
            rname = om.get(repo, "name")
            checks = []
            for mm, label in ((pm, "prod"), (om, name)):
                for rc, rule in _registry_rules(mm):
                    hit = _replicates(rule, rname)
                    dests = ", ".join(str(d.get("region")) for d in rule.get("destinations") or [])
                    checks.append((f"{label} registry rule {rc.name}", Verdict(hit, f"filter matches {rname}, copies to {dests}"
                                                                              if hit else "filter does not match")))
            if checks:
                self.add(f"{name} repository {rname}", "DR region (registry replication)", "ecr replication", "deny",
                         [("any registry rule", _any_allowed(checks))], "isolation")

    def forbidden_other_stacks(self):
        """Roles of a non-production stack must not reach production resources (same or another account)."""
        prod, nonprod = None, []
        for name, plan in [(self.plan.stack, self.plan)] + sorted(self.others.items()):
            if name == "prod" and prod is None:
                prod = plan
            elif name != "prod":
                nonprod.append((name, plan))
        if prod is None or not nonprod:
            return
        pm = self.m if prod is self.plan else Model(prod)
        self.forbidden_registry_replication(prod, pm, nonprod)
        for name, plan in nonprod:
            om = self.m if plan is self.plan else Model(plan)
            roles = [r for r in om.roles.values() if "ecs-tasks.amazonaws.com" in json.dumps(r.trust if r.trust is not Unknown else {})]
            if not roles:
                continue
            targets = []
            b = next((x for x in pm.of_type("aws:s3/bucket:Bucket") if _tags(pm, x).get("Purpose") == "documents"), None)
            if b is not None:
                targets.append(("s3:GetObject", f"{pm.arn(b)}/flowcheck/object", f"prod bucket {pm.get(b, 'bucket')}"))
            q = next((x for x in sorted(pm.of_type("aws:sqs/queue:Queue"), key=lambda x: str(pm.get(x, "name")))
                      if not str(pm.get(x, "name")).endswith("-dlq")), None)
            if q is not None:
                targets.append(("sqs:ReceiveMessage", pm.arn(q), f"prod queue {pm.get(q, 'name')}"))
            s = next(iter(sorted(pm.of_type("aws:secretsmanager/secret:Secret"), key=lambda x: str(pm.get(x, "name")))), None)
            if s is not None:
                targets.append(("secretsmanager:GetSecretValue", pm.arn(s), f"prod secret {pm.get(s, 'name')}"))
            db = next((d for d in pm.of_type("aws:rds/instance:Instance") if not d.props.get("replicateSourceDb")), None)
            if db is not None and isinstance(pm.get(db, "resourceId"), str):
                targets.append(("rds-db:connect", f"arn:aws:rds-db:{pm.region}:{pm.account}:dbuser:{pm.get(db, 'resourceId')}/app",
                                f"prod database {pm.get(db, 'identifier')}"))
            for action, arn, label in targets:
                checks = []
                for role in roles:
                    # the dev role's own identity policies, the prod resource's policies
                    req = iam.Request(role.principal(), action, arn, {})
                    acct = arn.split(":")[4] if arn.count(":") >= 5 and arn.split(":")[4] else pm.account
                    v = iam.decide(req, identity=role.identity, resource=pm.resource_docs(arn), resource_account=acct,
                                   identity_unmodelled=role.unmodelled)
                    checks.append((f"{name} role {role.name}", v))
                self.add(f"{name} task roles ({len(roles)})", label, action, "deny", [("any dev role", _any_allowed(checks))],
                         "isolation")
