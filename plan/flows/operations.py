"""Operational flows: schedules reach their targets, the off-hours scheduler has something it may stop, ML
jobs can still read old models and datasets, and no two stacks manage the same account-level singleton."""
from __future__ import annotations

from .iam import Verdict, is_unknown
from .model import Role, Unknown

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
    # more account-level settings one stack per account owns (issue 24: stacks must not overwrite each other's)
    "aws:cfg/deliveryChannel:DeliveryChannel": ("AWS Config delivery channel", "region"),
    "aws:cfg/recorderStatus:RecorderStatus": ("AWS Config recorder status", "region"),
    "aws:ebs/defaultKmsKey:DefaultKmsKey": ("EBS default KMS key", "region"),
    "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess": ("EBS snapshot public access block", "region"),
    "aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess": ("AMI public access block", "region"),
    "aws:ec2/serialConsoleAccess:SerialConsoleAccess": ("EC2 serial console access", "region"),
    "aws:ecs/accountSettingDefault:AccountSettingDefault": ("ECS account setting default", "region"),
    "aws:ecr/accountSetting:AccountSetting": ("ECR account setting", "region"),
    "aws:iam/accountAlias:AccountAlias": ("IAM account alias", "account"),
    "aws:macie2/account:Account": ("Macie", "region"),
    "aws:inspector2/enabler:Enabler": ("Inspector", "region"),
    "aws:cloudwatch/logAccountPolicy:LogAccountPolicy": ("CloudWatch Logs account policy", "region"),
    "aws:ssm/serviceSetting:ServiceSetting": ("SSM service setting", "region"),
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


def _orchestrator(m):
    """The training orchestrator: the function whose environment names the SageMaker role."""
    for fn in m.of_type("aws:lambda/function:Function"):
        env = ((m.get(fn, "environment") or {}).get("variables") or {})
        if "SAGEMAKER_ROLE_ARN" in env and "ALLOWED_INSTANCE_TYPES" in env:
            return fn, env
    return None, {}


def training(c):
    """Issue 30: a person or CI holding the ml-submitter policy can start the training path (a request object, a
    request event, a training image) and nothing more; the orchestrator starts only bounded jobs; the SageMaker
    role can use the key and the locations a job is given."""
    from . import iam
    m, ck = c.m, c.ck
    policy = next((p for p in m.of_type("aws:iam/policy:Policy")
                   if str(m.get(p, "name") or "").endswith("-ml-submitter")), None)
    fn, env = _orchestrator(m)
    if policy is None or fn is None:
        return
    region = m.region_of(fn)
    who = "ml-submitter (a person or CI holding the policy)"
    doc = m.get(policy, "policy")
    holder = Role(urn="", name="ml-submitter holder", arn=f"arn:aws:iam::{m.account}:role/ml-submitter-holder",
                  tags={}, trust=None, identity=[("ml-submitter", Unknown if is_unknown(doc) else iam.parse_document(doc))],
                  unmodelled=[])
    bus = f"arn:aws:events:{region}:{m.account}:event-bus/default"
    # 1. the request: an object under the S3 trigger's prefix (the orchestrator reads it), or a request event
    rule = next((r for r in m.of_type("aws:cloudwatch/eventRule:EventRule")
                 if "training-requests-s3" in str(m.get(r, "name") or "")), None)
    pattern = m.get(rule, "eventPattern") if rule is not None else None
    if pattern and not is_unknown(pattern):
        import json
        p = json.loads(pattern) if isinstance(pattern, str) else pattern
        bucket_name = p["detail"]["bucket"]["name"][0]
        prefix = p["detail"]["object"]["key"][0]["prefix"]
        key_arn = f"arn:aws:s3:::{bucket_name}/{prefix}flow-check.json"
        bucket = m.bucket(bucket_name)
        _, key_ref, _ = m.bucket_sse(bucket) if bucket is not None else ("", None, False)
        via = {"kms:ViaService": f"s3.{region}.amazonaws.com"}
        c.add(who, f"s3://{bucket_name}/{prefix} (a training request)", "s3:PutObject", "allow",
              [("ml-submitter s3:PutObject", ck.role_can(holder, "s3:PutObject", key_arn)),
               ("data key", ck.kms_use(holder.principal(), key_ref, ["kms:GenerateDataKey"], via, role=holder))],
              "ml")
        orch = m.role_by_arn(m.get(fn, "role"))
        c.add(f"training orchestrator {m.get(fn, 'name')}", f"s3://{bucket_name}/{prefix} (the request)",
              "s3:GetObject", "allow",
              [("orchestrator s3:GetObject", ck.role_can(orch, "s3:GetObject", key_arn)),
               ("data key", ck.kms_use(orch.principal() if isinstance(orch, Role) else iam.Principal("role"),
                                       key_ref, ["kms:Decrypt"], via, role=orch))], "ml")
        datasets = f"arn:aws:s3:::{bucket_name}/datasets/flow-check"
        c.add(who, f"s3://{bucket_name}/datasets/ (not a request)", "s3:PutObject", "deny",
              [("ml-submitter s3:PutObject", ck.role_can(holder, "s3:PutObject", datasets))], "ml")
    c.add(who, "default event bus (Training Request)", "events:PutEvents", "allow",
          [("ml-submitter events:PutEvents", ck.role_can(holder, "events:PutEvents", bus, {
              "events:source": "ai-platform.ml", "events:detail-type": "Training Request"}))], "ml")
    c.add(who, "default event bus (any other event)", "events:PutEvents", "deny",
          [("ml-submitter events:PutEvents", ck.role_can(holder, "events:PutEvents", bus, {
              "events:source": "ai-platform.ml", "events:detail-type": "Training Request Rejected"}))], "ml")
    # 2. training images: the ML repositories, not the services'
    ml_repos = [x for x in str(env.get("ALLOWED_IMAGE_REPOSITORIES", "")).split(",") if x]
    repos = [m.get(r, "name") for r in m.of_type("aws:ecr/repository:Repository")
             if m.region_of(r) == region and not is_unknown(m.get(r, "name"))]
    service_repos = [n for n in repos if n not in ml_repos]
    # sorted: registration order differs from run to run (the SDK registers concurrently)
    for name in sorted(n for n in repos if n in ml_repos) + sorted(service_repos)[:1]:   # one service repository shows the boundary
        repo_arn = f"arn:aws:ecr:{region}:{m.account}:repository/{name}"
        mine = name in ml_repos
        c.add(who, f"ECR {name}", "ecr:PutImage", "allow" if mine else "deny",
              [("ml-submitter ecr:PutImage", ck.role_can(holder, "ecr:PutImage", repo_arn))], "ml")
    # 3. the orchestrator starts bounded jobs only
    orch = m.role_by_arn(m.get(fn, "role"))
    allowed = [x for x in str(env.get("ALLOWED_INSTANCE_TYPES", "")).split(",") if x]
    prefix = env.get("JOB_NAME_PREFIX")
    if allowed and prefix and not is_unknown(prefix) and not is_unknown(env.get("OUTPUT_KMS_KEY_ARN")):
        job = f"arn:aws:sagemaker:{region}:{m.account}:training-job/{str(prefix).lower()}-flowcheck"
        key = env["OUTPUT_KMS_KEY_ARN"]
        limit = int(env.get("MAX_RUNTIME_LIMIT_SECONDS", "0"))

        def create(types, runtime):
            return ck.role_can(orch, "sagemaker:CreateTrainingJob", job, {
                "sagemaker:InstanceTypes": types, "sagemaker:MaxRuntimeInSeconds": runtime,
                "sagemaker:OutputKmsKey": key, "sagemaker:VolumeKmsKey": key})
        c.add(f"training orchestrator {m.get(fn, 'name')}", f"SageMaker training job on {allowed[0]}",
              "sagemaker:CreateTrainingJob", "allow", [("bounded request", create([allowed[0]], limit))], "ml")
        c.add(f"training orchestrator {m.get(fn, 'name')}", "SageMaker training job on ml.p5.48xlarge (not allowed)",
              "sagemaker:CreateTrainingJob", "deny", [("instance type", create(["ml.p5.48xlarge"], limit))], "ml")
        c.add(f"training orchestrator {m.get(fn, 'name')}", "SageMaker training job over the runtime limit",
              "sagemaker:CreateTrainingJob", "deny", [("runtime", create([allowed[0]], limit + 1))], "ml")
        # 4. the SageMaker role encrypts with the key the job names (OutputDataConfig.KmsKeyId as an alias)
        sm = m.role_by_arn(env.get("SAGEMAKER_ROLE_ARN"))
        if isinstance(sm, Role):
            c.add(f"SageMaker role {sm.name}", "the data key (output and training volume)", "kms:Encrypt",
                  "allow", [("kms:Encrypt, kms:GenerateDataKey, kms:CreateGrant", ck.kms_use(
                      sm.principal(), key, ["kms:Encrypt", "kms:GenerateDataKey"],
                      {"kms:ViaService": f"sagemaker.{region}.amazonaws.com"}, role=sm))], "ml")
            for uri in str(env.get("ALLOWED_OUTPUT_S3_PREFIXES", "")).split(","):
                if uri and not is_unknown(uri):
                    obj = "arn:aws:s3:::" + uri.removeprefix("s3://") + "flow-check/model.tar.gz"
                    c.add(f"SageMaker role {sm.name}", f"{uri} (an output location the handler admits)",
                          "s3:PutObject", "allow", [("s3:PutObject", ck.role_can(sm, "s3:PutObject", obj))], "ml")


def batch_jobs(c):
    """Issue 30: Batch jobs run as the role their batch.uses contract derives (default: the data lake, read and
    write): the contract's buckets are writable through their key, the others are not."""
    m = c.m
    role = m.role_named("batch-job-role")
    if role is None:
        return
    who = "Batch job (batch-job-role)"
    for key, expected in (("data-lake", "allow"), ("ml-artifacts", "deny")):
        b = c.data_bucket(key, c.primary)
        if b is None:
            continue
        barn = m.arn(b)
        if is_unknown(barn):
            continue
        # the services' own check: the action on an object, and the bucket's key through S3 when SSE-KMS
        checks = c.s3_object_checks(role, b, "s3:PutObject", ["kms:GenerateDataKey"])
        if expected == "deny":
            checks = checks[:1]
        c.add(who, f"{key} bucket {m.get(b, 'bucket') or b.name}", "s3:PutObject", expected, checks, "batch")
