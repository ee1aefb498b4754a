"""The front door: API -> load balancer -> services, and the internet kept out of both."""
from __future__ import annotations

from .common import APP_KEY
from .iam import Unknown, Verdict, is_unknown
from .model import loads


class FrontDoorFlows:
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
