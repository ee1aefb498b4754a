"""Operational flows: schedules reach their targets, the off-hours scheduler has something it may stop, ML
jobs can still read old models and datasets, and no two stacks manage the same account-level singleton."""
from __future__ import annotations

from .iam import Verdict, is_unknown
from .model import Role

ARCHIVE_CLASSES = {"GLACIER", "DEEP_ARCHIVE"}  # GetObject fails until restored (GLACIER_IR is instant)
# (type, scope): one per account ('account') or per account and region ('region')
SINGLETONS = {
    "aws:apigateway/account:Account": ("API Gateway account settings (CloudWatch role)", "region"),
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": ("ECR registry replication", "region"),
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": ("ECR registry scanning", "region"),
    "aws:ecr/registryPolicy:RegistryPolicy": ("ECR registry policy", "region"),
    "aws:iam/accountPasswordPolicy:AccountPasswordPolicy": ("IAM password policy", "account"),
    "aws:guardduty/detector:Detector": ("GuardDuty detector", "region"),
    "aws:cfg/recorder:Recorder": ("AWS Config recorder", "region"),
    "aws:backup/regionSettings:RegionSettings": ("AWS Backup region settings", "region"),
    "aws:ebs/encryptionByDefault:EncryptionByDefault": ("EBS encryption by default", "region"),
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": ("S3 account public access block", "account"),
    "aws:securityhub/account:Account": ("Security Hub", "region"),
}


def schedules(c):
    m, ck = c.m, c.ck
    for s in m.of_type("aws:scheduler/schedule:Schedule"):
        t = m.get(s, "target") or {}
        role = m.role_by_arn(t.get("roleArn"))
        target = m.find(t.get("arn"))
        checks = [("trust", ck.trust(role, "scheduler.amazonaws.com"))]
        if target is not None and not is_unknown(t.get("arn")) and target.type == "aws:lambda/function:Function":
            checks.append((f"{c.role_label(role)} lambda:InvokeFunction", ck.role_can(role, "lambda:InvokeFunction", m.arn(target))))
        c.add(f"schedule {m.get(s, 'name')}", f"{getattr(target, 'name', t.get('arn'))}", "invoke", "allow", checks, "operations")


def offhours(c):
    """The off-hours scheduler (a function given TAG_KEY) must have services it may stop and start."""
    m, ck = c.m, c.ck
    for fn in m.of_type("aws:lambda/function:Function"):
        env = ((m.get(fn, "environment") or {}).get("variables") or {})
        key = env.get("TAG_KEY")
        if not key or "offhours" not in str(m.get(fn, "name")).lower().replace("-", ""):
            continue
        role = m.role_by_arn(m.get(fn, "role"))
        tagged = [r for r in getattr(c, "_records", []) if str((m.get(r["service"], "tags") or {}).get(key, "")).lower() == "true"]
        if not tagged:
            c.add(f"off-hours scheduler {m.get(fn, 'name')}", f"services tagged {key}=true", "stop/start (desired count)", "allow",
                  [("tagged services", Verdict(False, f"no service carries {key}=true: nothing to stop"))], "operations")
            continue
        checks = []
        for rec in tagged:
            sarn = m.arn(rec["service"])
            # the request carries the service's tags, as AWS evaluates aws:ResourceTag/* conditions
            tags = {f"aws:ResourceTag/{k}": v for k, v in (m.get(rec["service"], "tags") or {}).items()}
            checks.append((f"{rec['name']}: {c.role_label(role)} ecs:UpdateService",
                           ck.role_can(role, "ecs:UpdateService", sarn, tags)))
            for tgt in m.of_type("aws:appautoscaling/target:Target"):
                rid = str(m.get(tgt, "resourceId"))
                if rid.endswith("/" + str(m.get(rec["service"], "name"))):
                    lo = m.get(tgt, "minCapacity")
                    ok = lo == 0 or (isinstance(role, Role) and ck.role_can(
                        role, "application-autoscaling:RegisterScalableTarget", "*").allowed)
                    checks.append((f"{rec['name']}: scaling floor", Verdict(bool(ok), f"min capacity {lo}" if ok else
                                   f"scalable target min {lo} would restart what the scheduler stops")))
        c.add(f"off-hours scheduler {m.get(fn, 'name')}", f"services tagged {key}=true", "stop/start (desired count)",
              "allow", checks, "operations")


def _lifecycle_archives(m, bucket, key_prefix):
    name = m.get(bucket, "bucket")
    for lc in m.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"):
        if m.dep(lc, "bucket") is not bucket and m.get(lc, "bucket") != name:
            continue
        for rule in m.get(lc, "rules") or []:
            if rule.get("status") != "Enabled":
                continue
            f = rule.get("filter") or {}
            prefix = f.get("prefix") or (f.get("and") or {}).get("prefix") or rule.get("prefix") or ""
            if not str(key_prefix).startswith(str(prefix)):
                continue
            for t in rule.get("transitions") or []:
                if t.get("storageClass") in ARCHIVE_CLASSES:
                    return t
    return None


def ml_data_age(c):
    """Endpoints and training jobs read models and datasets of any age: no archive tier under those prefixes."""
    m = c.m
    for purpose, prefix, who in (("ml-artifacts", "models/", "SageMaker endpoints and training"),
                                 ("data-lake", "datasets/", "SageMaker training")):
        b = c.data_bucket(purpose, c.primary)
        if b is None:
            continue
        t = _lifecycle_archives(m, b, prefix)
        v = Verdict(t is None, "no archive transition" if t is None else
                    f"objects move to {t.get('storageClass')} after {t.get('days')} days: GetObject fails until restored")
        c.add(who, f"{prefix} in {m.get(b, 'bucket')} older than 90 days", "s3:GetObject", "allow",
              [("lifecycle", v)], "ml")


def singletons(c):
    """Account-level settings managed by two stacks in one account fight (destroying one stack resets the other's)."""
    plans = [(c.plan.stack, c.m)]
    from .model import Model
    for name, plan in sorted(c.others.items()):
        plans.append((name, Model(plan) if plan is not c.plan else c.m))
    if len(plans) < 2:
        return
    me, mm = plans[0]
    for token, (label, scope) in SINGLETONS.items():
        mine = mm.of_type(token)
        if not mine:
            continue
        where = f" ({mm.region_of(mine[0])})" if scope == "region" else ""
        for name, om in plans[1:]:
            theirs = [r for r in om.of_type(token) if om.account == mm.account and
                      (scope == "account" or om.region_of(r) == mm.region_of(mine[0]))]
            v = Verdict(bool(theirs), f"both stacks manage it in account {mm.account}" if theirs else
                        f"only {me} manages it")
            c.add(f"stack {name}", f"{label}{where} managed by stack {me}", "manage the same singleton", "deny",
                  [("ownership", v)], "isolation")
