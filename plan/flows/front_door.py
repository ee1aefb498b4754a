"""The front door: API -> load balancer -> services, and the internet kept out of both."""
from __future__ import annotations

from .common import APP_KEY, FlowHost
from .iam import Unknown, Verdict, is_unknown
from .model import loads


class FrontDoorFlows(FlowHost):
    """Mixed into catalogue.Catalogue (self.m model, self.ck checker, self.add)."""

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
            region = m.region_of(lb)
            # the DR region's load balancer has the primary's name: labelled with its region (as DR services are)
            lb_name = (m.get(lb, "name") or lb.name) + ("" if region == self.primary else f" (DR {region})")
            lb_sgs = m.get(lb, "securityGroups") or []
            internal = m.get(lb, "internal")
            listeners = self.listeners(lb)
            forwards: list[tuple] = []   # (listener, port, rule-or-None, tg arn, headers)
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
        self.api_entry()
        self.site_origins()
        self.api_dns()
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
                        if (m.get(i, "type") or m.get(i, "integrationType") or "").upper() in ("HTTP", "HTTP_PROXY")
                        and m.region_of(i) == m.region_of(lb)]   # an API fronts its own region's load balancer
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
                reachable = [f for f in forwards if all(str(h).lower() in have for h in f[4])]
                missing = sorted({h for f in forwards for h in f[4] if str(h).lower() not in have})
                checks.append(("routing", Verdict(True, f"{len(reachable)} forwarding rule(s) match the headers the "
                                                        "integration sends") if reachable else
                               Verdict(False, f"every forwarding rule requires a header the integration does not set "
                                              f"({', '.join(missing)})")))
            path = m.get(integ, "httpMethod") or ""
            self.add(f"API {integ.name}", f"load balancer {lb_name}", f"{path} proxy", "allow", checks, "front-door")

    # ------------------------------------------------------------------ the APIs, the site's origins, DNS
    def _label(self, r) -> str:
        region = self.m.region_of(r)
        return "" if region == self.primary else f" (DR {region})"

    def api_entry(self):
        """internet -> each REST stage: public endpoint, the region's WAF web ACL on the stage, every method but
        the CORS preflight behind the authorizer. In both regions: the DR API is the DR region's only way in."""
        m = self.m
        associations = m.of_type("aws:wafv2/webAclAssociation:WebAclAssociation")
        methods = m.of_type("aws:apigateway/method:Method")
        for stage in m.of_type("aws:apigateway/stage:Stage"):
            api = m.ref(stage, "restApi", "aws:apigateway/restApi:RestApi")
            if api in (None, Unknown):
                continue
            types = m.get(api, "endpointConfiguration") or {}
            types = types.get("types") if isinstance(types, dict) else types
            types = [types] if isinstance(types, str) else list(types or ["EDGE"])
            checks = [("endpoint", Verdict(False, "private endpoint: not reachable from the internet")
                       if "PRIVATE" in types else Verdict(True, f"{'/'.join(types)} endpoint"))]
            acl = None
            for a in associations:
                if m.dep(a, "resourceArn") is stage or (m.arn(stage) and m.get(a, "resourceArn") == m.arn(stage)):
                    acl = m.ref(a, "webAclArn", "aws:wafv2/webAcl:WebAcl")
            if acl in (None, Unknown):
                checks.append(("web ACL", Verdict(None if acl is Unknown else False,
                                                  "web ACL unknown until apply" if acl is Unknown
                                                  else "no web ACL associated with the stage")))
            else:
                scoped = m.get(acl, "scope") == "REGIONAL" and m.region_of(acl) == m.region_of(stage)
                checks.append(("web ACL", Verdict(scoped, f"{m.get(acl, 'name')} (REGIONAL, {m.region_of(acl)})"
                                                  if scoped else f"{m.get(acl, 'name')} is not a REGIONAL ACL of the "
                                                                 f"stage's region")))
            mine = [x for x in methods if m.ref(x, "restApi", "aws:apigateway/restApi:RestApi") is api
                    and m.get(x, "httpMethod") != "OPTIONS"]
            open_ = [x.name for x in mine if m.get(x, "authorization") not in ("COGNITO_USER_POOLS", "AWS_IAM", "CUSTOM")]
            checks.append(("authorizer", Verdict(bool(mine) and not open_,
                                                 f"{len(mine)} method(s) authorized" if mine and not open_ else
                                                 f"{', '.join(open_)} without an authorizer" if open_ else "no method")))
            self.add("internet", f"API {m.get(api, 'name')} stage {m.get(stage, 'stageName')}{self._label(stage)}",
                     "HTTPS request through the web ACL and the authorizer", "allow", checks, "front-door")

    def site_origins(self):
        """CloudFront -> every S3 origin of the site (the primary bucket and, in the origin group, the DR replica):
        Origin Access Control on the origin, and the bucket's policy admitting exactly this distribution."""
        m = self.m
        policies = m.of_type("aws:s3/bucketPolicy:BucketPolicy")
        for dist in m.of_type("aws:cloudfront/distribution:Distribution"):
            dist_arn = m.arn(dist)
            groups = {g.get("originId"): [x.get("originId") for x in (g.get("members") or [])]
                      for g in m.get(dist, "originGroups") or []}
            for origin in m.get(dist, "origins") or []:
                domain = origin.get("domainName")
                if not isinstance(domain, str) or ".s3." not in domain:
                    continue
                bucket_name = domain.split(".s3.")[0]
                region = domain.split(".s3.")[1].split(".")[0]
                role = next((f"origin group {g} member {members.index(origin.get('originId')) + 1}"
                             for g, members in groups.items() if origin.get("originId") in members), "origin")
                checks = [("origin access control", Verdict(bool(origin.get("originAccessControlId")),
                                                            "signed with OAC" if origin.get("originAccessControlId")
                                                            else "no OAC: CloudFront reads anonymously"))]
                docs = [m.get(pol, "policy") for pol in policies if m.get(pol, "bucket") == bucket_name]
                if any(is_unknown(d) for d in docs) or is_unknown(dist_arn):
                    checks.append(("bucket policy", Verdict(None, "policy unknown until apply")))
                else:
                    checks.append(("bucket policy", _admits(docs, dist_arn)))
                target = f"site bucket {bucket_name}" + ("" if region == self.primary else f" (DR {region})")
                self.add(f"CloudFront {m.get(dist, 'comment') or dist.name}", target, f"s3:GetObject ({role})", "allow",
                         checks, "front-door")

    def api_dns(self):
        """Route 53 failover records move the API's name between the regions' API custom domains: never onto a
        load balancer (internal: unreachable, and it would bypass the API's WAF and authorizer)."""
        m = self.m
        domains = {m.get(d, "regionalDomainName"): d for d in m.of_type("aws:apigateway/domainName:DomainName")}
        lbs = {m.get(lb, "dnsName"): lb for lb in self.albs()}
        for rec in m.of_type("aws:route53/record:Record"):
            policy = (m.get(rec, "failoverRoutingPolicies") or [{}])[0].get("type")
            if not policy:
                continue
            alias = (m.get(rec, "aliases") or [{}])[0].get("name")
            if is_unknown(alias):
                v = Verdict(None, "alias target unknown until apply")
            elif alias in domains:
                d = domains[alias]
                v = Verdict(True, f"API custom domain {m.get(d, 'domainName')} in {m.region_of(d)}")
            elif alias in lbs:
                v = Verdict(False, f"load balancer {m.get(lbs[alias], 'name')}{self._label(lbs[alias])}: the record "
                                   "bypasses the API")
            else:
                v = Verdict(False, f"{alias} is not an API custom domain of the plan")
            self.add(f"DNS {m.get(rec, 'name')} ({policy})", "API custom domain", "alias (failover record)", "allow",
                     [("alias target", v)], "front-door")


def _admits(docs, dist_arn) -> Verdict:
    """An Allow of s3:GetObject to cloudfront.amazonaws.com conditioned on this distribution's ARN."""
    import json
    for doc in docs:
        try:
            statements = json.loads(doc).get("Statement") if isinstance(doc, str) else (doc or {}).get("Statement")
        except ValueError:
            continue
        for st in statements or []:
            principal = (st.get("Principal") or {}) if isinstance(st.get("Principal"), dict) else {}
            actions = st.get("Action")
            actions = [actions] if isinstance(actions, str) else actions or []
            source = ((st.get("Condition") or {}).get("StringEquals") or {}).get("AWS:SourceArn")
            if st.get("Effect") == "Allow" and principal.get("Service") == "cloudfront.amazonaws.com" \
                    and "s3:GetObject" in actions and source == dist_arn:
                return Verdict(True, "admits this distribution (AWS:SourceArn)")
    return Verdict(False, "no statement lets this distribution read the objects" if docs else "no bucket policy")
