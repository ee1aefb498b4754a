"""Replication and backup to the DR region, replicas and their keys; the training network."""
from __future__ import annotations

from . import iam
from .common import FlowHost, _any_allowed, _via
from .iam import Unknown, Verdict, is_unknown
from .model import Role


class DrFlows(FlowHost):
    """Mixed into catalogue.Catalogue (self.m model, self.ck checker, self.add)."""

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
                # both directions (two-way: the DR replicas replicate back to the primary buckets)
                side = "DR" if dst_region != self.primary else "primary"
                self.add(f"replication role {self.role_label(role)}", f"{side} bucket {m.get(dst, 'bucket')}",
                         "s3:ReplicateObject", "allow", checks, "dr")
                # one role per direction: a role may not write into the bucket it replicates from (a role with
                # both directions' grants could loop objects back over their sources)
                self.add(f"replication role {self.role_label(role)}", f"its source bucket {m.get(src, 'bucket')}",
                         "s3:ReplicateObject", "deny",
                         [(f"{self.role_label(role)} s3:ReplicateObject",
                           self.ck.role_can(role, "s3:ReplicateObject", f"{src_arn}/x"))], "dr")
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
                    self.add(f"replication role {self.role_label(role)}", f"{side} key {getattr(key, 'name', rkey)}",
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

    # ------------------------------------------------------------------ DR services stay in their region
    def dr_service_forbidden(self, rec, who, uses):
        """A DR service must not reach the primary region's queues or bus: after a regional outage they are gone,
        and while on standby (warm-standby: running tasks) a DR consumer would steal the primary's messages."""
        m = self.m
        role = rec["task_role"]
        for key in uses.get("queues") or []:
            q = self.find_queue(key, self.primary)
            if q is None:
                continue
            qarn = m.arn(q)
            checks = [(f"{self.role_label(role)} {a}", self.ck.role_can(role, a, qarn))
                      for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage")]
            self.add(who, f"primary-region queue {m.get(q, 'name')}", "sqs:ReceiveMessage", "deny",
                     [("any consume action", _any_allowed(checks))], "dr")
        bus = self.bus(self.primary)
        for detail in uses.get("publishes") or []:
            if bus is None:
                break
            ctx = {"events:detail-type": detail}
            v = self.ck.role_can(role, "events:PutEvents", m.arn(bus), ctx)
            self.add(who, f"primary-region event bus {m.get(bus, 'name')} ({detail})", "events:PutEvents", "deny",
                     [(f"{self.role_label(role)} events:PutEvents", v)], "dr")

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
            if is_unknown(sgs):
                v = Verdict(None, "security groups unknown")
            else:
                ids = [x for x in str(sgs).split(",") if x]
                v = self.ck.sg_path(ids, ids, 29500)
            self.add(f"training node (jobs of {m.get(fn, 'name')})", "training node (same job)", "TCP :29500 (distributed)",
                     "allow", [("network", v)], "ml")
