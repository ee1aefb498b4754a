"""The flow catalogue: every flow the platform intends, and a set it must forbid, derived from the
recorded plan (and the stack's config for the service contracts).

Resources are located by type, by the conventions every engineer relies on (task role `<service>-task`
or the task definition's `taskRoleArn`, tag `Service`, data buckets tagged `Purpose`), and by matching
the ARNs/names/URLs in inputs to recorded outputs. Each group below is written generically: it
yields nothing when its resources are absent, and lights up when they land (delivery tier, DR
services, VPC-link front door, per-service roles).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from . import iam
from .iam import Tri, Unknown, Verdict, is_unknown, t_and
from .model import ELB_ACCOUNTS, Checker, Model, Role, loads

APP_KEY = "ai-platform:application"

# Design hints used only when neither config nor the application tier declares a contract
# (issue 12: "document extraction reads documents and publishes DocumentUploaded, inference
# consumers read their queue"). Everything else is derived from the task definitions: a service
# given DB_HOST intends to use the database, one given REDIS_HOST the cache.
DESIGN_HINTS: dict[str, dict] = {
    "document-extraction": {"buckets": {"documents": "read"}, "publishes": ["DocumentUploaded"],
                            "queues": ["document-processing"]},
    "conversational": {"queues": ["inference-requests"]},
}


@dataclasses.dataclass
class Flow:
    source: str
    target: str
    action: str
    expected: str                      # "allow" | "deny"
    checks: list                       # [(label, Verdict)]
    group: str = ""

    @property
    def verdict(self) -> Verdict:
        if not self.checks:
            return Verdict(False, "nothing in the plan provides this flow")
        allowed = t_and(v.allowed for _, v in self.checks)
        if allowed is True:
            return Verdict(True, "; ".join(f"{label}: {v.reason}" for label, v in self.checks))
        for label, v in self.checks:
            if v.allowed is allowed:
                return Verdict(allowed, f"{label}: {v.reason}")
        return Verdict(allowed, "")

    @property
    def ok(self) -> bool:
        v = self.verdict.allowed
        return v is True if self.expected == "allow" else v is False

    def to_json(self) -> dict:
        v = self.verdict
        out = {"from": self.source, "to": self.target, "action": self.action, "expected": self.expected,
               "allowed": v.allowed is True, "reason": v.reason}
        if v.allowed is None:
            out["undecidable"] = True
        return out


def _tags(m: Model, r) -> dict:
    t = m.get(r, "tags") or {}
    return t if isinstance(t, dict) else {}


def _via(service: str, region: str) -> str:
    return f"{service}.{region}.amazonaws.com"


class Catalogue:
    def __init__(self, plan, others: dict | None = None):
        self.plan = plan
        self.m = Model(plan)
        self.ck = Checker(self.m)
        self.others = others or {}
        self.flows: list[Flow] = []
        self.primary = plan.region

    # ------------------------------------------------------------------ helpers
    def add(self, source, target, action, expected, checks, group=""):
        self.flows.append(Flow(source, target, action, expected, list(checks), group))

    def env(self) -> str:
        return str(self.plan.stack)

    def in_region(self, resources, region):
        return [r for r in resources if self.m.region_of(r) == region]

    def build(self) -> list[Flow]:
        for part in (self.services, self.front_door, self.events, self.s3_to_eventbridge, self.sns_to_sqs,
                     self.alerts, self.audit_logs, self.access_logs, self.replication, self.delivery,
                     self.training, self.forbidden_cross_service, self.forbidden_other_stacks):
            part()
        return self.flows

    # ------------------------------------------------------------------ services and their contracts
    def service_records(self) -> list[dict]:
        m = self.m
        out = []
        for svc in m.of_type("aws:ecs/service:Service"):
            name = _tags(m, svc).get("Service") or m.get(svc, "name")
            td = m.ref(svc, "taskDefinition", "aws:ecs/taskDefinition:TaskDefinition")
            tdp = m.state(td) if td not in (None, Unknown) else {}
            task_role = m.role_by_arn(tdp.get("taskRoleArn")) if td is not Unknown else Unknown
            if task_role is None:
                task_role = m.role_named(f"{name}-task")
            exec_role = m.role_by_arn(tdp.get("executionRoleArn")) if td is not Unknown else Unknown
            containers = loads(tdp.get("containerDefinitions")) if tdp else []
            if is_unknown(containers) or not isinstance(containers, list):
                containers = Unknown if is_unknown(containers) else []
            net = m.get(svc, "networkConfiguration") or {}
            out.append({"name": name, "service": svc, "td": td, "task_role": task_role, "exec_role": exec_role,
                        "containers": containers, "sgs": net.get("securityGroups") or [],
                        "public_ip": net.get("assignPublicIp"), "region": m.region_of(svc),
                        "lbs": m.get(svc, "loadBalancers") or []})
        return sorted(out, key=lambda rec: (rec["region"] != self.primary, rec["region"], str(rec["name"])))

    def contracts(self, records) -> dict[str, dict]:
        cfg = self.plan.config.get(APP_KEY) or {}
        if isinstance(cfg, str):
            cfg = loads(cfg)
        services_cfg = (cfg or {}).get("services") or {}
        defaults = {}
        try:  # the application tier's defaults, when it publishes them
            from components import catalog
            defaults = getattr(catalog, "DEFAULT_USES", None) or getattr(catalog, "DEFAULT_CONTRACTS", None) or {}
        except Exception:  # noqa: BLE001
            defaults = {}
        out = {}
        for rec in records:
            name = rec["name"]
            conf = services_cfg.get(name) if isinstance(services_cfg, dict) else None
            uses = (conf or {}).get("uses") if isinstance(conf, dict) else None
            if uses is None and name in defaults:
                d = defaults[name]
                uses = d.get("uses", d) if isinstance(d, dict) else None
            if uses is None:
                uses = self.derived_contract(rec)
            out[name] = dict(uses)
        return out

    def derived_contract(self, rec) -> dict:
        """Until contracts exist: what the task definition says the service is given (DB_HOST ->
        database, REDIS_HOST -> cache), the models the (shared) task role may invoke, and the design hints."""
        uses: dict[str, Any] = {}
        env_names = set()
        if isinstance(rec["containers"], list):
            for c in rec["containers"]:
                env_names |= {e.get("name") for e in c.get("environment") or []}
        if "DB_HOST" in env_names:
            uses["database"] = "readwrite"
        if "REDIS_HOST" in env_names:
            uses["cache"] = True
        models = self.platform_models()
        if models:
            uses["models"] = models
        for k, v in DESIGN_HINTS.get(rec["name"], {}).items():
            uses.setdefault(k, v)
        return uses

    def platform_models(self) -> list:
        """The Bedrock models the platform grants at all (the ML tier's invoke policy lists the configured ones)."""
        models = []
        for pol in self.m.of_type("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"):
            for st in iam.statements(iam.parse_document(pol.props.get("policy"))):
                if st.get("Effect") != "Allow" or not any(str(a).lower().startswith("bedrock:invokemodel")
                                                          for a in iam._values(st.get("Action", []))):
                    continue
                for res in iam._values(st.get("Resource", [])):
                    if isinstance(res, str) and "foundation-model/" in res:
                        mid = res.split("foundation-model/")[1]
                        if mid not in models and "*" not in mid:
                            models.append(mid)
        return models

    def services(self):
        records = self.service_records()
        self._records = records
        self._contracts = contracts = self.contracts(records)
        for rec in records:
            uses = contracts.get(rec["name"], {})
            region = rec["region"]
            who = rec["name"] if region == self.primary else f"{rec['name']} (DR {region})"
            if uses.get("database") and uses["database"] != "none":
                self.service_database(rec, who, region, uses["database"])
            if uses.get("cache"):
                self.service_cache(rec, who, region)
            for q in uses.get("queues") or []:
                self.service_queue(rec, who, region, q)
            for detail in uses.get("publishes") or []:
                self.service_publish(rec, who, region, detail)
            for key, mode in (uses.get("buckets") or {}).items():
                self.service_bucket(rec, who, region, key, mode)
            for t in uses.get("tables") or []:
                self.service_table(rec, who, region, t)
            for model in uses.get("models") or []:
                self.service_model(rec, who, region, model)
            for s in uses.get("secrets") or []:
                self.service_secret(rec, who, region, s)
            if region != self.primary:
                db = self.primary_db(self.primary)
                if db is not None:
                    checks = [self.connect_check(rec, db)]
                    self.add(who, f"primary-region database {self.m.get(db, 'identifier')}", "rds-db:connect", "deny",
                             checks, "dr")

    def role_label(self, role) -> str:
        return role.name if isinstance(role, Role) else "(unknown role)"

    def primary_db(self, region):
        dbs = [d for d in self.m.of_type("aws:rds/instance:Instance", "aws:rds/cluster:Cluster")
               if self.m.region_of(d) == region]
        prim = [d for d in dbs if not d.props.get("replicateSourceDb")]
        return prim[0] if prim else (dbs[0] if dbs else None)

    def db_user(self, rec, db) -> str:
        master = self.m.get(db, "username") or self.m.get(db, "masterUsername")
        role = rec["task_role"]
        rid = self.m.get(db, "resourceId") or self.m.get(db, "clusterResourceId")
        if isinstance(role, Role):
            for _, doc in role.identity:
                for st in iam.statements(doc):
                    if st.get("Effect") != "Allow":
                        continue
                    for res in iam._values(st.get("Resource", [])):
                        if isinstance(res, str) and ":dbuser:" in res:
                            rpart, _, user = res.split(":dbuser:")[1].partition("/")
                            if user and "*" not in user and user != master and \
                                    (rpart == "*" or not isinstance(rid, str) or iam.glob(rpart, rid)):
                                return user
        return rec["name"].replace("-", "_")

    def connect_check(self, rec, db) -> tuple:
        m = self.m
        rid = m.get(db, "resourceId") or m.get(db, "clusterResourceId")
        region = m.region_of(db)
        user = self.db_user(rec, db)
        res = Unknown if is_unknown(rid) or rid is None else f"arn:aws:rds-db:{region}:{m.account}:dbuser:{rid}/{user}"
        v = self.ck.role_can(rec["task_role"], "rds-db:connect", res) if res is not Unknown else \
            Verdict(None, "DB resource id unknown until apply")
        return (f"{self.role_label(rec['task_role'])} rds-db:connect as {user}", v)

    def service_database(self, rec, who, region, mode):
        m = self.m
        db = self.primary_db(region)
        if db is None:
            self.add(who, "database", "rds-db:connect", "allow", [("database", Verdict(False, f"no database in {region}"))],
                     "service")
            return
        checks = []
        iam_auth = m.get(db, "iamDatabaseAuthenticationEnabled")
        checks.append(("IAM database auth", Verdict(True, "enabled") if iam_auth is True else
                       Verdict(None, "unknown") if is_unknown(iam_auth) else Verdict(False, "IAM database authentication is off")))
        checks.append(self.connect_check(rec, db))
        master = m.get(db, "username")
        user = self.db_user(rec, db)
        checks.append(("non-master user", Verdict(user != master, f"connects as {user}" if user != master else
                                                  f"{user} is the master user")))
        port = int(m.get(db, "port") or 5432)
        sgs = m.get(db, "vpcSecurityGroupIds") or []
        checks.append((f"network :{port}", self.ck.sg_path(rec["sgs"], sgs, port)))
        self.add(who, f"database {m.get(db, 'identifier') or db.name} ({mode})", "rds-db:connect", "allow", checks,
                 "service")

    def secret_read(self, rec, secret, role_key="exec_role") -> list:
        """The secret is injected into the service's containers and its execution role may read it."""
        m = self.m
        sarn = m.arn(secret)
        checks = []
        containers = rec["containers"]
        if containers is Unknown:
            checks.append(("injected", Verdict(None, "container definitions unknown until apply")))
        else:
            refs = [s.get("valueFrom", "") for c in containers for s in c.get("secrets") or []]
            if is_unknown(sarn) or any(is_unknown(x) for x in refs):
                checks.append(("injected", Verdict(None, "secret ARN unknown until apply")))
            else:
                hit = any(ref == sarn or ref.startswith(sarn + ":") for ref in refs)
                checks.append(("injected", Verdict(hit, "in the task definition's secrets" if hit else
                                                   "not injected into the service's containers")))
        role = rec[role_key]
        checks.append((f"{self.role_label(role)} GetSecretValue",
                       self.ck.role_can(role, "secretsmanager:GetSecretValue", sarn)))
        key_ref = m.get(secret, "kmsKeyId")
        if isinstance(role, Role):
            checks.append(("secret key", self.ck.kms_use(
                role.principal(), key_ref, ["kms:Decrypt"],
                {"kms:ViaService": _via("secretsmanager", m.region_of(secret)), "kms:CallerAccount": m.account,
                 "kms:EncryptionContext:SecretARN": sarn, "kms:EncryptionContext:SecretVersionId": "v"}, role=role)))
        return checks

    def find_secret(self, key, region) -> Any:
        m = self.m
        for s in self.in_region(m.of_type("aws:secretsmanager/secret:Secret"), region):
            name = m.get(s, "name") or ""
            if _tags(m, s).get("Name") == key or (isinstance(name, str) and name.endswith("/" + key)) or s.name in (key, f"secret-{key}"):
                return s
        return None

    def service_cache(self, rec, who, region):
        m = self.m
        groups = self.in_region(m.of_type("aws:elasticache/replicationGroup:ReplicationGroup"), region)
        if not groups:
            return
        rg = groups[0]
        secret = None
        for s in self.in_region(m.of_type("aws:secretsmanager/secret:Secret"), region):
            text = " ".join(str(x) for x in (s.name, m.get(s, "name"), m.get(s, "description"), _tags(m, s).get("Name")))
            if "redis" in text.lower() or "cache" in text.lower():
                secret = s
                break
        checks = []
        if secret is None:
            checks.append(("AUTH token secret", Verdict(False, "no secret holds the cache's AUTH token")))
        else:
            checks += self.secret_read(rec, secret)
        port = int(m.get(rg, "port") or 6379)
        checks.append((f"network :{port}", self.ck.sg_path(rec["sgs"], m.get(rg, "securityGroupIds") or [], port)))
        self.add(who, f"cache {m.get(rg, 'replicationGroupId') or rg.name}", "redis AUTH over TLS", "allow", checks,
                 "service")

    def find_queue(self, key, region):
        m = self.m
        for q in self.in_region(m.of_type("aws:sqs/queue:Queue"), region):
            name = m.get(q, "name") or ""
            if isinstance(name, str) and (name == key or name.endswith("-" + key)) and not name.endswith("-dlq"):
                return q
        return None

    def queue_consume_checks(self, role, q) -> list:
        m = self.m
        qarn = m.arn(q)
        checks = []
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
            checks.append((f"{self.role_label(role)} {action}", self.ck.role_can(role, action, qarn)))
        if isinstance(role, Role):
            checks.append(("queue key", self.ck.kms_use(
                role.principal(), m.get(q, "kmsMasterKeyId"), ["kms:Decrypt"],
                {"kms:ViaService": _via("sqs", m.region_of(q)), "kms:CallerAccount": m.account,
                 "kms:EncryptionContext:aws:sqs:arn": qarn}, role=role)))
        return checks

    def service_queue(self, rec, who, region, key):
        q = self.find_queue(key, region)
        if q is None:
            self.add(who, f"queue {key}", "sqs:ReceiveMessage", "allow", [("queue", Verdict(False, f"no queue {key}"))],
                     "service")
            return
        self.add(who, f"queue {self.m.get(q, 'name')}", "sqs:ReceiveMessage/DeleteMessage", "allow",
                 self.queue_consume_checks(rec["task_role"], q), "service")

    def bus(self, region):
        buses = self.in_region(self.m.of_type("aws:cloudwatch/eventBus:EventBus"), region)
        return buses[0] if buses else None

    def service_publish(self, rec, who, region, detail):
        m = self.m
        bus = self.bus(region)
        if bus is None:
            return
        source = None
        for rule in m.of_type("aws:cloudwatch/eventRule:EventRule"):
            pat = loads(m.get(rule, "eventPattern"))
            if isinstance(pat, dict) and detail in (pat.get("detail-type") or []):
                source = (pat.get("source") or [None])[0]
        ctx = {"events:detail-type": detail}
        if source:
            ctx["events:source"] = source
        checks = [(f"{self.role_label(rec['task_role'])} events:PutEvents",
                   self.ck.role_can(rec["task_role"], "events:PutEvents", m.arn(bus), ctx))]
        key_ref = m.get(bus, "kmsKeyIdentifier")
        if key_ref and isinstance(rec["task_role"], Role):
            checks.append(("bus key", self.ck.kms_use(rec["task_role"].principal(), key_ref, ["kms:GenerateDataKey"],
                                                      {"kms:ViaService": _via("events", region)}, role=rec["task_role"])))
        self.add(who, f"event bus {m.get(bus, 'name')} ({detail})", "events:PutEvents", "allow", checks, "service")

    def data_bucket(self, key, region):
        m = self.m
        for b in self.in_region(m.of_type("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"), region):
            t = _tags(m, b)
            if t.get("Purpose") == key or b.name in (f"{key}-bucket", key):
                return b
        return None

    def object_key(self, role, barn, action) -> str:
        """An object key the role is meant to use in the bucket: its own grant's prefix, else a plain key."""
        if isinstance(role, Role):
            for _, doc in role.identity:
                for st in iam.statements(doc):
                    if st.get("Effect") != "Allow" or not any(iam.glob(a, action, True) for a in iam._values(st.get("Action", []))):
                        continue
                    for res in iam._values(st.get("Resource", [])):
                        if isinstance(res, str) and res.startswith(barn + "/"):
                            return res[len(barn) + 1:].replace("*", "flowcheck").replace("?", "x")
        return "flowcheck/object"

    def s3_object_checks(self, role, b, action, kms_actions) -> list:
        m = self.m
        barn = m.arn(b)
        if is_unknown(barn):
            return [("bucket", Verdict(None, "bucket ARN unknown until apply"))]
        key = self.object_key(role, barn, action)
        obj = f"{barn}/{key}"
        checks = [(f"{self.role_label(role)} {action}", self.ck.role_can(role, action, obj))]
        algo, key_ref, bucket_key = m.bucket_sse(b)
        if algo == "aws:kms" and isinstance(role, Role):
            checks.append(("bucket key", self.ck.kms_use(
                role.principal(), key_ref, kms_actions,
                {"kms:ViaService": _via("s3", m.region_of(b)), "kms:CallerAccount": m.account,
                 "kms:EncryptionContext:aws:s3:arn": barn if bucket_key else obj}, role=role)))
        return checks

    def service_bucket(self, rec, who, region, key, mode):
        b = self.data_bucket(key, region)
        if b is None:
            self.add(who, f"bucket {key}", "s3", "allow", [("bucket", Verdict(False, f"no bucket {key}"))], "service")
            return
        name = self.m.get(b, "bucket")
        if mode in ("read", "readwrite"):
            self.add(who, f"bucket {name}", "s3:GetObject", "allow",
                     self.s3_object_checks(rec["task_role"], b, "s3:GetObject", ["kms:Decrypt"]), "service")
        if mode in ("write", "readwrite"):
            self.add(who, f"bucket {name}", "s3:PutObject", "allow",
                     self.s3_object_checks(rec["task_role"], b, "s3:PutObject", ["kms:GenerateDataKey"]), "service")

    def service_table(self, rec, who, region, key):
        m = self.m
        table = None
        for t in self.in_region(m.of_type("aws:dynamodb/table:Table"), region):
            name = m.get(t, "name") or ""
            if isinstance(name, str) and (name == key or name.endswith("-" + key)):
                table = t
        if table is None:
            self.add(who, f"table {key}", "dynamodb", "allow", [("table", Verdict(False, f"no table {key}"))], "service")
            return
        tarn = m.arn(table)
        role = rec["task_role"]
        checks = [(f"{self.role_label(role)} {a}", self.ck.role_can(role, a, tarn))
                  for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")]
        sse = m.get(table, "serverSideEncryption") or {}
        if sse.get("enabled") and isinstance(role, Role):
            checks.append(("table key", self.ck.kms_use(
                role.principal(), sse.get("kmsKeyArn"), ["kms:Decrypt"],
                {"kms:ViaService": _via("dynamodb", region), "kms:CallerAccount": m.account,
                 "kms:EncryptionContext:aws:dynamodb:tableName": m.get(table, "name"),
                 "kms:EncryptionContext:aws:dynamodb:subscriberId": m.account}, role=role)))
        self.add(who, f"table {m.get(table, 'name')}", "dynamodb:GetItem/PutItem/Query", "allow", checks, "service")

    def service_model(self, rec, who, region, model):
        arn = f"arn:aws:bedrock:{region}::foundation-model/{model}"
        role = rec["task_role"]
        self.add(who, f"model {model}", "bedrock:InvokeModel", "allow",
                 [(f"{self.role_label(role)} bedrock:InvokeModel", self.ck.role_can(role, "bedrock:InvokeModel", arn))],
                 "service")

    def service_secret(self, rec, who, region, key):
        s = self.find_secret(key, region)
        if s is None:
            self.add(who, f"secret {key}", "secretsmanager:GetSecretValue", "allow",
                     [("secret", Verdict(False, f"no secret {key}"))], "service")
            return
        self.add(who, f"secret {self.m.get(s, 'name')}", "secretsmanager:GetSecretValue", "allow",
                 self.secret_read(rec, s), "service")

    # ------------------------------------------------------------------ front door
    def albs(self):
        return [lb for lb in self.m.of_type("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
                if (self.m.get(lb, "loadBalancerType") or "application") == "application"]

    def listeners(self, lb):
        m = self.m
        out = []
        for ls in m.of_type("aws:lb/listener:Listener", "aws:alb/listener:Listener"):
            if m.ref(ls, "loadBalancerArn") is lb:
                out.append(ls)
        return out

    def rules_of(self, ls):
        m = self.m
        larn = m.arn(ls)
        return [r for r in m.of_type("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
                if m.dep(r, "listenerArn") is ls or m.get(r, "listenerArn") == larn]

    @staticmethod
    def _forwards_to(actions) -> list:
        tgs = []
        for a in actions or []:
            if a.get("type") == "forward":
                if a.get("targetGroupArn"):
                    tgs.append(a["targetGroupArn"])
                for tg in ((a.get("forward") or {}).get("targetGroups") or []):
                    tgs.append(tg.get("arn"))
        return tgs

    @staticmethod
    def _required_headers(conditions) -> list:
        return [(c.get("httpHeader") or {}).get("httpHeaderName") for c in conditions or [] if c.get("httpHeader")]

    def front_door(self):
        m = self.m
        for lb in self.albs():
            lb_name = m.get(lb, "name") or lb.name
            region = m.region_of(lb)
            lb_sgs = m.get(lb, "securityGroups") or []
            internal = m.get(lb, "internal")
            listeners = self.listeners(lb)
            forwards = []   # (listener, port, rule-or-None, tg arn, headers)
            for ls in listeners:
                port = int(m.get(ls, "port") or 443)
                for tg in self._forwards_to(m.get(ls, "defaultActions")):
                    forwards.append((ls, port, None, tg, []))
                for rule in self.rules_of(ls):
                    for tg in self._forwards_to(m.get(rule, "actions")):
                        forwards.append((ls, port, rule, tg, self._required_headers(m.get(rule, "conditions"))))
            # internet -> load balancer (forbidden)
            checks = []
            if internal is True:
                checks.append(("scheme", Verdict(False, "internal load balancer")))
            elif is_unknown(internal):
                checks.append(("scheme", Verdict(None, "scheme unknown")))
            else:
                checks.append(("scheme", Verdict(True, "internet-facing")))
                ports = sorted({p for _, p, *_ in forwards}) or sorted({int(m.get(ls, "port") or 0) for ls in listeners})
                nets = [self.ck.sg_path([], lb_sgs, p, src_cidr="0.0.0.0/0") for p in ports] or \
                    [Verdict(False, "no listener")]
                best = next((v for v in nets if v.allowed), nets[0])
                checks.append(("network", best))
                open_rules = [f for f in forwards if not f[4]]
                checks.append(("forwarding", Verdict(True, f"{len(open_rules)} forwarding rule(s) need no origin header")
                               if open_rules else Verdict(False, "every forwarding rule requires the verified origin header"
                                                          if forwards else "no forwarding rule")))
            self.add("internet", f"load balancer {lb_name}", "HTTPS request bypassing the API", "deny", checks, "front-door")
            # API -> load balancer
            self.api_to_lb(lb, lb_name, lb_sgs, internal, forwards)
            # load balancer -> services
            for rec in getattr(self, "_records", []):
                if rec["region"] != region:
                    continue
                for lbcfg in rec["lbs"]:
                    tg = lbcfg.get("targetGroupArn")
                    port = int(lbcfg.get("containerPort") or 0)
                    hits = [f for f in forwards if f[3] == tg]
                    checks = [("listener rule", Verdict(True, f"rule forwards to {tg.split('/')[-2] if isinstance(tg, str) and '/' in tg else tg}")
                               if hits else Verdict(None if is_unknown(tg) else False, "no listener rule forwards to the service's target group"))]
                    checks.append((f"network :{port}", self.ck.sg_path(lb_sgs, rec["sgs"], port)))
                    self.add(f"load balancer {lb_name}", rec["name"], f"HTTP :{port}", "allow", checks, "front-door")
        # internet -> services directly (forbidden)
        for rec in getattr(self, "_records", []):
            port = next((int(x.get("containerPort") or 0) for x in rec["lbs"]), 0)
            if not port and isinstance(rec["containers"], list):
                port = next((pm.get("containerPort") for c in rec["containers"] for pm in c.get("portMappings") or []), 80)
            public = rec["public_ip"]
            checks = [("public address", Verdict(True, "tasks get a public IP") if public is True else
                       Verdict(None, "unknown") if is_unknown(public) else Verdict(False, "tasks have no public IP"))]
            checks.append(("network", self.ck.sg_path([], rec["sgs"], int(port or 80), src_cidr="0.0.0.0/0")))
            self.add("internet", rec["name"], f"TCP :{port}", "deny", checks, "front-door")

    def api_to_lb(self, lb, lb_name, lb_sgs, internal, forwards):
        m = self.m
        integrations = [i for i in m.of_type("aws:apigateway/integration:Integration", "aws:apigatewayv2/integration:Integration")
                        if (m.get(i, "type") or m.get(i, "integrationType") or "").upper() in ("HTTP", "HTTP_PROXY")]
        if not integrations:
            return
        lb_arn, dns = m.arn(lb), m.get(lb, "dnsName")
        app = self.plan.config.get(APP_KEY) or {}
        app = loads(app) if isinstance(app, str) else app
        alb_domain = ((app or {}).get("alb") or {}).get("domainName")
        headers_needed = sorted({h for f in forwards for h in f[4] if h})
        for integ in integrations:
            checks = []
            conn = (m.get(integ, "connectionType") or "INTERNET").upper()
            target = m.get(integ, "integrationTarget") or m.get(integ, "integrationUri")
            uri = m.get(integ, "uri") or m.get(integ, "integrationUri") or ""
            if conn == "VPC_LINK":
                link = m.ref(integ, "connectionId", "aws:apigatewayv2/vpcLink:VpcLink", "aws:apigateway/vpcLink:VpcLink")
                reaches = (target == lb_arn) or (link not in (None, Unknown) and lb_arn in (m.get(link, "targetArns") or []))
                if is_unknown(target) or is_unknown(lb_arn):
                    checks.append(("integration", Verdict(None, "integration target unknown until apply")))
                else:
                    checks.append(("integration", Verdict(reaches, "private integration over a VPC link to the ALB" if reaches
                                                          else "the VPC link integration targets another load balancer")))
                if link not in (None, Unknown) and m.get(link, "securityGroupIds"):
                    port = int(m.get(self.listeners(lb)[0], "port") or 443) if self.listeners(lb) else 443
                    checks.append((f"network :{port}", self.ck.sg_path(m.get(link, "securityGroupIds"), lb_sgs, port)))
            else:
                host = uri.split("://", 1)[-1].split("/", 1)[0].split(":")[0] if isinstance(uri, str) else ""
                if is_unknown(uri):
                    checks.append(("integration", Verdict(None, "integration URI unknown until apply")))
                    continue
                reaches = host and (host == dns or host == alb_domain)
                if not reaches:
                    continue
                checks.append(("integration", Verdict(True, f"HTTP proxy to {host} over the internet")))
                checks.append(("scheme", Verdict(internal is not True, "internet-facing" if internal is not True
                                                 else "an internal ALB cannot be called over the internet")))
                checks.append(("network :443", self.ck.sg_path([], lb_sgs, 443, src_cidr="0.0.0.0/0")))
            if headers_needed:
                params = m.get(integ, "requestParameters") or {}
                have = {k.split(".")[-1].lower() for k in params if k.startswith("integration.request.header.")}
                missing = [h for h in headers_needed if h.lower() not in have]
                checks.append(("origin header", Verdict(not missing, "the integration sets the origin header" if not missing
                                                        else f"the integration does not set {', '.join(missing)}")))
            path = m.get(integ, "httpMethod") or ""
            self.add(f"API {integ.name}", f"load balancer {lb_name}", f"{path} proxy", "allow", checks, "front-door")

    # ------------------------------------------------------------------ events
    def rule_for(self, name, bus_name):
        m = self.m
        for r in m.of_type("aws:cloudwatch/eventRule:EventRule"):
            if m.get(r, "name") == name and (m.get(r, "eventBusName") or "default") == (bus_name or "default"):
                return r
        return None

    def sqs_send_checks(self, principal_service, q, source_arn, extra_ctx=None) -> list:
        m = self.m
        qarn = m.arn(q)
        ctx = {"aws:SourceArn": source_arn, "aws:SourceAccount": m.account, **(extra_ctx or {})}
        p = iam.service_principal(principal_service)
        checks = [(f"{principal_service} sqs:SendMessage", self.ck.request(p, "sqs:SendMessage", qarn, ctx))]
        checks.append(("queue key", self.ck.kms_use(p, m.get(q, "kmsMasterKeyId"), ["kms:GenerateDataKey", "kms:Decrypt"],
                                                    {**ctx, "kms:EncryptionContext:aws:sqs:arn": qarn})))
        return checks

    def events(self):
        m = self.m
        for t in m.of_type("aws:cloudwatch/eventTarget:EventTarget"):
            rule = self.rule_for(m.get(t, "rule"), m.get(t, "eventBusName"))
            rarn = m.arn(rule) if rule is not None else Unknown
            rname = m.get(t, "rule")
            tarn = m.get(t, "arn")
            target = m.find(tarn)
            src = f"EventBridge rule {rname}"
            if target is Unknown or target is None:
                self.add(src, str(tarn), "deliver", "allow", [("target", Verdict(None if target is Unknown else False,
                                                                              "target not in the plan"))], "events")
                continue
            if target.type == "aws:sqs/queue:Queue":
                self.add(src, f"queue {m.get(target, 'name')}", "sqs:SendMessage", "allow",
                         self.sqs_send_checks("events.amazonaws.com", target, rarn), "events")
            elif target.type == "aws:lambda/function:Function":
                p = iam.service_principal("events.amazonaws.com")
                v = self.ck.request(p, "lambda:InvokeFunction", m.arn(target),
                                    {"aws:SourceArn": rarn, "aws:SourceAccount": m.account})
                self.add(src, f"function {m.get(target, 'name')}", "lambda:InvokeFunction", "allow",
                         [("events.amazonaws.com lambda:InvokeFunction", v)], "events")
            elif target.type == "aws:sns/topic:Topic":
                self.add(src, f"topic {m.get(target, 'name')}", "sns:Publish", "allow",
                         self.sns_publish_checks("events.amazonaws.com", target, rarn), "events")
            else:
                role = m.role_by_arn(m.get(t, "roleArn"))
                checks = [("trust", self.ck.trust(role, "events.amazonaws.com"))]
                self.add(src, f"{target.type.split(':')[-1]} {target.name}", "deliver (role)", "allow", checks, "events")
            dlq = (m.get(t, "deadLetterConfig") or {}).get("arn")
            if dlq:
                q = m.find(dlq, "aws:sqs/queue:Queue")
                if q not in (None, Unknown):
                    self.add(src, f"dead-letter queue {m.get(q, 'name')}", "sqs:SendMessage", "allow",
                             self.sqs_send_checks("events.amazonaws.com", q, rarn), "events")

    def s3_to_eventbridge(self):
        m = self.m
        enabled = {}
        for n in m.of_type("aws:s3/bucketNotification:BucketNotification"):
            b = m.bucket(m.get(n, "bucket")) if m.dep(n, "bucket") is None else m.dep(n, "bucket")
            if b not in (None, Unknown) and m.get(n, "eventbridge") is True:
                enabled[b.urn] = n
        for r in m.of_type("aws:cloudwatch/eventRule:EventRule"):
            pat = loads(m.get(r, "eventPattern"))
            if not isinstance(pat, dict) or "aws.s3" not in (pat.get("source") or []):
                continue
            names = ((pat.get("detail") or {}).get("bucket") or {}).get("name") or []
            bus = m.get(r, "eventBusName") or "default"
            for name in names:
                b = m.bucket(name)
                checks = [("notification", Verdict(True, "EventBridge notifications on") if b not in (None, Unknown)
                           and b.urn in enabled else Verdict(False, "the bucket does not send events to EventBridge"))]
                checks.append(("bus", Verdict(bus == "default", "S3 events arrive on the default bus" if bus == "default"
                                              else f"rule is on bus {bus}; S3 sends to the default bus only")))
                self.add(f"bucket {name}", f"EventBridge rule {m.get(r, 'name')}", "s3 event -> EventBridge", "allow",
                         checks, "events")
        for urn, n in enabled.items():
            b = m.by_urn[urn]
            if not any(f.source == f"bucket {m.get(b, 'bucket')}" for f in self.flows):
                self.add(f"bucket {m.get(b, 'bucket')}", "EventBridge default bus", "s3 event -> EventBridge", "allow",
                         [("notification", Verdict(True, "EventBridge notifications on"))], "events")

    def sns_publish_checks(self, service, topic, source_arn) -> list:
        m = self.m
        tarn = m.arn(topic)
        p = iam.service_principal(service)
        ctx = {"aws:SourceArn": source_arn, "aws:SourceAccount": m.account}
        checks = [(f"{service} sns:Publish", self.ck.request(p, "sns:Publish", tarn, ctx))]
        checks.append(("topic key", self.ck.kms_use(p, m.get(topic, "kmsMasterKeyId"), ["kms:GenerateDataKey", "kms:Decrypt"],
                                                    {**ctx, "kms:EncryptionContext:aws:sns:topicArn": tarn})))
        return checks

    def sns_to_sqs(self):
        m = self.m
        for sub in m.of_type("aws:sns/topicSubscription:TopicSubscription"):
            if m.get(sub, "protocol") != "sqs":
                continue
            topic = m.ref(sub, "topic", "aws:sns/topic:Topic")
            q = m.ref(sub, "endpoint", "aws:sqs/queue:Queue")
            tarn = m.arn(topic) if topic not in (None, Unknown) else m.get(sub, "topic")
            if q in (None, Unknown):
                self.add(f"topic {tarn}", str(m.get(sub, "endpoint")), "sqs:SendMessage", "allow",
                         [("queue", Verdict(None if q is Unknown else False, "queue not in the plan"))], "events")
                continue
            tname = m.get(topic, "name") if topic not in (None, Unknown) else tarn
            self.add(f"topic {tname}", f"queue {m.get(q, 'name')}", "sqs:SendMessage", "allow",
                     self.sqs_send_checks("sns.amazonaws.com", q, tarn), "events")
            redrive = loads(m.get(sub, "redrivePolicy"))
            if isinstance(redrive, dict) and redrive.get("deadLetterTargetArn"):
                dq = m.find(redrive["deadLetterTargetArn"], "aws:sqs/queue:Queue")
                if dq not in (None, Unknown):
                    self.add(f"topic {tname}", f"dead-letter queue {m.get(dq, 'name')}", "sqs:SendMessage", "allow",
                             self.sqs_send_checks("sns.amazonaws.com", dq, tarn), "events")

    # ------------------------------------------------------------------ alarms and budgets
    def alerts(self):
        m = self.m
        by_topic: dict[str, list] = {}
        for a in m.of_type("aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm"):
            for key in ("alarmActions", "okActions", "insufficientDataActions"):
                for act in m.get(a, key) or []:
                    if isinstance(act, str) and act.startswith("arn:aws:sns:") or is_unknown(act):
                        by_topic.setdefault(act, [])
                        if a not in by_topic[act]:
                            by_topic[act].append(a)
        notified = set()
        for tarn, alarms in by_topic.items():
            topic = m.find(tarn, "aws:sns/topic:Topic")
            if topic in (None, Unknown):
                self.add(f"{len(alarms)} CloudWatch alarms", str(tarn), "sns:Publish", "allow",
                         [("topic", Verdict(None if topic is Unknown else False, "topic not in the plan"))], "alerts")
                continue
            notified.add(topic.urn)
            checks = []
            for a in alarms:
                region = m.region_of(a)
                aarn = m.arn(a) or f"arn:aws:cloudwatch:{region}:{m.account}:alarm:{m.get(a, 'name')}"
                cs = self.sns_publish_checks("cloudwatch.amazonaws.com", topic, aarn)
                v = Verdict(t_and(c.allowed for _, c in cs), "")
                if v.allowed is not True:
                    bad = next((lbl, c) for lbl, c in cs if c.allowed is v.allowed)
                    checks.append((f"alarm {m.get(a, 'name')}", Verdict(v.allowed, f"{bad[0]}: {bad[1].reason}")))
                    break
            if not checks:
                checks.append(("alarms", Verdict(True, f"cloudwatch.amazonaws.com may publish for all {len(alarms)} alarms "
                                                       "(topic policy and key policy)")))
            self.add(f"{len(alarms)} CloudWatch alarms", f"topic {m.get(topic, 'name')}", "sns:Publish", "allow", checks,
                     "alerts")
        for bud in m.of_type("aws:budgets/budget:Budget"):
            arns = set()
            for n in m.get(bud, "notifications") or []:
                arns |= set(n.get("subscriberSnsTopicArns") or [])
            for tarn in sorted(arns, key=str):
                topic = m.find(tarn, "aws:sns/topic:Topic")
                if topic in (None, Unknown):
                    continue
                notified.add(topic.urn)
                barn = f"arn:aws:budgets::{m.account}:budget/{m.get(bud, 'name')}"
                self.add(f"budget {m.get(bud, 'name')}", f"topic {m.get(topic, 'name')}", "sns:Publish", "allow",
                         self.sns_publish_checks("budgets.amazonaws.com", topic, barn), "alerts")
        for urn in notified:
            topic = m.by_urn[urn]
            tarn = m.arn(topic)
            subs = [s for s in m.of_type("aws:sns/topicSubscription:TopicSubscription")
                    if m.dep(s, "topic") is topic or m.get(s, "topic") == tarn]
            what = ", ".join(sorted({str(m.get(s, "protocol")) for s in subs}))
            self.add(f"topic {m.get(topic, 'name')}", "a subscriber", "notify", "allow",
                     [("subscription", Verdict(True, f"subscribed: {what}") if subs
                       else Verdict(False, "the topic has no subscriber: alarms and budgets tell nobody"))], "alerts")

    # ------------------------------------------------------------------ audit logs
    def service_put_checks(self, service, b, key, ctx, *, acl_check=True, principal=None) -> list:
        m = self.m
        barn = m.arn(b)
        p = principal or iam.service_principal(service)
        checks = []
        if acl_check:
            checks.append((f"{p.label} s3:GetBucketAcl", self.ck.request(p, "s3:GetBucketAcl", barn, ctx)))
        checks.append((f"{p.label} s3:PutObject", self.ck.request(p, "s3:PutObject", f"{barn}/{key}", ctx)))
        return checks

    def audit_logs(self):
        m = self.m
        for trail in m.of_type("aws:cloudtrail/trail:Trail"):
            tname = m.get(trail, "name")
            tarn = m.arn(trail)
            b = m.bucket(m.get(trail, "s3BucketName"))
            region = m.region_of(trail)
            if b not in (None, Unknown):
                prefix = m.get(trail, "s3KeyPrefix")
                key = f"{prefix + '/' if prefix else ''}AWSLogs/{m.account}/CloudTrail/{region}/2026/01/01/x.json.gz"
                ctx = {"aws:SourceArn": tarn, "aws:SourceAccount": m.account, "s3:x-amz-acl": "bucket-owner-full-control"}
                checks = self.service_put_checks("cloudtrail.amazonaws.com", b, key, ctx)
                p = iam.service_principal("cloudtrail.amazonaws.com")
                kctx = {"aws:SourceArn": tarn, "aws:SourceAccount": m.account,
                        "kms:EncryptionContext:aws:cloudtrail:arn": tarn}
                if m.get(trail, "kmsKeyId"):
                    checks.append(("trail key", self.ck.kms_use(p, m.get(trail, "kmsKeyId"), ["kms:GenerateDataKey"], kctx)))
                else:
                    algo, kref, _ = m.bucket_sse(b)
                    if algo == "aws:kms":
                        checks.append(("bucket key", self.ck.kms_use(p, kref, ["kms:GenerateDataKey"],
                                                                     {**kctx, "kms:ViaService": _via("s3", region)})))
                self.add(f"CloudTrail {tname}", f"bucket {m.get(b, 'bucket')}", "s3:PutObject", "allow", checks, "logs")
            if m.get(trail, "cloudWatchLogsGroupArn"):
                role = m.role_by_arn(m.get(trail, "cloudWatchLogsRoleArn"))
                garn = str(m.get(trail, "cloudWatchLogsGroupArn")).removesuffix(":*")
                stream = f"{garn}:log-stream:{m.account}_CloudTrail_{region}"
                checks = [("trust", self.ck.trust(role, "cloudtrail.amazonaws.com"))]
                for a in ("logs:CreateLogStream", "logs:PutLogEvents"):
                    checks.append((f"{self.role_label(role)} {a}", self.ck.role_can(role, a, stream)))
                self.add(f"CloudTrail {tname}", f"log group {garn.split(':log-group:')[-1]}", "logs:PutLogEvents", "allow",
                         checks, "logs")
        recorders = m.of_type("aws:cfg/recorder:Recorder")
        for ch in m.of_type("aws:cfg/deliveryChannel:DeliveryChannel"):
            b = m.bucket(m.get(ch, "s3BucketName"))
            if b in (None, Unknown):
                continue
            region = m.region_of(ch)
            prefix = m.get(ch, "s3KeyPrefix")
            key = f"{prefix + '/' if prefix else ''}AWSLogs/{m.account}/Config/{region}/2026/1/1/ConfigSnapshot/x.json.gz"
            role = m.role_by_arn(m.get(recorders[0], "roleArn")) if recorders else None
            ctx = {"aws:SourceAccount": m.account, "s3:x-amz-acl": "bucket-owner-full-control",
                   "aws:SourceArn": f"arn:aws:config:{region}:{m.account}:*"}
            if isinstance(role, Role) and "aws-service-role" not in str(role.arn):
                checks = [("trust", self.ck.trust(role, "config.amazonaws.com"))]
                checks.append((f"{role.name} s3:PutObject", self.ck.role_can(role, "s3:PutObject", f"{m.arn(b)}/{key}", ctx)))
                checks.append((f"{role.name} s3:GetBucketAcl", self.ck.role_can(role, "s3:GetBucketAcl", m.arn(b), ctx)))
                kp, krole = role.principal(), role
            else:
                checks = self.service_put_checks("config.amazonaws.com", b, key, ctx)
                kp, krole = iam.service_principal("config.amazonaws.com"), None
            kref = m.get(ch, "s3KmsKeyArn") or (m.bucket_sse(b)[1] if m.bucket_sse(b)[0] == "aws:kms" else None)
            if kref:
                checks.append(("key", self.ck.kms_use(kp, kref, ["kms:GenerateDataKey"],
                                                      {"kms:ViaService": _via("s3", region), "kms:CallerAccount": m.account,
                                                       "kms:EncryptionContext:aws:s3:arn": m.arn(b), **ctx}, role=krole)))
            self.add(f"AWS Config {m.get(ch, 'name')}", f"bucket {m.get(b, 'bucket')}", "s3:PutObject", "allow", checks, "logs")
        for fl in m.of_type("aws:ec2/flowLog:FlowLog"):
            dtype = m.get(fl, "logDestinationType") or "cloud-watch-logs"
            dest = m.get(fl, "logDestination") or m.get(fl, "logGroupName")
            if dtype == "cloud-watch-logs":
                role = m.role_by_arn(m.get(fl, "iamRoleArn"))
                garn = str(dest).removesuffix(":*")
                checks = [("trust", self.ck.trust(role, "vpc-flow-logs.amazonaws.com"))]
                for a in ("logs:CreateLogStream", "logs:PutLogEvents"):
                    checks.append((f"{self.role_label(role)} {a}", self.ck.role_can(role, a, f"{garn}:log-stream:eni-x-all")))
                self.add(f"VPC flow log {fl.name}", f"log group {garn.split(':log-group:')[-1]}", "logs:PutLogEvents",
                         "allow", checks, "logs")
            elif dtype == "s3":
                b = m.bucket(str(dest).split("/")[0])
                if b in (None, Unknown):
                    continue
                region = m.region_of(fl)
                prefix = str(dest)[len(m.arn(b)):].strip("/")
                key = f"{prefix + '/' if prefix else ''}AWSLogs/{m.account}/vpcflowlogs/{region}/x.log.gz"
                ctx = {"aws:SourceAccount": m.account, "aws:SourceArn": f"arn:aws:logs:{region}:{m.account}:*",
                       "s3:x-amz-acl": "bucket-owner-full-control"}
                checks = self.service_put_checks("delivery.logs.amazonaws.com", b, key, ctx)
                algo, kref, _ = m.bucket_sse(b)
                if algo == "aws:kms":
                    checks.append(("bucket key", self.ck.kms_use(iam.service_principal("delivery.logs.amazonaws.com"), kref,
                                                                 ["kms:GenerateDataKey"], ctx)))
                self.add(f"VPC flow log {fl.name}", f"bucket {m.get(b, 'bucket')}", "s3:PutObject", "allow", checks, "logs")

    # ------------------------------------------------------------------ access logs
    def access_logs(self):
        m = self.m
        for lg in m.of_type("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"):
            src = m.bucket(m.get(lg, "bucket"))
            dst = m.bucket(m.get(lg, "targetBucket"))
            if dst in (None, Unknown) or src is Unknown:
                continue
            prefix = m.get(lg, "targetPrefix") or ""
            src_arn = m.arn(src) if src is not None else f"arn:aws:s3:::{m.get(lg, 'bucket')}"
            ctx = {"aws:SourceArn": src_arn, "aws:SourceAccount": m.account}
            checks = self.service_put_checks("logging.s3.amazonaws.com", dst, f"{prefix}2026-01-01-00-00-00-X", ctx,
                                             acl_check=False)
            algo, _, _ = m.bucket_sse(dst)
            checks.append(("destination encryption", Verdict(algo != "aws:kms", "SSE-S3" if algo != "aws:kms" else
                                                             "server access logs cannot be delivered to an SSE-KMS bucket")))
            self.add(f"bucket {m.get(lg, 'bucket')} access logs", f"bucket {m.get(dst, 'bucket')}/{prefix}", "s3:PutObject",
                     "allow", checks, "logs")
        for lb in m.of_type("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
            al = m.get(lb, "accessLogs") or {}
            if not al.get("enabled") or not al.get("bucket"):
                continue
            b = m.bucket(al["bucket"])
            if b in (None, Unknown):
                continue
            region = m.region_of(lb)
            prefix = al.get("prefix") or ""
            key = f"{prefix + '/' if prefix else ''}AWSLogs/{m.account}/elasticloadbalancing/{region}/2026/01/01/x.log.gz"
            elb = ELB_ACCOUNTS.get(region)
            paths = []
            if elb:
                paths.append(self.service_put_checks("", b, key, {}, acl_check=False, principal=iam.account_principal(elb)))
            paths.append(self.service_put_checks("logdelivery.elasticloadbalancing.amazonaws.com", b, key,
                                                 {"aws:SourceAccount": m.account}, acl_check=False))
            ok = next((p for p in paths if t_and(v.allowed for _, v in p) is True), paths[0])
            algo, _, _ = m.bucket_sse(b)
            checks = list(ok) + [("destination encryption", Verdict(algo != "aws:kms", "SSE-S3" if algo != "aws:kms" else
                                                                    "ALB access logs support only SSE-S3 buckets"))]
            self.add(f"load balancer {m.get(lb, 'name')} access logs", f"bucket {m.get(b, 'bucket')}", "s3:PutObject", "allow",
                     checks, "logs")
        for d in m.of_type("aws:cloudwatch/logDelivery:LogDelivery"):
            dest = m.find(m.get(d, "deliveryDestinationArn"), "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
            if dest in (None, Unknown):
                continue
            darn = (m.get(dest, "deliveryDestinationConfiguration") or {}).get("destinationResourceArn")
            b = m.bucket(darn) if isinstance(darn, str) and darn.startswith("arn:aws:s3") else None
            src = None
            for s in m.of_type("aws:cloudwatch/logDeliverySource:LogDeliverySource"):
                if m.get(s, "name") == m.get(d, "deliverySourceName"):
                    src = s
            if b in (None, Unknown) or src is None:
                continue
            region = m.region_of(d)
            suffix = ((m.get(d, "s3DeliveryConfigurations") or [{}])[0] or {}).get("suffixPath") or ""
            key = "AWSLogs/" + m.account + "/" + suffix.replace("{", "").replace("}", "") + "/x.gz"
            ctx = {"aws:SourceAccount": m.account, "aws:SourceArn": m.arn(src) or
                   f"arn:aws:logs:{region}:{m.account}:delivery-source:{m.get(src, 'name')}",
                   "s3:x-amz-acl": "bucket-owner-full-control"}
            checks = self.service_put_checks("delivery.logs.amazonaws.com", b, key, ctx, acl_check=False)
            algo, kref, _ = m.bucket_sse(b)
            if algo == "aws:kms":
                checks.append(("bucket key", self.ck.kms_use(iam.service_principal("delivery.logs.amazonaws.com"), kref,
                                                             ["kms:GenerateDataKey"], ctx)))
            what = str(m.get(src, "resourceArn")).split(":")[2] if m.get(src, "resourceArn") else "vended"
            self.add(f"{what} {m.get(src, 'logType')} ({m.get(src, 'name')})", f"bucket {m.get(b, 'bucket')}",
                     "s3:PutObject", "allow", checks, "logs")
        for dist in m.of_type("aws:cloudfront/distribution:Distribution"):
            lc = m.get(dist, "loggingConfig") or {}
            if not lc.get("bucket"):
                continue
            bname = str(lc["bucket"]).split(".s3")[0]
            b = m.bucket(bname)
            if b in (None, Unknown):
                continue
            owner = None
            for oc in m.of_type("aws:s3/bucketOwnershipControls:BucketOwnershipControls"):
                if oc.props.get("bucket") == bname:
                    owner = ((oc.props.get("rule") or {}).get("objectOwnership"))
            ok = owner != "BucketOwnerEnforced"
            self.add(f"CloudFront {dist.name} (legacy logs)", f"bucket {bname}", "ACL write", "allow",
                     [("bucket ACLs", Verdict(ok, f"object ownership {owner}" if ok else
                                              "legacy CloudFront logs need ACLs; the bucket enforces bucket-owner ownership"))],
                     "logs")

    # ------------------------------------------------------------------ replication and DR
    def replication(self):
        m = self.m
        for rc in m.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
            role = m.role_by_arn(m.get(rc, "role"))
            src = m.bucket(m.get(rc, "bucket"))
            if src in (None, Unknown):
                continue
            src_arn = m.arn(src)
            src_region = m.region_of(src)
            for rule in m.get(rc, "rules") or []:
                dest = rule.get("destination") or {}
                dst = m.bucket(dest.get("bucket"))
                if dst in (None, Unknown):
                    continue
                dst_arn = m.arn(dst)
                dst_region = m.region_of(dst)
                checks = [("trust", self.ck.trust(role, "s3.amazonaws.com"))]
                checks.append((f"{self.role_label(role)} read source",
                               self.ck.role_can(role, "s3:GetObjectVersionForReplication", f"{src_arn}/x")))
                checks.append((f"{self.role_label(role)} s3:GetReplicationConfiguration",
                               self.ck.role_can(role, "s3:GetReplicationConfiguration", src_arn)))
                checks.append((f"{self.role_label(role)} s3:ReplicateObject",
                               self.ck.role_can(role, "s3:ReplicateObject", f"{dst_arn}/x")))
                algo, skey, sbk = m.bucket_sse(src)
                if algo == "aws:kms" and isinstance(role, Role):
                    checks.append(("source key", self.ck.kms_use(
                        role.principal(), skey, ["kms:Decrypt"],
                        {"kms:ViaService": _via("s3", src_region), "kms:CallerAccount": m.account,
                         "kms:EncryptionContext:aws:s3:arn": src_arn if sbk else f"{src_arn}/x"}, role=role)))
                self.add(f"replication role {self.role_label(role)}", f"DR bucket {m.get(dst, 'bucket')}",
                         "s3:ReplicateObject", "allow", checks, "dr")
                rkey = (dest.get("encryptionConfiguration") or {}).get("replicaKmsKeyId")
                if rkey and isinstance(role, Role):
                    key = m.key(rkey)
                    kchecks = [("replica key", self.ck.kms_use(
                        role.principal(), rkey, ["kms:Encrypt", "kms:GenerateDataKey"],
                        {"kms:ViaService": _via("s3", dst_region), "kms:CallerAccount": m.account,
                         "kms:EncryptionContext:aws:s3:arn": f"{dst_arn}/x"}, role=role))]
                    if key not in (None, Unknown, "aws-managed"):
                        kr = m.region_of(key)
                        kchecks.append(("key region", Verdict(kr == dst_region, f"key in {kr}" +
                                                              ("" if kr == dst_region else f", bucket in {dst_region}"))))
                    self.add(f"replication role {self.role_label(role)}", f"DR key {getattr(key, 'name', rkey)}",
                             "kms:Encrypt", "allow", kchecks, "dr")
        # AWS Backup copies to another region's vault
        for plan_r in m.of_type("aws:backup/plan:Plan"):
            selections = [s for s in m.of_type("aws:backup/selection:Selection")
                          if m.dep(s, "planId") is plan_r or m.get(s, "planId") == m.get(plan_r, "id")]
            roles = {m.get(s, "iamRoleArn") for s in selections}
            for rule in m.get(plan_r, "rules") or []:
                for ca in rule.get("copyActions") or []:
                    vault = m.find(ca.get("destinationVaultArn"), "aws:backup/vault:Vault")
                    if vault in (None, Unknown):
                        continue
                    for rarn in sorted(roles, key=str):
                        role = m.role_by_arn(rarn)
                        checks = [("trust", self.ck.trust(role, "backup.amazonaws.com")),
                                  (f"{self.role_label(role)} backup:CopyIntoBackupVault",
                                   self.ck.role_can(role, "backup:CopyIntoBackupVault", m.arn(vault)))]
                        if isinstance(role, Role) and m.get(vault, "kmsKeyArn"):
                            checks.append(("vault key", self.ck.kms_use(
                                role.principal(), m.get(vault, "kmsKeyArn"), ["kms:CreateGrant", "kms:DescribeKey"],
                                {"kms:GrantIsForAWSResource": True, "kms:ViaService": _via("backup", m.region_of(vault))},
                                role=role)))
                        self.add(f"backup role {self.role_label(role)}", f"vault {m.get(vault, 'name')} ({m.region_of(vault)})",
                                 "backup:CopyIntoBackupVault", "allow", checks, "dr")
        # replicas and their DR keys (DynamoDB replica, RDS cross-region replica / backup replication)
        acct = iam.account_principal(m.account)
        for r, key_prop, svc in ([(x, "kmsKeyArn", "dynamodb") for x in m.of_type("aws:dynamodb/tableReplica:TableReplica")] +
                                 [(x, "kmsKeyId", "rds") for x in m.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")] +
                                 [(x, "kmsKeyId", "rds") for x in m.of_type("aws:rds/instance:Instance")
                                  if x.props.get("replicateSourceDb") and m.region_of(x) != self.primary]):
            region = m.region_of(r)
            kref = m.get(r, key_prop)
            key = m.key(kref)
            checks = [("key", self.ck.kms_use(acct, kref, ["kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey"],
                                               {"kms:ViaService": _via(svc, region), "kms:CallerAccount": m.account}))]
            if key not in (None, Unknown, "aws-managed"):
                kr = m.region_of(key)
                checks.append(("key region", Verdict(kr == region, f"key in {kr}" + ("" if kr == region else f", replica in {region}"))))
            elif key is None:
                checks = [("key", Verdict(False, "the replica names no customer managed key"))]
            self.add(f"replica {r.name} ({region})", f"DR key {getattr(key, 'name', kref)}", f"{svc} via kms", "allow",
                     checks, "dr")

    # ------------------------------------------------------------------ delivery
    def repo_of(self, service):
        m = self.m
        for r in m.of_type("aws:ecr/repository:Repository"):
            t = _tags(m, r)
            if t.get("Image") == service or t.get("Service") == service or str(m.get(r, "name")).endswith("/" + service):
                if m.region_of(r) == self.primary:
                    return r
        return None

    def delivery(self):
        m = self.m
        projects = m.of_type("aws:codebuild/project:Project")
        svc_of = {}
        for p in projects:
            t = _tags(m, p)
            svc = t.get("Service")
            if not svc:
                for rec in getattr(self, "_records", []):
                    if rec["name"] in str(m.get(p, "name")):
                        svc = rec["name"]
            svc_of[p.urn] = svc
        push = ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                "ecr:BatchCheckLayerAvailability"]
        services = sorted({s for s in svc_of.values() if s})
        for p in projects:
            role = m.role_by_arn(m.get(p, "serviceRole"))
            name = m.get(p, "name") or p.name
            svc = svc_of[p.urn]
            if svc:
                repo = self.repo_of(svc)
                if repo is not None:
                    checks = [("trust", self.ck.trust(role, "codebuild.amazonaws.com")),
                              (f"{self.role_label(role)} ecr:GetAuthorizationToken",
                               self.ck.role_can(role, "ecr:GetAuthorizationToken", "*"))]
                    checks += [(f"{self.role_label(role)} {a}", self.ck.role_can(role, a, m.arn(repo))) for a in push]
                    self.add(f"build {name}", f"repository {m.get(repo, 'name')}", "ecr:PutImage", "allow", checks,
                             "delivery")
                others = [s for s in services if s != svc]
                other = self.repo_of(others[0]) if others else None
                if other is None:
                    other = next((r for r in m.of_type("aws:ecr/repository:Repository") if r is not repo), None)
                if other is not None:
                    self.add(f"build {name}", f"repository {m.get(other, 'name')} (another service's)", "ecr:PutImage",
                             "deny", [(f"{self.role_label(role)} ecr:PutImage",
                                       self.ck.role_can(role, "ecr:PutImage", m.arn(other)))], "delivery")
            lc = ((m.get(p, "logsConfig") or {}).get("cloudwatchLogs") or {})
            group = lc.get("groupName") or f"/aws/codebuild/{name}"
            garn = f"arn:aws:logs:{m.region_of(p)}:{m.account}:log-group:{group}:log-stream:x"
            self.add(f"build {name}", f"log group {group}", "logs:PutLogEvents", "allow",
                     [(f"{self.role_label(role)} {a}", self.ck.role_can(role, a, garn))
                      for a in ("logs:CreateLogStream", "logs:PutLogEvents")], "delivery")
        for pl in m.of_type("aws:codepipeline/pipeline:Pipeline"):
            role = m.role_by_arn(m.get(pl, "roleArn"))
            pname = m.get(pl, "name") or pl.name
            stores = m.get(pl, "artifactStores") or []
            store = stores[0] if stores else {}
            b = m.bucket(store.get("location")) if store.get("location") else None
            for stage in m.get(pl, "stages") or []:
                for act in stage.get("actions") or []:
                    cfg = act.get("configuration") or {}
                    provider = act.get("provider")
                    if provider == "CodeBuild" and cfg.get("ProjectName"):
                        proj = next((p for p in projects if m.get(p, "name") == cfg["ProjectName"]), None)
                        parn = m.arn(proj) if proj is not None else \
                            f"arn:aws:codebuild:{m.region_of(pl)}:{m.account}:project/{cfg['ProjectName']}"
                        self.add(f"pipeline {pname}", f"build {cfg['ProjectName']}", "codebuild:StartBuild", "allow",
                                 [("trust", self.ck.trust(role, "codepipeline.amazonaws.com")),
                                  (f"{self.role_label(role)} codebuild:StartBuild",
                                   self.ck.role_can(role, "codebuild:StartBuild", parn))], "delivery")
                        if proj is not None and b not in (None, Unknown):
                            brole = m.role_by_arn(m.get(proj, "serviceRole"))
                            checks = self.s3_object_checks(brole, b, "s3:GetObject", ["kms:Decrypt"]) + \
                                self.s3_object_checks(brole, b, "s3:PutObject", ["kms:GenerateDataKey"])
                            self.add(f"build {cfg['ProjectName']}", f"artifacts bucket {m.get(b, 'bucket')}",
                                     "s3:GetObject/PutObject", "allow", checks, "delivery")
                    if provider in ("ECS", "CodeDeployToECS") and (cfg.get("ServiceName") or cfg.get("ClusterName")):
                        svc = next((s for s in m.of_type("aws:ecs/service:Service") if m.get(s, "name") == cfg.get("ServiceName")), None)
                        sarn = m.arn(svc) if svc is not None else \
                            f"arn:aws:ecs:{m.region_of(pl)}:{m.account}:service/{cfg.get('ClusterName')}/{cfg.get('ServiceName')}"
                        checks = [(f"{self.role_label(role)} ecs:UpdateService", self.ck.role_can(role, "ecs:UpdateService", sarn))]
                        rec = next((r for r in getattr(self, "_records", []) if r["service"] is svc), None)
                        if rec is not None:
                            for rk in ("task_role", "exec_role"):
                                tr = rec[rk]
                                if isinstance(tr, Role):
                                    checks.append((f"iam:PassRole {tr.name}", self.ck.role_can(
                                        role, "iam:PassRole", tr.arn, {"iam:PassedToService": "ecs-tasks.amazonaws.com"})))
                        self.add(f"pipeline {pname}", f"ECS service {cfg.get('ServiceName')}", "ecs:UpdateService", "allow",
                                 checks, "delivery")

    # ------------------------------------------------------------------ ML training network
    def training(self):
        """Multi-instance training jobs launched into the VPC talk to each other (NCCL/torch.distributed,
        port 29500 and up) inside the security groups they are given."""
        m = self.m
        for fn in m.of_type("aws:lambda/function:Function"):
            env = ((m.get(fn, "environment") or {}).get("variables") or {})
            sgs = env.get("SECURITY_GROUP_IDS")
            if not sgs or not any("SAGEMAKER" in k for k in env):
                continue
            ids = [x for x in str(sgs).split(",") if x] if not is_unknown(sgs) else Unknown
            v = self.ck.sg_path(ids, ids, 29500) if ids is not Unknown else Verdict(None, "security groups unknown")
            self.add(f"training node (jobs of {m.get(fn, 'name')})", "training node (same job)", "TCP :29500 (distributed)",
                     "allow", [("network", v)], "ml")

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
        # the database master secret: no service may read it
        db = self.primary_db(self.primary)
        if db is not None and records:
            mus = m.get(db, "masterUserSecrets") or []
            sarn = mus[0].get("secretArn") if mus and isinstance(mus[0], dict) else None
            if sarn:
                rec = records[0]
                checks = [(f"{self.role_label(rec[rk])} GetSecretValue",
                           self.ck.role_can(rec[rk], "secretsmanager:GetSecretValue", sarn)) for rk in ("exec_role", "task_role")]
                self.add(rec["name"], "database master secret", "secretsmanager:GetSecretValue", "deny",
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


def _registry_rules(m: Model) -> list:
    out = []
    for rc in m.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration"):
        for rule in ((m.get(rc, "replicationConfiguration") or {}).get("rules") or []):
            out.append((rc, rule))
    return out


def _replicates(rule, repo_name) -> Tri:
    filters = rule.get("repositoryFilters") or []
    if is_unknown(filters) or is_unknown(repo_name):
        return None
    if not filters:
        return True
    return any(f.get("filterType", "PREFIX_MATCH") == "PREFIX_MATCH" and str(repo_name).startswith(f.get("filter", ""))
               for f in filters)


def _any_allowed(checks) -> Verdict:
    """For a forbidden flow: allowed if ANY of the principals is allowed."""
    vals = [v.allowed for _, v in checks]
    if any(v is True for v in vals):
        lbl, v = next((lbl, v) for lbl, v in checks if v.allowed is True)
        return Verdict(True, f"{lbl}: {v.reason}")
    if any(v is None for v in vals):
        lbl, v = next((lbl, v) for lbl, v in checks if v.allowed is None)
        return Verdict(None, f"{lbl}: {v.reason}")
    return Verdict(False, "; ".join(f"{lbl}: {v.reason}" for lbl, v in checks[:2]) if checks else "no principal")


def build_flows(plan, others: dict | None = None) -> list[Flow]:
    return Catalogue(plan, others).build()
