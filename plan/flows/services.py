"""Service flows: each service to what its contract says it uses (database, cache, queues, bus, buckets, tables, models, secrets)."""
from __future__ import annotations

from typing import Any

from . import iam
from .common import APP_KEY, DESIGN_HINTS, FlowHost, _tags, _via
from .iam import Unknown, Verdict, is_unknown
from .model import Role, loads


class ServicesFlows(FlowHost):
    """Mixed into catalogue.Catalogue (self.m model, self.ck checker, self.add)."""

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
        defaults: dict = {}
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
            if name in defaults:
                d = defaults[name]
                d = d.get("uses", d) if isinstance(d, dict) else None
                if isinstance(d, dict):
                    # the stack's entries add to the catalogue's contract, as the program merges them
                    from components.config.application import merge_uses
                    uses = merge_uses(d, uses)
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
                self.dr_service_forbidden(rec, who, uses)

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
        v = self.ck.role_can(rec["task_role"], "rds-db:connect", res) if isinstance(res, str) else \
            Verdict(None, "DB resource id unknown until apply")
        return (f"{self.role_label(rec['task_role'])} rds-db:connect as {user}", v)

    def env_value(self, rec, name) -> Any:
        """The value of environment variable `name` in the service's containers (Unknown when the container
        definitions are, None when no container is given it)."""
        containers = rec["containers"]
        if containers is Unknown:
            return Unknown
        for c in containers:
            for e in c.get("environment") or []:
                if isinstance(e, dict) and e.get("name") == name:
                    return e.get("value")
        return None

    def given_db(self, rec, region, mode) -> tuple:
        """(instance, how it was found): the database whose endpoint the service is given (`DB_HOST` in its
        environment decides which instance's grant, IAM-auth setting and security groups are evaluated: every
        instance, a read replica too, has its own DbiResourceId). When the environment is unknown (a new stack's
        preview), the instance the container definitions were wired from, else the contract's mode (readonly: a
        read replica in the region when there is one)."""
        m = self.m
        dbs = self.in_region(m.of_type("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"), region)
        host = self.env_value(rec, "DB_HOST")
        if isinstance(host, str) and not is_unknown(host):
            for d in dbs:
                for key in ("address", "endpoint", "readerEndpoint"):
                    v = m.get(d, key)
                    if isinstance(v, str) and not is_unknown(v) and host in (v, v.rsplit(":", 1)[0]):
                        return d, f"DB_HOST {host}"
            return None, f"DB_HOST {host} is no database endpoint of the plan in {region}"
        replicas = [d for d in dbs if d.props.get("replicateSourceDb")]
        td = rec["td"]
        if td not in (None, Unknown):
            wired = {u for u in td.propertyDependencies.get("containerDefinitions", [])}
            hits = [d for d in dbs if d.urn in wired]
            if mode == "readonly":
                hits = [d for d in hits if d in replicas] or hits
            else:
                hits = [d for d in hits if d not in replicas] or hits
            if hits:
                return hits[0], "the instance the container definitions are wired from"
        if mode == "readonly" and replicas:
            return replicas[0], "a read replica (readonly contract)"
        return self.primary_db(region), "the region's primary"

    def service_database(self, rec, who, region, mode):
        m = self.m
        if rec["containers"] is not Unknown and self.env_value(rec, "DB_HOST") is None:
            self.add(who, "database", "rds-db:connect", "allow", [("DB_HOST", Verdict(
                False, "the service's containers are given no DB_HOST"))], "service")
            return
        db, how = self.given_db(rec, region, mode)
        if db is None:
            self.add(who, "database", "rds-db:connect", "allow",
                     [("database", Verdict(False, how if "DB_HOST" in how else f"no database in {region}"))], "service")
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
            if t.get("Purpose") == key or t.get("ReplicaOf") == key or b.name in (f"{key}-bucket", key):
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
        sse_key = None
        if table is None:
            for rep in self.in_region(m.of_type("aws:dynamodb/tableReplica:TableReplica"), region):
                garn = m.get(rep, "globalTableArn")
                if isinstance(garn, str) and (garn.endswith("/" + key) or garn.endswith("-" + key)):
                    table, sse_key = rep, m.get(rep, "kmsKeyArn")
                    parts = garn.split(":")
                    parts[3] = region
                    tarn = ":".join(parts)
        if table is None:
            self.add(who, f"table {key}", "dynamodb", "allow", [("table", Verdict(False, f"no table {key}"))], "service")
            return
        if sse_key is None:
            tarn = m.arn(table)
        role = rec["task_role"]
        checks = [(f"{self.role_label(role)} {a}", self.ck.role_can(role, a, tarn))
                  for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")]
        sse = m.get(table, "serverSideEncryption") or {}
        kref = sse_key or (sse.get("kmsKeyArn") if sse.get("enabled") else None)
        if kref and isinstance(role, Role):
            checks.append(("table key", self.ck.kms_use(
                role.principal(), kref, ["kms:Decrypt"],
                {"kms:ViaService": _via("dynamodb", region), "kms:CallerAccount": m.account,
                 "kms:EncryptionContext:aws:dynamodb:tableName": str(tarn).split("/")[-1],
                 "kms:EncryptionContext:aws:dynamodb:subscriberId": m.account}, role=role)))
        self.add(who, f"table {str(tarn).split('/')[-1]}", "dynamodb:GetItem/PutItem/Query", "allow", checks, "service")

    def service_model(self, rec, who, region, model):
        """A model id: the model in the Region. An inference-profile id: the profile, and its model in every
        destination Region with the profile in the request (bedrock:InferenceProfileArn), as Bedrock authorizes a
        routed invoke."""
        from components import bedrock
        role = rec["task_role"]
        label = f"{self.role_label(role)} bedrock:InvokeModel"
        geo, base = bedrock.split(model)
        if geo is None:
            arn = f"arn:aws:bedrock:{region}::foundation-model/{model}"
            self.add(who, f"model {model}", "bedrock:InvokeModel", "allow",
                     [(label, self.ck.role_can(role, "bedrock:InvokeModel", arn))], "service")
            return
        profile = bedrock.profile_arn(region, self.m.account, model)
        checks = [(f"{label} (profile)", self.ck.role_can(role, "bedrock:InvokeModel", profile))]
        for dest in bedrock.GEOGRAPHIES[geo]:
            arn = f"arn:aws:bedrock:{dest if dest != '*' else ''}::foundation-model/{base}"   # global: no Region
            checks.append((f"{label} ({dest})", self.ck.role_can(role, "bedrock:InvokeModel", arn,
                                                                 {"bedrock:InferenceProfileArn": profile})))
        self.add(who, f"model {model} (inference profile)", "bedrock:InvokeModel", "allow", checks, "service")

    def service_secret(self, rec, who, region, key):
        s = self.find_secret(key, region)
        if s is None:
            self.add(who, f"secret {key}", "secretsmanager:GetSecretValue", "allow",
                     [("secret", Verdict(False, f"no secret {key}"))], "service")
            return
        self.add(who, f"secret {self.m.get(s, 'name')}", "secretsmanager:GetSecretValue", "allow",
                 self.secret_read(rec, s), "service")
