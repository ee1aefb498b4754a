"""Delivery: builds push to their own repository, write logs and artifacts; pipelines start builds and update services."""
from __future__ import annotations

from .common import FlowHost, _tags
from .iam import Unknown
from .model import Role


class DeliveryFlows(FlowHost):
    """Mixed into catalogue.Catalogue (self.m model, self.ck checker, self.add)."""

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
                        # the pipeline's region first (a DR region runs services of the same names)
                        named = [s for s in m.of_type("aws:ecs/service:Service") if m.get(s, "name") == cfg.get("ServiceName")]
                        svc = next((s for s in named if m.region_of(s) == m.region_of(pl)), next(iter(named), None))
                        sarn = m.arn(svc) if svc is not None else \
                            f"arn:aws:ecs:{m.region_of(pl)}:{m.account}:service/{cfg.get('ClusterName')}/{cfg.get('ServiceName')}"
                        checks = [(f"{self.role_label(role)} ecs:UpdateService", self.ck.role_can(role, "ecs:UpdateService", sarn))]
                        rec = next((r for r in getattr(self, "_records", []) if r["service"] is svc), None)
                        if rec is not None:
                            for rk in ("task_role", "exec_role"):
                                tr = rec[rk]
                                if isinstance(tr, Role):
                                    # the passed role's tags are the resource's tags (iam:ResourceTag/*)
                                    tags = {f"iam:ResourceTag/{k}": v for k, v in (tr.tags or {}).items()}
                                    checks.append((f"iam:PassRole {tr.name}", self.ck.role_can(
                                        role, "iam:PassRole", tr.arn,
                                        {"iam:PassedToService": "ecs-tasks.amazonaws.com", **tags})))
                        self.add(f"pipeline {pname}", f"ECS service {cfg.get('ServiceName')}", "ecs:UpdateService", "allow",
                                 checks, "delivery")
                    if provider == "Lambda" and cfg.get("FunctionName"):
                        self.pipeline_lambda(pl, pname, role, cfg)

    def pipeline_lambda(self, pl, pname, role, cfg):
        """A Lambda invoke action (the unpark action): the pipeline may invoke the function, and the function may
        do what its parameters name (set the desired count and the scaling floor of that service, report the job)."""
        import json

        m = self.m
        region = m.region_of(pl)
        fn = next((f for f in m.of_type("aws:lambda/function:Function") if m.get(f, "name") == cfg["FunctionName"]), None)
        farn = m.arn(fn) if fn is not None else f"arn:aws:lambda:{region}:{m.account}:function:{cfg['FunctionName']}"
        self.add(f"pipeline {pname}", f"function {cfg['FunctionName']}", "lambda:InvokeFunction", "allow",
                 [(f"{self.role_label(role)} lambda:InvokeFunction", self.ck.role_can(role, "lambda:InvokeFunction", farn))],
                 "delivery")
        try:
            params = json.loads(cfg.get("UserParameters") or "{}")
        except (TypeError, ValueError):
            return
        if fn is None or not isinstance(params, dict) or not params.get("service"):
            return
        frole = m.role_by_arn(m.get(fn, "role"))
        sarn = f"arn:aws:ecs:{region}:{m.account}:service/{params.get('cluster')}/{params['service']}"
        target = f"arn:aws:application-autoscaling:{region}:{m.account}:scalable-target/flowcheck"
        scaling = {"application-autoscaling:service-namespace": "ecs",
                   "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount"}
        self.add(f"function {cfg['FunctionName']}", f"ECS service {params['service']} (unpark)",
                 "ecs:UpdateService + RegisterScalableTarget", "allow", [
                     ("trust", self.ck.trust(frole, "lambda.amazonaws.com")),
                     (f"{self.role_label(frole)} ecs:UpdateService", self.ck.role_can(frole, "ecs:UpdateService", sarn)),
                     (f"{self.role_label(frole)} RegisterScalableTarget", self.ck.role_can(
                         frole, "application-autoscaling:RegisterScalableTarget", target, scaling)),
                     (f"{self.role_label(frole)} PutJobSuccessResult",
                      self.ck.role_can(frole, "codepipeline:PutJobSuccessResult", "*"))], "delivery")
