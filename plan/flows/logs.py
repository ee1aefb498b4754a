"""Audit and access logs: CloudTrail, Config, VPC flow logs, S3 server access logs, ALB and CloudFront logs."""
from __future__ import annotations

from . import iam
from .common import FlowHost, _via
from .iam import Unknown, Verdict, t_and
from .model import ELB_ACCOUNTS, Role


class LogsFlows(FlowHost):
    """Mixed into catalogue.Catalogue (self.m model, self.ck checker, self.add)."""

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
                # S3 calls KMS in the bucket's region: a channel in another region (the DR region's recorder
                # delivering to the primary's audit bucket) still encrypts through s3.<bucket's region>.
                checks.append(("key", self.ck.kms_use(kp, kref, ["kms:GenerateDataKey"],
                                                      {"kms:ViaService": _via("s3", m.region_of(b)),
                                                       "kms:CallerAccount": m.account,
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
                self.add(f"VPC flow log {fl.name}" + ("" if m.region_of(fl) == self.primary else f" (DR {m.region_of(fl)})"), f"log group {garn.split(':log-group:')[-1]}", "logs:PutLogEvents",
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
                self.add(f"VPC flow log {fl.name}" + ("" if m.region_of(fl) == self.primary else f" (DR {m.region_of(fl)})"), f"bucket {m.get(b, 'bucket')}", "s3:PutObject", "allow", checks, "logs")

        self.invocation_logs()

    def invocation_logs(self):
        """Bedrock model invocation logging (issue 25): Bedrock puts the logs in the bucket (and its key) as
        itself, and writes the log group through the role it is given."""
        m = self.m
        for cfg in m.of_type("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"):
            lc = m.get(cfg, "loggingConfig") or {}
            region = m.region_of(cfg)
            ctx = {"aws:SourceAccount": m.account,
                   "aws:SourceArn": f"arn:aws:bedrock:{region}:{m.account}:model-invocation-logging"}
            s3 = lc.get("s3Config") or {}
            b = m.bucket(s3.get("bucketName"))
            if b not in (None, Unknown):
                prefix = s3.get("keyPrefix")
                key = f"{prefix + '/' if prefix else ''}AWSLogs/{m.account}/BedrockModelInvocationLogs/{region}/x.json.gz"
                checks = self.service_put_checks("bedrock.amazonaws.com", b, key, ctx, acl_check=False)
                algo, kref, bucket_key = m.bucket_sse(b)
                if algo == "aws:kms":
                    checks.append(("bucket key", self.ck.kms_use(
                        iam.service_principal("bedrock.amazonaws.com"), kref, ["kms:GenerateDataKey"],
                        {**ctx, "kms:ViaService": _via("s3", m.region_of(b)), "kms:CallerAccount": m.account,
                         "kms:EncryptionContext:aws:s3:arn": m.arn(b) if bucket_key else f"{m.arn(b)}/{key}"})))
                self.add("Bedrock invocation logging", f"bucket {m.get(b, 'bucket')}", "s3:PutObject", "allow", checks,
                         "logs")
            cw = lc.get("cloudwatchConfig") or {}
            if cw.get("roleArn"):
                role = m.role_by_arn(cw.get("roleArn"))
                group = m.find(cw.get("logGroupName"), "aws:cloudwatch/logGroup:LogGroup")
                garn = m.arn(group) if group not in (None, Unknown) else Unknown
                checks = [("trust", self.ck.trust(role, "bedrock.amazonaws.com"))]
                if garn is Unknown:
                    checks.append(("log group", Verdict(None, "log group unknown until apply")))
                else:
                    checks.append((f"{self.role_label(role)} logs:PutLogEvents", self.ck.role_can(
                        role, "logs:PutLogEvents", f"{str(garn).removesuffix(':*')}:log-stream:aws/bedrock/modelinvocations")))
                self.add("Bedrock invocation logging", f"log group {cw.get('logGroupName')}", "logs:PutLogEvents",
                         "allow", checks, "logs")

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
            acl_ok = owner != "BucketOwnerEnforced"
            self.add(f"CloudFront {dist.name} (legacy logs)", f"bucket {bname}", "ACL write", "allow",
                     [("bucket ACLs", Verdict(acl_ok, f"object ownership {owner}" if acl_ok else
                                              "legacy CloudFront logs need ACLs; the bucket enforces bucket-owner ownership"))],
                     "logs")
