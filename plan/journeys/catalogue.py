"""The journeys and how each hop is decided (docs/traffic.md).

A journey is a request (or an upload) of an AI application, walked hop by hop through the recorded plan of the
stack's primary region; each hop is decided against its documented limit (plan/journeys/limits.py). A journey
`expect`s to be delivered or blocked: it passes when every hop delivers it (delivered) or one hop refuses it as
what it is (blocked, with its status reaching the SPA). Unknown values make a hop, and the journey, undecidable.
"""
from __future__ import annotations

import dataclasses
import fnmatch
from typing import Any, cast

from ..flows.iam import Unknown, Verdict, is_unknown
from ..flows.model import Checker, Model, Role, loads
from . import waf
from .limits import LIMITS

MB = 1024 * 1024
INTEGRATION = "aws:apigateway/integration:Integration"
RESOURCE = "aws:apigateway/resource:Resource"
REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
GATEWAY_RESPONSE = "aws:apigateway/response:Response"
ACL = "aws:wafv2/webAcl:WebAcl"
ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
LB = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
RULE = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
TARGET_GROUP = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"

HOPS = ("CloudFront", "WAF", "API Gateway", "VPC link", "load balancer", "target group", "container")


@dataclasses.dataclass
class Hop:
    hop: str
    verdict: Verdict
    limit: str
    source: str

    def to_json(self) -> dict:
        v = self.verdict.allowed
        return {"hop": self.hop, "verdict": "pass" if v is True else "undecidable" if v is None else "refused",
                "reason": self.verdict.reason, "limit": self.limit, "source": self.source}


@dataclasses.dataclass
class Journey:
    name: str
    description: str
    expect: str                          # "delivered" | "blocked"
    hops: list
    promised: bool = True
    # a refusal by the WAF or API Gateway: whether its status reaches the SPA (the gateway response's CORS)
    reaches_user: Verdict | None = None

    @property
    def outcome(self):
        """True delivered, False refused (at `broken_at`), None undecidable."""
        for h in self.hops:
            if h.verdict.allowed is False:
                return False
            if h.verdict.allowed is None:
                return None
        return True if self.hops else False

    @property
    def broken_at(self) -> Hop | None:
        for h in self.hops:
            if h.verdict.allowed is not True:
                return h
        return None

    @property
    def verdict(self) -> str:
        o = self.outcome
        if o is None:
            return "undecidable"
        if self.expect == "delivered":
            return "pass" if o is True else "fail"
        if o is True:
            return "fail"
        r = self.reaches_user
        return "pass" if r is None or r.allowed is True else "undecidable" if r.allowed is None else "fail"

    def to_json(self) -> dict:
        b = self.broken_at
        return {"name": self.name, "description": self.description, "expect": self.expect,
                "promised": self.promised, "verdict": self.verdict,
                "outcome": {True: "delivered", False: "refused", None: "undecidable"}[self.outcome],
                "brokenAt": b.hop if b else None, "reason": b.verdict.reason if b else "every hop delivers it",
                "hops": [h.to_json() for h in self.hops]}


def _hop(name: str, verdict: Verdict, limit: str) -> Hop:
    lim = LIMITS[limit]
    return Hop(name, verdict, lim.text, lim.source)


def _host_allowed(sources: list, host: str) -> bool:
    for src in sources:
        s = src.removeprefix("https://")
        if s == host or (s.startswith("*.") and host.endswith(s[1:])):
            return True
    return False


class Journeys:
    def __init__(self, plan):
        self.plan = plan
        self.m = Model(plan)
        self.ck = Checker(self.m)
        self.region = plan.region
        self._here = [r for r in plan.resources if self.m.region_of(r) == self.region]

    # ------------------------------------------------------------------ lookups
    def of(self, *types) -> list:
        return [r for r in self._here if r.type in types]

    def get(self, r, key, default=None):
        return self.m.get(r, key, default)

    def stage(self):
        stages = self.of(STAGE)
        return stages[0] if stages else None

    def api(self, stage):
        return self.m.ref(stage, "restApi", REST_API) if stage is not None else None

    def acl_of(self, stage):
        arn = self.m.arn(stage)
        for a in self.of(ACL_ASSOCIATION):
            if self.m.dep(a, "resourceArn") is stage or (not is_unknown(arn) and self.get(a, "resourceArn") == arn):
                return self.m.ref(a, "webAclArn", ACL)
        return None

    def route(self, api, path: str):
        """(resource path, integration) API Gateway picks for `path` (without the stage): the most specific
        resource, a static path part before {proxy+}."""
        resources = [r for r in self.of(RESOURCE) if self.m.ref(r, "restApi", REST_API) is api]
        root = self.get(api, "rootResourceId")
        children: dict = {}
        for r in resources:
            children.setdefault(self.get(r, "parentId"), []).append(r)
        node = root
        matched: list = []
        segments = [s for s in path.split("/") if s]
        for seg in segments:
            kids = children.get(node, [])
            static = next((k for k in kids if self.get(k, "pathPart") == seg), None)
            greedy = next((k for k in kids if self.get(k, "pathPart") == "{proxy+}"), None)
            if static is not None:
                node, matched = self.get(static, "id") or static.id, matched + [seg]
                continue
            if greedy is not None:
                node, matched = self.get(greedy, "id") or greedy.id, matched + ["{proxy+}"]
                break
            return "/" + "/".join(matched + [seg]), None
        for integ in self.of(INTEGRATION):
            if self.get(integ, "resourceId") == node and self.get(integ, "httpMethod") in ("ANY", "POST") \
                    and (self.get(integ, "type") or "").upper() in ("HTTP_PROXY", "AWS_PROXY", "MOCK"):
                return "/" + "/".join(matched), integ
        return "/" + "/".join(matched), None

    def alb(self, integ):
        return self.m.ref(integ, "integrationTarget", *LB) if integ is not None else None

    def forward(self, lb, path: str):
        """The target group the ALB's rules send `path` to (rules without a header condition, by priority)."""
        listeners = [ls for ls in self.of(*LISTENER) if self.m.ref(ls, "loadBalancerArn", *LB) is lb]
        https = [ls for ls in listeners if (self.get(ls, "protocol") or "") == "HTTPS"] or listeners
        rules = []
        for ls in https:
            rules += [r for r in self.of(*RULE) if self.m.ref(r, "listenerArn", *LISTENER) is ls]
        for rule in sorted(rules, key=lambda r: int(self.get(r, "priority") or 0)):
            conditions = self.get(rule, "conditions") or []
            if any(c.get("httpHeader") for c in conditions):
                continue
            patterns = [v for c in conditions for v in ((c.get("pathPattern") or {}).get("values") or [])]
            if any(fnmatch.fnmatchcase(path, p) for p in patterns):
                for a in self.get(rule, "actions") or []:
                    arn = a.get("targetGroupArn") or next(
                        (t.get("arn") for t in ((a.get("forward") or {}).get("targetGroups") or [])
                         if t.get("weight", 1)), None)
                    return rule, self.m.find(arn, *TARGET_GROUP) if arn else None
        return None, None

    def task_of(self, tg):
        for svc in self.of(SERVICE):
            for lbc in self.get(svc, "loadBalancers") or []:
                if self.m.find(lbc.get("targetGroupArn"), *TARGET_GROUP) is tg:
                    return self.m.ref(svc, "taskDefinition", TASK)
        return None

    def container_env(self, tg):
        for svc in self.of(SERVICE):
            for lbc in self.get(svc, "loadBalancers") or []:
                if self.m.find(lbc.get("targetGroupArn"), *TARGET_GROUP) is tg:
                    task = self.m.ref(svc, "taskDefinition", TASK)
                    if task in (None, Unknown):
                        return Unknown
                    defs = loads(self.get(task, "containerDefinitions"))
                    if is_unknown(defs) or not isinstance(defs, list):
                        return Unknown
                    return {e["name"]: e["value"] for c in defs for e in c.get("environment") or []}
        return None

    def csp_sources(self) -> Any:
        for pol in self.of(HEADERS_POLICY):
            csp = ((self.get(pol, "securityHeadersConfig") or {}).get("contentSecurityPolicy") or {}).get(
                "contentSecurityPolicy")
            if is_unknown(csp):
                return Unknown
            if isinstance(csp, str):
                for directive in csp.split(";"):
                    words = directive.split()
                    if words and words[0] == "connect-src":
                        return words[1:]
        return None

    # ------------------------------------------------------------------ hops
    def cloudfront_hop(self, host) -> Hop:
        sources = self.csp_sources()
        if sources is Unknown:
            return _hop("CloudFront", Verdict(None, "the site's CSP is unknown until apply"), "csp")
        if sources is None:
            return _hop("CloudFront", Verdict(False, "the site's response headers carry no CSP connect-src"), "csp")
        if is_unknown(host):
            return _hop("CloudFront", Verdict(None, "the host is unknown until apply"), "csp")
        ok = _host_allowed(sources, host)
        return _hop("CloudFront", Verdict(ok, f"the site's CSP connect-src {'admits' if ok else 'does not admit'} "
                                              f"https://{host}"), "csp")

    def api_host(self, stage) -> Any:
        url = self.get(stage, "invokeUrl")
        if is_unknown(url) or not isinstance(url, str):
            return Unknown
        return url.split("://", 1)[-1].split("/", 1)[0]

    def waf_hop(self, stage, request: waf.Request) -> Hop:
        acl = self.acl_of(stage)
        if acl is None:
            return _hop("WAF", Verdict(True, "no web ACL on the stage"), "waf-rules")
        if acl is Unknown:
            return _hop("WAF", Verdict(None, "the stage's web ACL is unknown until apply"), "waf-rules")
        v = waf.evaluate(self.m.state(acl), request)
        kind = "waf-rate" if request.per_window > 1 else "waf-body" if request.body_bytes > 16 * 1024 else "waf-rules"
        return _hop("WAF", v, kind)

    def blocked_reaches_user(self, api) -> Verdict:
        """A refusal by API Gateway or its WAF reaches the SPA as its status only if the gateway response carries
        the CORS headers (else the browser reports a CORS error)."""
        for r in self.of(GATEWAY_RESPONSE):
            if self.m.ref(r, "restApiId", REST_API) is api and self.get(r, "responseType") == "DEFAULT_4XX":
                origin = (self.get(r, "responseParameters") or {}).get(
                    "gatewayresponse.header.Access-Control-Allow-Origin")
                if is_unknown(origin):
                    return Verdict(None, "the 4XX gateway response's allowed origin is unknown until apply")
                if origin:
                    return Verdict(True, f"the 4XX gateway response carries Access-Control-Allow-Origin {origin}")
        return Verdict(False, "no 4XX gateway response with CORS headers: the SPA sees a CORS error, not the status")

    def walk(self, name: str, description: str, service: str, path: str, *, body: int = 1024,
             content_type: str = "application/json", accept: str = "application/json", trips=(),
             per_window: int = 1, seconds: int = 10, streamed: bool = False, expect: str = "delivered") -> Journey:
        hops: list = []
        done = lambda: Journey(name, description, expect, hops)  # noqa: E731
        stage = self.stage()
        if stage is None:
            hops.append(_hop("API Gateway", Verdict(False, "no REST API stage in the plan"), "vpc-link"))
            return done()
        api = self.api(stage)
        hops.append(self.cloudfront_hop(self.api_host(stage)))
        stage_name = self.get(stage, "stageName")
        request = waf.Request(path=f"/{stage_name}{path}", body_bytes=body, trips=frozenset(trips),
                              per_window=per_window)
        for hop in (lambda: self.waf_hop(stage, request),
                    lambda: self.apigw_hop(api, stage, path, body, content_type, accept, per_window, seconds,
                                           streamed)):
            hops.append(hop())
            if hops[-1].verdict.allowed is False:
                journey = done()
                journey.reaches_user = reach = self.blocked_reaches_user(api)
                hops[-1].verdict = Verdict(False, f"{hops[-1].verdict.reason}; {reach.reason}")
                return journey
        _, integ = self.route(api, path)
        lb = self.alb(integ)
        hops.append(self.vpc_link_hop(integ, lb))
        if lb in (None, Unknown):
            return done()
        timeout_s = (self.get(integ, "timeoutMilliseconds") or 29_000) / 1000
        idle = self.get(lb, "idleTimeout")
        if is_unknown(idle):
            hops.append(_hop("load balancer", Verdict(None, "idle timeout unknown until apply"), "alb-idle"))
        else:
            idle = int(idle or 60)
            ok = idle >= timeout_s
            hops.append(_hop("load balancer", Verdict(ok, (
                f"idle timeout {idle} s covers the route's {timeout_s:g} s" if ok else
                f"idle timeout {idle} s is shorter than the route's {timeout_s:g} s: a wait without a byte past "
                f"{idle} s is cut (504)")), "alb-idle"))
            if not ok:
                return done()
        rule, tg = self.forward(lb, path)
        if tg in (None, Unknown):
            hops.append(_hop("target group", Verdict(None if tg is Unknown else False,
                                                     f"no listener rule forwards {path}"), "tg-deregistration"))
            return done()
        delay = int(self.get(tg, "deregistrationDelay") or 300)
        ok = delay >= seconds
        hops.append(_hop("target group", Verdict(ok, (
            f"{rule.name} forwards to {tg.name}; deregistration delay {delay} s lets a {seconds} s request finish "
            f"during a release" if ok else f"{tg.name}: deregistration delay {delay} s cuts a {seconds} s request "
                                           f"in flight at every release")), "tg-deregistration"))
        if not ok:
            return done()
        hops.append(self.container_hop(tg, idle, seconds, streamed))
        if per_window > 1 and hops[-1].verdict.allowed is True:
            hops[-1] = self.scaling_hop(tg, hops[-1])
        return done()

    def scaling_hop(self, tg, hop: Hop) -> Hop:
        """A burst is absorbed by scaling on requests per target (CPU stays low while tasks wait on a model)."""
        suffix = self.get(tg, "arnSuffix")
        for pol in self.of("aws:appautoscaling/policy:Policy"):
            spec = (self.get(pol, "targetTrackingScalingPolicyConfiguration") or {}).get(
                "predefinedMetricSpecification") or {}
            label = spec.get("resourceLabel")
            if spec.get("predefinedMetricType") == "ALBRequestCountPerTarget" and isinstance(label, str) \
                    and isinstance(suffix, str) and label.endswith("/" + suffix):
                target = (self.get(pol, "targetTrackingScalingPolicyConfiguration") or {}).get("targetValue")
                return _hop("container", Verdict(True, f"{hop.verdict.reason}; scales on requests per task "
                                                       f"(target {target:g} a minute)"), "alb-idle")
        if is_unknown(suffix):
            return _hop("container", Verdict(None, "target group unknown until apply"), "alb-idle")
        return _hop("container", Verdict(False, f"{hop.verdict.reason}; but no scaling on requests per target: "
                                                "the burst waits for CPU scaling, which tasks waiting on a model "
                                                "never trigger"), "alb-idle")

    def apigw_hop(self, api, stage, path, body, content_type, accept, per_window, seconds, streamed) -> Hop:
        resource, integ = self.route(api, path)
        if integ is None:
            ids = [self.get(api, "rootResourceId")] + [self.get(r, k) for r in self.of(RESOURCE)
                                                        for k in ("id", "parentId")]
            if any(is_unknown(i) for i in ids):
                return _hop("API Gateway", Verdict(None, "the API's resources are unknown until apply"), "vpc-link")
            return _hop("API Gateway", Verdict(False, f"no integration serves {path}"), "vpc-link")
        mode = self.get(integ, "responseTransferMode") or "BUFFERED"
        timeout = self.get(integ, "timeoutMilliseconds") or 29_000
        if is_unknown(mode) or is_unknown(timeout):
            return _hop("API Gateway", Verdict(None, "integration settings unknown until apply"), "apigw-stream")
        where = f"{resource} ({mode}, {timeout / 1000:g} s)"
        if body > LIMITS["apigw-payload"].value:
            return _hop("API Gateway", Verdict(False, f"{where}: a {body / MB:g} MB body is over the 10 MB payload "
                                                      "quota (413)"), "apigw-payload")
        if seconds * 1000 > timeout:
            return _hop("API Gateway", Verdict(False, f"{where}: a {seconds} s answer outlives the integration "
                                                      f"timeout (504)"), "apigw-stream" if streamed else
                        "apigw-buffered-timeout")
        if streamed and mode != "STREAM":
            return _hop("API Gateway", Verdict(False, f"{where}: the answer is buffered, not streamed: nothing "
                                                      "reaches the user before the end"), "apigw-stream")
        binary = self.get(api, "binaryMediaTypes") or []
        for kind, ctype in (("request", content_type), ("response", accept)):
            if ctype.startswith(("application/json", "text/")) or mode == "STREAM" and kind == "response":
                continue
            if not any(fnmatch.fnmatchcase(ctype, t) for t in binary):
                return _hop("API Gateway", Verdict(False, f"{where}: {ctype} is not in binaryMediaTypes: the "
                                                          f"{kind} body is converted to UTF-8 text (corrupted)"),
                            "apigw-binary")
        throttle = self.throttle(stage)
        if per_window > 1:
            if throttle is None:
                return _hop("API Gateway", Verdict(None, "stage throttling unknown"), "apigw-throttle")
            burst = throttle
            ok = per_window <= burst
            return _hop("API Gateway", Verdict(ok, f"{where}: {per_window} requests at once "
                                                   f"{'fit' if ok else 'exceed'} the stage's burst of {burst} "
                                                   f"{'' if ok else '(429)'}"), "apigw-throttle")
        notes = [f"{body / MB:.2g} MB body" if body >= MB else f"{body} B body"]
        if content_type not in ("application/json",) and not content_type.startswith("text/"):
            notes.append(f"{content_type} passed as bytes")
        return _hop("API Gateway", Verdict(True, f"{where}: {', '.join(notes)} within the limits"),
                    "apigw-stream" if mode == "STREAM" else "apigw-payload" if body >= MB else "apigw-buffered-timeout")

    def throttle(self, stage):
        for ms in self.of(METHOD_SETTINGS):
            if self.m.ref(ms, "restApi", REST_API) is self.api(stage):
                s = self.get(ms, "settings") or {}
                if s.get("throttlingBurstLimit") is not None:
                    return min(int(s["throttlingBurstLimit"]), int(LIMITS["apigw-throttle"].value))  # type: ignore[call-overload]
        return LIMITS["apigw-throttle"].value

    def vpc_link_hop(self, integ, lb) -> Hop:
        if integ is None:
            return _hop("VPC link", Verdict(False, "no integration"), "vpc-link")
        conn = (self.get(integ, "connectionType") or "INTERNET").upper()
        if conn != "VPC_LINK":
            return _hop("VPC link", Verdict(False, f"the integration is {conn}, not private"), "vpc-link")
        if lb is Unknown:
            return _hop("VPC link", Verdict(None, "integration target unknown until apply"), "vpc-link")
        if lb is None:
            return _hop("VPC link", Verdict(False, "the integration targets no load balancer of the plan"), "vpc-link")
        return _hop("VPC link", Verdict(True, f"private integration over the VPC link to {lb.name}"), "vpc-link")

    def container_hop(self, tg, idle: int, seconds: int, streamed: bool) -> Hop:
        env = self.container_env(tg)
        if env is Unknown:
            return _hop("container", Verdict(None, "the task definition is unknown until apply"), "alb-idle")
        if env is None:
            return _hop("container", Verdict(False, f"no ECS service registers in {tg.name}"), "alb-idle")
        problems = []
        keep = env.get("KEEPALIVE_TIMEOUT_SECONDS")
        if keep is None or int(keep) <= idle:
            problems.append(f"keep-alive {keep or 'unset'} s not above the ALB's idle {idle} s (502 on reuse)")
        if int(env.get("REQUEST_TIMEOUT_SECONDS") or 29) < seconds:
            problems.append(f"REQUEST_TIMEOUT_SECONDS {env.get('REQUEST_TIMEOUT_SECONDS')} < {seconds}")
        if streamed and env.get("RESPONSE_MODE") != "STREAM":
            problems.append("RESPONSE_MODE is not STREAM")
        if problems:
            return _hop("container", Verdict(False, "; ".join(problems)), "alb-idle")
        return _hop("container", Verdict(True, f"told to serve {seconds} s{' streamed' if streamed else ''}, "
                                               f"keep-alive {keep} s > idle {idle} s"), "alb-idle")

    # ------------------------------------------------------------------ direct uploads
    def site_origin(self):
        for d in self.of(DISTRIBUTION):
            aliases = self.get(d, "aliases") or []
            if aliases and not is_unknown(aliases):
                return f"https://{aliases[0]}"
            domain = self.get(d, "domainName")
            return Unknown if is_unknown(domain) or not domain else f"https://{domain}"
        return None

    def upload(self, name: str, description: str, service: str, size: int) -> Journey:
        """A document straight to S3: the SPA asks the owning service to start a multipart upload (through the
        API), PUTs the presigned parts to the bucket, and the service completes it and announces it."""
        start = self.walk(name, description, service, f"/{service}/uploads", body=512)
        hops, journey = start.hops, start
        if journey.outcome is not True:
            return journey
        _, tg = self.forward(self.alb(self.route(self.api(self.stage()), f"/{service}/uploads")[1]),
                             f"/{service}/uploads")
        env = self.container_env(tg)
        arns = sorted(v for k, v in env.items() if k.startswith("UPLOADS_") and k.endswith("_ARN"))
        if not arns:
            hops.append(_hop("S3", Verdict(False, f"{service} issues no direct uploads (its contract names no "
                                                  "uploads bucket)"), "s3-presign"))
            return journey
        bucket = self.m.bucket(arns[0])
        if bucket in (None, Unknown):
            hops.append(_hop("S3", Verdict(None if bucket is Unknown else False, f"no bucket {arns[0]}"), "s3-cors"))
            return journey
        name_ = self.m.bucket_name(bucket)
        host = f"{name_}.s3.{self.region}.amazonaws.com"
        csp = self.cloudfront_hop(host)
        hops[0] = _hop("CloudFront", Verdict(
            csp.verdict.allowed if hops[0].verdict.allowed is True else hops[0].verdict.allowed,
            f"{hops[0].verdict.reason}; {csp.verdict.reason}"), "csp")
        # IAM: the presigned part uploads act as the service's task role (S3 and the bucket's key)
        task = self.task_of(tg)
        role = self.m.role_by_arn(self.get(task, "taskRoleArn")) if task not in (None, Unknown) else Unknown
        barn = self.m.arn(bucket)
        prefix = env.get("UPLOAD_PREFIX", "uploads/")
        obj = f"{barn}/{prefix}journey/document.pdf"
        checks = [self.ck.role_can(role, a, obj) for a in ("s3:PutObject", "s3:AbortMultipartUpload")]
        algo, key_ref, bucket_key = self.m.bucket_sse(bucket)
        if algo == "aws:kms" and isinstance(role, Role):
            checks.append(self.ck.kms_use(role.principal(), key_ref, ["kms:GenerateDataKey", "kms:Decrypt"], {
                "kms:ViaService": f"s3.{self.region}.amazonaws.com", "kms:CallerAccount": self.m.account,
                "kms:EncryptionContext:aws:s3:arn": barn if bucket_key else obj}, role=role))
        bad = next((c for c in checks if c.allowed is not True), None)
        hops.append(_hop("IAM", bad or Verdict(True, f"{service}'s task role may create, upload and complete "
                                                     f"parts under {prefix} (and use the bucket's key)"),
                         "s3-presign"))
        if bad is not None:
            return journey
        # S3: CORS for the site's origin, PUT, ETag exposed; the parts within S3's multipart limits
        origin = self.site_origin()
        cors = [c for c in self.of(CORS) if self.m.ref(c, "bucket") is bucket or self.get(c, "bucket") == name_]
        if origin is Unknown or any(is_unknown(self.get(c, "corsRules")) for c in cors):
            hops.append(_hop("S3", Verdict(None, "the site's origin is unknown until apply"), "s3-cors"))
            return journey
        rules = [r for c in cors for r in self.get(c, "corsRules") or []
                 if origin in (r.get("allowedOrigins") or []) and "PUT" in (r.get("allowedMethods") or [])]
        if not rules:
            hops.append(_hop("S3", Verdict(False, f"no CORS rule of {name_} admits PUT from {origin}: the browser "
                                                  "refuses the upload"), "s3-cors"))
            return journey
        if not any("ETag" in (r.get("exposeHeaders") or []) for r in rules):
            hops.append(_hop("S3", Verdict(False, f"{name_}'s CORS rule does not expose ETag: the SPA cannot "
                                                  "report the parts to complete the upload"), "s3-cors"))
            return journey
        part = int(env.get("UPLOAD_PART_SIZE_MB") or 0) * MB
        low, most = cast(tuple[int, int], LIMITS["s3-multipart"].value)  # (minimum part size, most parts)
        parts = -(-size // part) if part else 0
        ok = part >= low and parts <= most and part <= cast(int, LIMITS["s3-put"].value)
        hops.append(_hop("S3", Verdict(ok, (
            f"CORS admits PUT from {origin} and exposes ETag; {size / MB:g} MB in {parts} parts of "
            f"{part // MB} MiB" if ok else f"{size / MB:g} MB in parts of {part // MB} MiB: {parts} parts "
            f"(S3: 5 MiB - 5 GiB each, at most 10,000)")), "s3-multipart"))
        if not ok:
            return journey
        # processing: the service announces the completed upload; a bus rule feeds the queue it consumes
        hops.append(self.processing_hop(role, env))
        return journey

    def processing_hop(self, role, env) -> Hop:
        bus = env.get("EVENT_BUS_ARN")
        queues = {v for k, v in env.items() if k.startswith("QUEUE_") and k.endswith("_ARN")}
        if not bus:
            return _hop("processing", Verdict(False, "the service may not publish on the platform bus"), "s3-presign")
        can = self.ck.role_can(role, "events:PutEvents", bus, {"events:detail-type": "DocumentUploaded",
                                                              "events:source": "ai-platform.documents"})
        if can.allowed is not True:
            return _hop("processing", can, "s3-presign")
        for rule in self.of(EVENT_RULE):
            pattern = loads(self.get(rule, "eventPattern"))
            if not isinstance(pattern, dict) or "DocumentUploaded" not in (pattern.get("detail-type") or []):
                continue
            for t in self.of(EVENT_TARGET):
                if self.m.ref(t, "rule", EVENT_RULE) is rule and self.get(t, "arn") in queues:
                    return _hop("processing", Verdict(True, f"DocumentUploaded -> rule {rule.name} -> the queue the "
                                                            "service consumes"), "s3-presign")
        return _hop("processing", Verdict(False, "no bus rule sends DocumentUploaded to a queue the service "
                                                 "consumes"), "s3-presign")

    # ------------------------------------------------------------------ the catalogue
    def build(self) -> list[Journey]:
        j = [
            self.walk("streamed-answer-conversational", "a 3-minute streamed answer from conversational",
                      "conversational", "/conversational/chat", seconds=180, streamed=True,
                      accept="text/event-stream"),
            self.walk("streamed-answer-code", "a 3-minute streamed answer from code", "code", "/code/complete",
                      seconds=180, streamed=True, accept="text/event-stream"),
            self.walk("image-roundtrip-5mb", "a 5 MB PNG to format-conversion and a 5 MB image back",
                      "format-conversion", "/format-conversion/convert", body=5 * MB, content_type="image/png",
                      accept="image/png", seconds=20),
            self.walk("prompt-with-script-and-dotdot", "a question to code containing <script> and ../",
                      "code", "/code/complete", body=4096, trips=("CrossSiteScripting_BODY", "GenericLFI_BODY"),
                      seconds=60, streamed=True, accept="text/event-stream"),
            self.walk("script-body-to-search-blocked", "the same body to search (not a prompts route): "
                      "blocked, and the 403 reaches the SPA", "search", "/search/query", body=4096,
                      trips=("CrossSiteScripting_BODY", "GenericLFI_BODY"), expect="blocked"),
            self.walk("burst-100-one-user", "100 requests at once from one user to code", "code", "/code/complete",
                      per_window=100, seconds=30, streamed=True, accept="text/event-stream"),
            self.upload("pdf-upload-200mb", "a 200 MB PDF straight to S3: presigned multipart parts issued and "
                        "completed by document-extraction", "document-extraction", 200 * MB),
            self.walk("document-200mb-through-api-refused", "a 200 MB PDF posted through the API: refused with "
                      "413 (documents go straight to S3)", "document-extraction", "/document-extraction/documents",
                      body=200 * MB, content_type="application/pdf", expect="blocked"),
        ]
        return j


def build_journeys(plan) -> list[Journey]:
    return Journeys(plan).build()


def to_json(journeys, stack: str, mode: str) -> dict:
    c = {"pass": 0, "fail": 0, "undecidable": 0}
    for j in journeys:
        c[j.verdict] += 1
    return {"stack": stack, "mode": mode, "journeys": [j.to_json() for j in journeys],
            "summary": {"journeys": len(journeys), **c,
                        "promisedBroken": sum(1 for j in journeys if j.promised and j.verdict != "pass")}}


__all__ = ["Journey", "Hop", "build_journeys", "to_json", "HOPS"]
